#pragma once

// An incremental, strict HTTP/1.1 request parser (RFC 9110/9112) with no I/O: feed() the bytes as
// they arrive, then call next() until it asks for more. Requests may be pipelined: after one is
// complete, next() goes on with the bytes that follow it.
//
// Strict means anything a lenient parser upstream or downstream could read differently is refused
// (request smuggling): bare CR or LF, obs-fold, control bytes in values, Content-Length that is not
// plain digits or is repeated, Content-Length together with Transfer-Encoding, any transfer coding
// but "chunked", malformed chunk lines. docs/adr/0003-http-server.md lists every rule. An error is
// final: the parser stays in the error state, and the connection must be closed after answering
// error().status.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/headers.h"
#include "common/http/http1_codec.h"

namespace braid::http {

struct ParserLimits {
  size_t maxHeaderBytes = 60 * 1024;  // request line + header section; separately, the trailers
  size_t maxHeaders = 100;            // header fields; separately, trailer fields
  size_t maxBodyBytes = 8 * 1024 * 1024;
};

struct ParsedRequest {
  std::string method;
  std::string target;    // as sent: "/path?query" or "*"
  int minorVersion = 1;  // HTTP/1.<minorVersion>: 0 or 1
  Headers headers;       // names lowercased, values without surrounding whitespace
  Headers trailers;      // after a chunked body
  std::string body;      // de-chunked
  bool chunked = false;
  uint64_t contentLength = 0;   // when not chunked
  bool keepAlive = true;        // HTTP/1.1 without "Connection: close", or HTTP/1.0 with keep-alive
  bool expectContinue = false;  // HTTP/1.1 "Expect: 100-continue"

  bool expectsBody() const { return chunked || contentLength > 0; }
};

struct ParseError {
  int status = 400;    // 400, 413, 414, 417, 431, 501 or 505
  std::string reason;  // short and safe to echo to the client
};

class RequestParser {
 public:
  enum class Event {
    kNeedMore,  // every buffered byte is used up: feed() more
    kHead,      // request() has a complete head (no body yet); the body, if any, comes next
    kRequest,   // a complete request: request() / takeRequest()
    kError,     // error() says why; final
  };

  explicit RequestParser(ParserLimits limits = {});

  // Appends bytes from the peer (ignored once in the error state).
  void feed(std::string_view bytes);
  // Parses as far as the buffered bytes allow. Every request yields kHead then kRequest.
  Event next();

  const ParsedRequest& request() const { return current_; }
  ParsedRequest takeRequest();
  const ParseError& error() const { return error_; }

  // Between requests with nothing buffered: closing the connection now loses nothing.
  bool idle() const { return !failed_ && codec_.idle() && pos_ == buffer_.size(); }
  // Some of a request's head has arrived but not all of it.
  bool readingHead() const {
    return !failed_ && !inMessage_ && (pos_ < buffer_.size() || !codec_.idle());
  }

 private:
  // The rules are the streaming codec's (one set for the CP and the sidecar); this class buffers
  // the body and adds the API server's own rule: no CONNECT.
  Event fail(int status, std::string reason);

  http1::Parser codec_;
  std::string buffer_;
  size_t pos_ = 0;  // first byte not yet consumed
  ParsedRequest current_;
  ParseError error_;
  bool inMessage_ = false;  // between kHead and kRequest
  bool failed_ = false;
};

}  // namespace braid::http
