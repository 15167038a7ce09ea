#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr_in;

namespace braid::bench {

// http://HOST:PORT/PATH with HOST an IPv4 literal: the benchmarks run on loopback, and a resolver
// would only add a way to fail.
struct Url {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
};
std::optional<Url> parseUrl(std::string_view text);
sockaddr_in socketAddress(const Url& url);
// The GET request sent for `url` on a keep-alive connection.
std::string getRequest(const Url& url);

struct ResponseHead {
  int status = 0;
  std::optional<uint64_t> contentLength;
  bool close = false;  // "Connection: close": the server ends the connection after this response
};
// Parses a response head, the blank line included. nullopt when it is not HTTP/1.x or has a body
// this client cannot delimit (chunked, or neither length nor chunked on a status that has a body).
std::optional<ResponseHead> parseResponseHead(std::string_view head);

// Reads one response after another off a keep-alive connection, bytes as they arrive. Body bytes
// are counted and dropped, never copied.
class ResponseReader {
 public:
  enum class Step { kNeedMore, kDone, kError };

  // Consumes the bytes of the current response at the front of `data`; `used` gets how many.
  // kDone: the response is complete (head() holds its head) and the reader is ready for the next.
  Step feed(std::string_view data, size_t& used);
  const ResponseHead& head() const { return head_; }
  uint64_t bodyBytes() const { return bodyBytes_; }
  const std::string& error() const { return error_; }
  void reset();

 private:
  std::string headBuffer_;
  bool inBody_ = false;
  uint64_t bodyLeft_ = 0;
  uint64_t bodyBytes_ = 0;
  ResponseHead head_;
  std::string error_;
};

}  // namespace braid::bench
