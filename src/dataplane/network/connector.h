#pragma once

#include <chrono>

#include "dataplane/network/address.h"
#include "dataplane/network/unique_fd.h"

struct event;
struct event_base;

namespace braid::dataplane::network {

// One non-blocking TCP connect with a deadline. Loop thread only; destroying it abandons the
// attempt (closing the socket).
class Connector {
 public:
  enum class Result { kConnected, kFailed, kTimedOut };

  class Handler {
   public:
    // `socket` is the connected socket for kConnected; `error` the errno for kFailed.
    virtual void onConnectResult(Result result, UniqueFd socket, int error) = 0;

   protected:
    ~Handler() = default;
  };

  Connector(event_base* base, Handler& handler);
  ~Connector();
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  // Starts connecting. Returns 0 when the result will be reported to the handler later, or the
  // errno of a connect that failed at once (nothing is reported then).
  int start(const ResolvedAddress& address, std::chrono::milliseconds timeout);
  bool inProgress() const { return socket_.valid(); }

 private:
  static void onEvent(int fd, short what, void* arg);

  event_base* base_;
  Handler& handler_;
  UniqueFd socket_;
  struct event* event_ = nullptr;
};

}  // namespace braid::dataplane::network
