// The codec's rules for a message head (ADR 0003): start lines, field lines, and the framing the
// header fields decide. Also the serialisation functions.
#include <charconv>
#include <utility>

#include "common/http/http1_codec.h"
#include "common/http/http1_syntax.h"

namespace braid::http1 {

using syntax::equalsIgnoreCase;

struct Parser::FieldSummary {
  int hosts = 0;
  int lengths = 0;
  int encodings = 0;
  int expects = 0;
  int upgrades = 0;
  std::string_view host;
  std::string_view length;
  std::string_view encoding;
  std::string_view expect;
  bool close = false;          // Connection: close
  bool keepAlive = false;      // Connection: keep-alive
  bool upgradeOption = false;  // Connection: upgrade
};

namespace {

// "HTTP/1.0" or "HTTP/1.1" → 0 or 1; another well-formed "HTTP/d.d" → -2; anything else → -1.
int parseVersion(std::string_view version) {
  if (version == "HTTP/1.1") return 1;
  if (version == "HTTP/1.0") return 0;
  if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
      version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
    return -2;
  }
  return -1;
}

}  // namespace

// Room for the fields of a typical message, so the list is allocated once rather than doubling.
constexpr size_t kExpectedFields = 12;

Parser::Event Parser::onRequestLine(std::string_view line) {
  head_ = MessageHead{};
  head_.headers.reserve(kExpectedFields);
  trailers_.clear();
  if (line.empty()) return fail("empty line before the request line");
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail("malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const int minor = parseVersion(line.substr(sp2 + 1));
  if (!syntax::isToken(method)) return fail("invalid method");
  if (minor == -2) return fail("HTTP version not supported", 505);
  if (minor < 0) return fail("malformed HTTP version");
  if (!syntax::isValidTarget(method, target)) return fail("invalid request target");
  head_.method = std::string(method);
  head_.target = std::string(target);
  head_.minorVersion = minor;
  state_ = State::kHeaderLine;
  sectionFields_ = 0;
  return Event::kNeedMore;
}

// status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]; the SP before an empty reason is
// often left out, and nothing can be read differently without it.
Parser::Event Parser::onStatusLine(std::string_view line) {
  head_ = MessageHead{};
  head_.headers.reserve(kExpectedFields);
  trailers_.clear();
  if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
    return fail("malformed status line");
  }
  const int minor = parseVersion(line.substr(0, 8));
  if (minor < 0) return fail("unsupported HTTP version in the status line");
  int status = 0;
  for (const char c : line.substr(9, 3)) {
    if (c < '0' || c > '9') return fail("malformed status code");
    status = status * 10 + (c - '0');
  }
  if (status < 100 || status > 599) return fail("status code out of range");
  const std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
  for (const char c : reason) {
    if (syntax::isCtl(static_cast<unsigned char>(c))) return fail("control byte in the reason");
  }
  head_.status = status;
  head_.reason = std::string(reason);
  head_.minorVersion = minor;
  state_ = State::kHeaderLine;
  sectionFields_ = 0;
  return Event::kNeedMore;
}

Parser::Event Parser::onFieldLine(std::string_view line, bool trailer) {
  if (syntax::isOws(line.front())) return fail("obsolete line folding");
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail("header line without a colon");
  const std::string_view name = line.substr(0, colon);
  if (!syntax::isToken(name)) return fail("invalid header name");
  const std::string_view value = syntax::trimOws(line.substr(colon + 1));
  for (const char c : value) {
    if (syntax::isCtl(static_cast<unsigned char>(c))) {
      return fail("control character in header value");
    }
  }
  if (++sectionFields_ > limits_.maxHeaders) return fail("too many header fields", 431);
  std::string lower = syntax::toLower(name);
  if (trailer) {
    if (lower == "content-length" || lower == "transfer-encoding" || lower == "host") {
      return fail("framing header in trailers");
    }
    trailers_.emplace_back(std::move(lower), std::string(value));
  } else {
    head_.headers.emplace_back(std::move(lower), std::string(value));
  }
  return Event::kNeedMore;
}

Parser::Event Parser::onHeadComplete() {
  FieldSummary fields;
  for (const auto& [name, value] : head_.headers) {
    if (name == "host") {
      ++fields.hosts;
      fields.host = value;
    } else if (name == "content-length") {
      ++fields.lengths;
      fields.length = value;
    } else if (name == "transfer-encoding") {
      ++fields.encodings;
      fields.encoding = value;
    } else if (name == "expect") {
      ++fields.expects;
      fields.expect = value;
    } else if (name == "upgrade") {
      ++fields.upgrades;
    } else if (name == "connection") {
      syntax::forEachListElement(value, [&](std::string_view option) {
        fields.close = fields.close || equalsIgnoreCase(option, "close");
        fields.keepAlive = fields.keepAlive || equalsIgnoreCase(option, "keep-alive");
        fields.upgradeOption = fields.upgradeOption || equalsIgnoreCase(option, "upgrade");
      });
    }
  }
  head_.keepAlive = !fields.close && (head_.minorVersion == 1 || fields.keepAlive);
  bodyBytes_ = 0;
  return kind_ == Kind::kRequest ? onRequestHead(fields) : onResponseHead(fields);
}

Parser::Event Parser::setFraming(const FieldSummary& fields) {
  if (fields.lengths > 1) return fail("repeated Content-Length");
  if (fields.encodings > 1) return fail("repeated Transfer-Encoding");
  if (fields.lengths > 0 && fields.encodings > 0) {
    return fail("both Content-Length and Transfer-Encoding");
  }
  if (fields.encodings > 0) {
    if (head_.minorVersion == 0) return fail("Transfer-Encoding in an HTTP/1.0 message");
    if (!equalsIgnoreCase(fields.encoding, "chunked")) {
      if (syntax::isCodingList(fields.encoding)) {
        return fail("only Transfer-Encoding: chunked is supported", 501);
      }
      return fail("malformed Transfer-Encoding");
    }
    head_.chunked = true;
    head_.contentLength.reset();
  } else if (fields.lengths > 0) {
    uint64_t length = 0;
    if (!syntax::parseDecimal(fields.length, length)) return fail("invalid Content-Length");
    if (length == UINT64_MAX) return fail("body too large", 413);  // saturated: past any limit
    head_.contentLength = length;
  } else {
    head_.contentLength = 0;
  }
  return Event::kNeedMore;
}

Parser::Event Parser::onRequestHead(const FieldSummary& fields) {
  const bool http11 = head_.minorVersion == 1;
  if (http11 && fields.hosts == 0) return fail("missing Host header");
  if (fields.hosts > 1) return fail("repeated Host header");
  if (!syntax::isValidHost(fields.host)) return fail("invalid Host header");
  if (setFraming(fields) == Event::kError) return Event::kError;
  if (head_.contentLength.value_or(0) > limits_.maxBodyBytes) return fail("body too large", 413);
  if (http11 && fields.expects > 0) {
    if (fields.expects > 1 || !equalsIgnoreCase(fields.expect, "100-continue")) {
      return fail("unsupported expectation", 417);
    }
    head_.expectContinue = true;
  }
  if (head_.method == "CONNECT") {
    // The bytes after a CONNECT head are the tunnel's; a body would make them ambiguous.
    if (head_.chunked || head_.contentLength.value_or(0) > 0) return fail("CONNECT with a body");
    head_.upgrade = true;
  } else {
    // RFC 9110 §7.8: Upgrade counts only when Connection lists it, and never in HTTP/1.0.
    head_.upgrade = http11 && fields.upgradeOption && fields.upgrades > 0;
  }
  if (head_.chunked) {
    state_ = State::kChunkSize;
  } else if (*head_.contentLength > 0) {
    remaining_ = *head_.contentLength;
    state_ = State::kBodyLength;
  } else {
    state_ = State::kMessageDone;
  }
  return Event::kHead;
}

// RFC 9112 §6.3, in order; every error is a 502 (fail() decides).
Parser::Event Parser::onResponseHead(const FieldSummary& fields) {
  if (setFraming(fields) == Event::kError) return Event::kError;
  const int status = head_.status;
  const bool announcesBody = head_.chunked || head_.contentLength.value_or(0) > 0;
  if (status == 101) {
    if (!upgradeRequested_) return fail("101 Switching Protocols without an upgrade request");
    state_ = State::kUpgrade;
    return Event::kHead;
  }
  if (nextMethod_ == "CONNECT" && status >= 200 && status < 300) {
    // The tunnel is open: Content-Length and Transfer-Encoding mean nothing here (RFC 9110 §9.3.6).
    head_.chunked = false;
    head_.contentLength.reset();
    state_ = State::kUpgrade;
    return Event::kHead;
  }
  if (status < 200 || status == 204) {
    if (announcesBody) return fail("body framing in a response that cannot have a body");
  }
  if (status < 200 || status == 204 || status == 304 || nextMethod_ == "HEAD") {
    // Content-Length in a 304 or a HEAD response describes the representation, not this message.
    head_.chunked = false;
    head_.contentLength = 0;
    state_ = State::kMessageDone;
    return Event::kHead;
  }
  if (head_.chunked) {
    state_ = State::kChunkSize;
  } else if (fields.lengths > 0) {
    if (*head_.contentLength > limits_.maxBodyBytes) return fail("body too large");
    remaining_ = *head_.contentLength;
    state_ = remaining_ > 0 ? State::kBodyLength : State::kMessageDone;
  } else {
    head_.contentLength.reset();
    head_.keepAlive = false;  // only the close can end this body
    state_ = State::kBodyClose;
  }
  return Event::kHead;
}

namespace {

// Bytes the head's fields take serialized (and room for the start line): one allocation for the
// whole head instead of the string doubling as it grows.
size_t serializedSize(const MessageHead& head) {
  size_t size = head.method.size() + head.target.size() + head.reason.size() + 32;
  for (const auto& [name, value] : head.headers) size += name.size() + value.size() + 4;
  return size;
}

void appendFields(const Headers& fields, std::string& out) {
  for (const auto& [name, value] : fields) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
}

}  // namespace

void appendRequestHead(const MessageHead& head, std::string& out) {
  out.reserve(out.size() + serializedSize(head));
  out.append(head.method).append(" ").append(head.target);
  out.append(head.minorVersion == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  appendFields(head.headers, out);
  out.append("\r\n");
}

void appendResponseHead(const MessageHead& head, std::string& out) {
  char status[16];
  const auto [end, ec] = std::to_chars(status, status + sizeof status, head.status);
  (void)ec;
  out.reserve(out.size() + serializedSize(head));
  out.append(head.minorVersion == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(status, end).append(" ").append(head.reason).append("\r\n");
  appendFields(head.headers, out);
  out.append("\r\n");
}

void appendChunk(std::string_view data, std::string& out) {
  if (data.empty()) return;
  char size[24];
  const auto [end, ec] = std::to_chars(size, size + sizeof size, data.size(), 16);
  (void)ec;
  out.append(size, end).append("\r\n").append(data).append("\r\n");
}

void appendLastChunk(const Headers& trailers, std::string& out) {
  out.append("0\r\n");
  appendFields(trailers, out);
  out.append("\r\n");
}

}  // namespace braid::http1
