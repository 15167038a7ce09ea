#include "common/http/request_parser.h"

#include <algorithm>
#include <utility>

namespace braid::http {

namespace {

// A chunk-size line carries a size and perhaps extensions; anything longer is an attack.
constexpr size_t kMaxChunkLine = 4096;
// 15 hex digits (60 bits) cannot overflow a uint64_t; a longer size is refused as malformed.
constexpr size_t kMaxChunkSizeDigits = 15;

// tchar from RFC 9110 §5.6.2.
bool isTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return isTchar(static_cast<unsigned char>(c)); });
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isOws(char c) { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y && !(x >= 'A' && x <= 'Z' && x + 32 == y) &&
        !(y >= 'A' && y <= 'Z' && y + 32 == x)) {
      return false;
    }
  }
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Calls `f` with each trimmed element of a comma-separated list (empty elements included).
template <typename F>
void forEachListElement(std::string_view list, F f) {
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const size_t end = comma == std::string_view::npos ? list.size() : comma;
    f(trimOws(list.substr(start, end - start)));
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
}

// origin-form ("/path?query") with well-formed %XX escapes, or "*" for OPTIONS. Only visible ASCII;
// no fragment.
bool isValidTarget(std::string_view method, std::string_view target) {
  if (target == "*") return method == "OPTIONS";
  if (target.empty() || target.front() != '/') return false;
  for (size_t i = 0; i < target.size(); ++i) {
    const auto c = static_cast<unsigned char>(target[i]);
    if (c <= 0x20 || c >= 0x7f || c == '#') return false;
    if (c == '%' &&
        (i + 2 >= target.size() || hexValue(target[i + 1]) < 0 || hexValue(target[i + 2]) < 0)) {
      return false;
    }
  }
  return true;
}

// Host = uri-host [ ":" port ]: reg-name, IPv4 or a bracketed IP literal. No userinfo, no path.
bool isValidHost(std::string_view host) {
  for (const char ch : host) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
    if (std::string_view("-._~!$&'()*+,;=:[]%").find(ch) == std::string_view::npos) return false;
  }
  return true;
}

// A list of transfer codings that we understand the syntax of but do not implement ("gzip",
// "gzip, chunked"): 501 rather than 400.
bool isCodingList(std::string_view value) {
  bool ok = true;
  forEachListElement(value, [&](std::string_view element) { ok = ok && isToken(element); });
  return ok;
}

// chunk-ext = *( ";" ext-name [ "=" ext-val ] ), ext-val = token / quoted-string. No whitespace
// (the BWS the grammar allows is refused: no client we serve sends any).
bool isValidChunkExtensions(std::string_view ext) {
  size_t i = 0;
  const auto tokenEnd = [&](size_t from) {
    size_t j = from;
    while (j < ext.size() && isTchar(static_cast<unsigned char>(ext[j]))) ++j;
    return j;
  };
  while (i < ext.size()) {
    if (ext[i] != ';') return false;
    const size_t nameEnd = tokenEnd(i + 1);
    if (nameEnd == i + 1) return false;
    i = nameEnd;
    if (i == ext.size() || ext[i] != '=') continue;
    ++i;
    if (i < ext.size() && ext[i] == '"') {
      ++i;
      bool closed = false;
      while (i < ext.size() && !closed) {
        const auto c = static_cast<unsigned char>(ext[i]);
        if (c == '"') {
          closed = true;
        } else if (c == '\\') {
          if (i + 1 == ext.size()) return false;
          const auto escaped = static_cast<unsigned char>(ext[i + 1]);
          if ((escaped < 0x20 && escaped != '\t') || escaped == 0x7f) return false;
          ++i;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return false;
        }
        ++i;
      }
      if (!closed) return false;
    } else {
      const size_t valueEnd = tokenEnd(i);
      if (valueEnd == i) return false;
      i = valueEnd;
    }
  }
  return true;
}

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

void RequestParser::feed(std::string_view bytes) {
  if (state_ == State::kError) return;
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

ParsedRequest RequestParser::takeRequest() {
  ParsedRequest out = std::move(current_);
  current_ = ParsedRequest{};
  return out;
}

RequestParser::Event RequestParser::fail(int status, std::string reason) {
  state_ = State::kError;
  error_ = ParseError{status, std::move(reason)};
  buffer_.clear();
  pos_ = 0;
  return Event::kError;
}

RequestParser::Line RequestParser::findLine(std::string_view& line) {
  const size_t start = pos_;
  for (size_t i = start + scan_; i < buffer_.size(); ++i) {
    const char c = buffer_[i];
    if (c == '\n') return Line::kBareLf;
    if (c != '\r') continue;
    if (i + 1 == buffer_.size()) {
      scan_ = i - start;
      return Line::kPartial;
    }
    if (buffer_[i + 1] != '\n') return Line::kBareCr;
    line = std::string_view(buffer_).substr(start, i - start);
    pos_ = i + 2;
    scan_ = 0;
    return Line::kFound;
  }
  scan_ = buffer_.size() - start;
  return Line::kPartial;
}

RequestParser::Event RequestParser::readLine(std::string_view& line, size_t limit, int status,
                                             bool& found) {
  found = false;
  const char* tooLong = status == 414   ? "request line too long"
                        : status == 431 ? "header section too large"
                                        : "chunk size line too long";
  switch (findLine(line)) {
    case Line::kBareLf:
      return fail(400, "line ending without CR (bare LF)");
    case Line::kBareCr:
      return fail(400, "CR not followed by LF (bare CR)");
    case Line::kPartial:
      if (buffer_.size() - pos_ > limit) return fail(status, tooLong);
      return Event::kNeedMore;
    case Line::kFound:
      if (line.size() + 2 > limit) return fail(status, tooLong);
      found = true;
      return Event::kNeedMore;
  }
  return fail(400, "unreachable");
}

RequestParser::Event RequestParser::next() {
  while (true) {
    switch (state_) {
      case State::kError:
        return Event::kError;

      case State::kComplete:
        state_ = State::kRequestLine;
        sectionBytes_ = 0;
        sectionFields_ = 0;
        return Event::kRequest;

      case State::kRequestLine:
      case State::kHeaderLine:
      case State::kTrailerLine: {
        const State was = state_;
        const int status = was == State::kRequestLine ? 414 : 431;
        std::string_view line;
        bool found = false;
        Event event = readLine(line, limits_.maxHeaderBytes - sectionBytes_, status, found);
        if (!found) return event;
        sectionBytes_ += line.size() + 2;
        if (was == State::kRequestLine) {
          event = onRequestLine(line);
        } else if (!line.empty()) {
          event = onFieldLine(line, was == State::kTrailerLine);
        } else if (was == State::kHeaderLine) {
          event = onHeadComplete();
        } else {
          state_ = State::kComplete;
        }
        if (event != Event::kNeedMore) return event;
        break;
      }

      case State::kBody:
      case State::kChunkData: {
        const size_t available = buffer_.size() - pos_;
        if (available == 0) return Event::kNeedMore;
        const size_t take = static_cast<size_t>(std::min<uint64_t>(available, remaining_));
        current_.body.append(buffer_, pos_, take);
        pos_ += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          state_ = state_ == State::kBody ? State::kComplete : State::kChunkDataEnd;
        }
        break;
      }

      case State::kChunkDataEnd: {
        const size_t available = buffer_.size() - pos_;
        if (available == 0) return Event::kNeedMore;
        if (buffer_[pos_] != '\r' || (available >= 2 && buffer_[pos_ + 1] != '\n')) {
          return fail(400, "chunk data not followed by CRLF");
        }
        if (available < 2) return Event::kNeedMore;
        pos_ += 2;
        state_ = State::kChunkSize;
        break;
      }

      case State::kChunkSize: {
        std::string_view line;
        bool found = false;
        const Event event = readLine(line, kMaxChunkLine, 400, found);
        if (!found) return event;
        if (onChunkSize(line) == Event::kError) return Event::kError;
        break;
      }
    }
  }
}

RequestParser::Event RequestParser::onRequestLine(std::string_view line) {
  current_ = ParsedRequest{};
  if (line.empty()) return fail(400, "empty line before the request line");
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail(400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method)) return fail(400, "invalid method");
  if (version == "HTTP/1.1") {
    current_.minorVersion = 1;
  } else if (version == "HTTP/1.0") {
    current_.minorVersion = 0;
  } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
             version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
    return fail(505, "HTTP version not supported");
  } else {
    return fail(400, "malformed HTTP version");
  }
  if (!isValidTarget(method, target)) return fail(400, "invalid request target");
  current_.method = std::string(method);
  current_.target = std::string(target);
  state_ = State::kHeaderLine;
  sectionFields_ = 0;
  return Event::kNeedMore;
}

RequestParser::Event RequestParser::onFieldLine(std::string_view line, bool trailer) {
  if (isOws(line.front())) return fail(400, "obsolete line folding");
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(400, "header line without a colon");
  const std::string_view name = line.substr(0, colon);
  if (!isToken(name)) return fail(400, "invalid header name");
  const std::string_view value = trimOws(line.substr(colon + 1));
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return fail(400, "control character in header value");
  }
  if (++sectionFields_ > limits_.maxHeaders) return fail(431, "too many header fields");
  std::string lower = toLower(name);
  if (trailer) {
    if (lower == "content-length" || lower == "transfer-encoding" || lower == "host") {
      return fail(400, "framing header in trailers");
    }
    current_.trailers.emplace_back(std::move(lower), std::string(value));
  } else {
    current_.headers.emplace_back(std::move(lower), std::string(value));
  }
  return Event::kNeedMore;
}

RequestParser::Event RequestParser::onHeadComplete() {
  int hosts = 0;
  int lengths = 0;
  int encodings = 0;
  int expects = 0;
  bool close = false;
  bool keepAlive = false;
  std::string_view host;
  std::string_view length;
  std::string_view encoding;
  std::string_view expect;
  for (const auto& [name, value] : current_.headers) {
    if (name == "host") {
      ++hosts;
      host = value;
    } else if (name == "content-length") {
      ++lengths;
      length = value;
    } else if (name == "transfer-encoding") {
      ++encodings;
      encoding = value;
    } else if (name == "expect") {
      ++expects;
      expect = value;
    } else if (name == "connection") {
      forEachListElement(value, [&](std::string_view option) {
        close = close || equalsIgnoreCase(option, "close");
        keepAlive = keepAlive || equalsIgnoreCase(option, "keep-alive");
      });
    }
  }
  const bool http11 = current_.minorVersion == 1;
  if (http11 && hosts == 0) return fail(400, "missing Host header");
  if (hosts > 1) return fail(400, "repeated Host header");
  if (!isValidHost(host)) return fail(400, "invalid Host header");
  if (lengths > 1) return fail(400, "repeated Content-Length");
  if (encodings > 1) return fail(400, "repeated Transfer-Encoding");
  if (lengths > 0 && encodings > 0) return fail(400, "both Content-Length and Transfer-Encoding");
  if (encodings > 0) {
    if (!http11) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (!equalsIgnoreCase(encoding, "chunked")) {
      if (isCodingList(encoding)) return fail(501, "only Transfer-Encoding: chunked is supported");
      return fail(400, "malformed Transfer-Encoding");
    }
    current_.chunked = true;
  } else if (lengths > 0) {
    if (length.empty()) return fail(400, "invalid Content-Length");
    uint64_t value = 0;
    bool tooLarge = false;
    for (const char c : length) {
      if (c < '0' || c > '9') return fail(400, "invalid Content-Length");
      // Saturate instead of overflowing: anything past the body limit is refused below.
      if (value > limits_.maxBodyBytes || value > (UINT64_MAX - 9) / 10) {
        tooLarge = true;
      } else {
        value = value * 10 + static_cast<uint64_t>(c - '0');
      }
    }
    if (tooLarge || value > limits_.maxBodyBytes) return fail(413, "body too large");
    current_.contentLength = value;
  }
  if (http11 && expects > 0) {
    if (expects > 1 || !equalsIgnoreCase(expect, "100-continue")) {
      return fail(417, "unsupported expectation");
    }
    current_.expectContinue = true;
  }
  current_.keepAlive = !close && (http11 || keepAlive);
  remaining_ = current_.contentLength;
  state_ = current_.chunked             ? State::kChunkSize
           : current_.contentLength > 0 ? State::kBody
                                        : State::kComplete;
  return Event::kHead;
}

RequestParser::Event RequestParser::onChunkSize(std::string_view line) {
  size_t i = 0;
  size_t significant = 0;
  uint64_t size = 0;
  for (; i < line.size(); ++i) {
    const int digit = hexValue(line[i]);
    if (digit < 0) break;
    if (significant > 0 || digit > 0) ++significant;
    if (significant > kMaxChunkSizeDigits) return fail(400, "chunk size overflows");
    size = size * 16 + static_cast<uint64_t>(digit);
  }
  if (i == 0) return fail(400, "invalid chunk size");
  if (!isValidChunkExtensions(line.substr(i))) return fail(400, "invalid chunk size or extension");
  if (size > limits_.maxBodyBytes - current_.body.size()) return fail(413, "body too large");
  if (size == 0) {
    state_ = State::kTrailerLine;
    sectionBytes_ = 0;
    sectionFields_ = 0;
  } else {
    remaining_ = size;
    state_ = State::kChunkData;
  }
  return Event::kNeedMore;
}

}  // namespace braid::http
