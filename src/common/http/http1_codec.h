#pragma once

// A strict, streaming HTTP/1.1 codec (RFC 9112) for proxies: requests and responses are parsed
// incrementally and their bodies handed out in pieces as they arrive, never buffered whole, so a
// proxy can forward a 1 GiB upload with bounded memory. The strictness rules are ADR 0003's
// (request smuggling): anything two parsers could read differently is an error, and an error is
// final (answer error().status, close the connection, forward nothing more).
//
// Parsing is zero-copy where it can be: next() consumes from the caller's input view and body()
// points into it, valid until the caller changes that buffer.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/headers.h"

namespace braid::http1 {

using Headers = http::Headers;

struct Limits {
  size_t maxHeaderBytes = 60 * 1024;  // start line + header section (and, separately, trailers)
  size_t maxHeaders = 100;            // fields in the header section (and, separately, trailers)
  // Body bytes (Content-Length, or the sum of the chunks) → 413 for requests, 502 for responses.
  // A proxy streams bodies, so none by default; the CP's API sets 8 MiB (ADR 0003).
  uint64_t maxBodyBytes = UINT64_MAX;
};

// What a message's head says. Requests fill method/target, responses status/reason.
struct MessageHead {
  std::string method;    // requests: as sent (case-sensitive token)
  std::string target;    // requests: origin-form "/p?q", "*" (OPTIONS), authority-form (CONNECT
                         // only); absolute-form is refused (ADR 0003)
  int status = 0;        // responses
  std::string reason;    // responses
  int minorVersion = 1;  // HTTP/1.<minorVersion>, 0 or 1
  Headers headers;       // names lower-cased, values trimmed, in order
  // Framing, as the parser decided it:
  bool chunked = false;                   // Transfer-Encoding: chunked (the only coding accepted)
  std::optional<uint64_t> contentLength;  // Content-Length, when not chunked
  bool keepAlive = true;                  // the connection may carry another message afterwards
  bool expectContinue = false;            // request with "Expect: 100-continue"
  bool upgrade = false;                   // request with Connection: upgrade + Upgrade, or CONNECT
};

struct ParseError {
  int status =
      400;  // what a server answers: 400, 413, 414, 417, 431, 501 or 505 (502 for responses)
  std::string reason;  // short, safe to log and to echo
};

class Parser {
 public:
  enum class Kind { kRequest, kResponse };
  enum class Event {
    kNeedMore,  // `input` is used up: call again with more bytes
    kHead,      // head() is complete; body events (if any) follow
    kBody,      // body() holds the next piece of the body (de-chunked)
    kTrailers,  // trailers() holds the trailer fields of a chunked body (only when there are some)
    kComplete,  // the message is complete; the next one may follow on the same input
    kUpgraded,  // the message switched protocols (101 response, CONNECT 2xx, or an upgrade
                // request whose response accepted it): everything after it is opaque bytes
    kError,     // error() says why; final
  };

  explicit Parser(Kind kind, Limits limits = {});

  // Parses from the front of `input`, removing what it consumed, up to the next event.
  Event next(std::string_view& input);

  const MessageHead& head() const { return head_; }
  // After kHead: moves the header fields out (head() keeps everything else, with no fields), so
  // a proxy forwards them without copying; the parser needs none of them for the body.
  Headers takeHeaders() { return std::move(head_.headers); }
  std::string_view body() const { return body_; }
  const Headers& trailers() const { return trailers_; }
  const ParseError& error() const { return error_; }

  // Responses only: the method of the request the next response answers (HEAD → no body; CONNECT
  // 2xx → upgraded). Call before the response's bytes are parsed.
  void expectResponseTo(std::string_view method);
  // Responses only: whether the client's request asked for an upgrade (so a 101 is valid).
  void expectUpgrade(bool requested);
  // Responses only: the peer closed the connection. Completes a close-delimited body (kComplete
  // from the next call to next()), or is an error when a message was cut short.
  void noteEof();

  // No message in progress and nothing consumed of the next one.
  bool idle() const;

 private:
  enum class State : uint8_t {
    kStartLine,     // request or status line
    kHeaderLine,    // field lines up to the empty line
    kBodyLength,    // Content-Length body: remaining_ bytes to come
    kBodyClose,     // response body delimited by the connection's close
    kChunkSize,     // chunk-size line
    kChunkData,     // remaining_ bytes of chunk data to come
    kChunkDataEnd,  // the CRLF after chunk data (remaining_: how many of its 2 bytes are left)
    kTrailerLine,   // trailer field lines up to the empty line
    kTrailersDone,  // trailers reported; kComplete next
    kMessageDone,   // message complete; kComplete next
    kUpgrade,       // head of a 101 / CONNECT 2xx reported; kUpgraded from now on
    kError,
  };
  enum class LineResult { kLine, kNeedMore, kError };

  Event fail(std::string reason, int status = 0);
  // Takes one CRLF-terminated line from `input` (or pending_ + `input`), refusing bare CR/LF and
  // lines longer than `limit` bytes including the CRLF, with `tooLongStatus`.
  LineResult takeLine(std::string_view& input, size_t limit, int tooLongStatus,
                      std::string_view& line);
  Event onLine(std::string_view line);
  Event onRequestLine(std::string_view line);
  Event onStatusLine(std::string_view line);
  Event onFieldLine(std::string_view line, bool trailer);
  Event onHeadComplete();
  struct FieldSummary;  // what onHeadComplete() found in the header fields
  Event onRequestHead(const FieldSummary& fields);
  Event onResponseHead(const FieldSummary& fields);
  // Sets chunked / contentLength from Content-Length and Transfer-Encoding; kNeedMore if valid.
  Event setFraming(const FieldSummary& fields);
  Event onChunkSize(std::string_view line);
  void finishMessage();

  Kind kind_;
  Limits limits_;
  MessageHead head_;
  std::string_view body_;
  Headers trailers_;
  ParseError error_;
  std::string pending_;  // a start line, field line or chunk line split across inputs
  State state_ = State::kStartLine;
  uint64_t remaining_ = 0;   // body or chunk bytes still to come
  uint64_t bodyBytes_ = 0;   // body bytes announced so far (chunked: the sum of the chunk sizes)
  size_t sectionBytes_ = 0;  // bytes of the head (or trailer section) so far
  size_t sectionFields_ = 0;
  std::string nextMethod_;  // responses: the request's method
  bool upgradeRequested_ = false;
  bool eof_ = false;
};

// Serialisation. Header values and names are written as given; callers pass names they own
// (hop-by-hop headers already removed by the proxy).
void appendRequestHead(const MessageHead& head, std::string& out);
void appendResponseHead(const MessageHead& head, std::string& out);
// One chunk of a chunked body ("<hex>\r\n<data>\r\n"); empty data writes nothing.
void appendChunk(std::string_view data, std::string& out);
// The last chunk and the trailers ("0\r\n<trailers>\r\n").
void appendLastChunk(const Headers& trailers, std::string& out);

}  // namespace braid::http1
