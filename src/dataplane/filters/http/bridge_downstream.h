#pragma once

// What an Http2Bridge (h2_bridge.h) writes its HTTP/1.1 response through: the HTTP/1.1
// connection manager's downstream connection. Kept apart so http_connection.h need not include
// the HTTP/2 manager's headers.

#include <cstddef>
#include <string_view>

namespace braid::dataplane::hcm {

class BridgeDownstream {
 public:
  // Appends response bytes to the caller's connection and writes what it can.
  virtual void bridgeWrite(std::string_view bytes) = 0;
  virtual size_t bridgeBuffered() const = 0;
  // n request body bytes were passed on (flow control: the caller may send more).
  virtual void bridgeConsumed(size_t n) = 0;
  // The response is over: whole (`clean`), or cut short. Never destroy the bridge inside: it
  // may be in the middle of its own call.
  virtual void bridgeDone(bool clean) = 0;

 protected:
  ~BridgeDownstream() = default;
};

}  // namespace braid::dataplane::hcm
