// Fuzzes the strict HTTP/1.1 request parser. Each input is parsed twice, once in one piece and once
// in pseudo-random pieces chosen from a hash of the input, and the run aborts if
//   - the two parses disagree (the parser must not depend on how bytes arrive),
//   - next() is called more often than the input could justify (a loop),
//   - an accepted request breaks a strictness rule, checked here independently of the parser
//     (that would be a request a lenient peer could read differently: a smuggling vector).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/request_parser.h"

namespace {

using braid::http::ParsedRequest;
using braid::http::ParserLimits;
using braid::http::RequestParser;

// Small limits so that inputs of a few kilobytes reach every limit check.
constexpr ParserLimits kLimits{512, 8, 1024};

struct Outcome {
  std::vector<ParsedRequest> requests;
  bool failed = false;
};

[[noreturn]] void violation(const char* what) {
  std::fprintf(stderr, "http_request_parser_fuzz: %s\n", what);
  std::abort();
}

void check(bool condition, const char* what) {
  if (!condition) violation(what);
}

bool isTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!isTchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool isCleanValue(std::string_view v) {
  if (!v.empty() &&
      (v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t')) {
    return false;
  }
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool isChunked(std::string_view v) {
  if (v.size() != 7) return false;
  for (size_t i = 0; i < 7; ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != "chunked"[i]) return false;
  }
  return true;
}

void checkAccepted(const ParsedRequest& r) {
  check(isToken(r.method), "method is not a token");
  check(r.minorVersion == 0 || r.minorVersion == 1, "unknown HTTP version accepted");
  if (r.target == "*") {
    check(r.method == "OPTIONS", "asterisk target for a method other than OPTIONS");
  } else {
    check(!r.target.empty() && r.target.front() == '/', "target is not origin-form");
  }
  for (const char ch : r.target) {
    const auto c = static_cast<unsigned char>(ch);
    check(c > 0x20 && c < 0x7f && c != '#', "target holds a forbidden byte");
  }
  int hosts = 0;
  int lengths = 0;
  int encodings = 0;
  std::string_view length;
  std::string_view encoding;
  check(r.headers.size() <= kLimits.maxHeaders, "too many headers accepted");
  for (const auto& [name, value] : r.headers) {
    check(isToken(name), "header name is not a token");
    for (const char c : name) check(!(c >= 'A' && c <= 'Z'), "header name not lowercased");
    check(isCleanValue(value), "header value holds control bytes or surrounding whitespace");
    if (name == "host") ++hosts;
    if (name == "content-length") {
      ++lengths;
      length = value;
    }
    if (name == "transfer-encoding") {
      ++encodings;
      encoding = value;
    }
  }
  check(hosts <= 1, "several Host headers accepted");
  check(r.minorVersion == 0 || hosts == 1, "HTTP/1.1 request without Host accepted");
  check(lengths <= 1 && encodings <= 1, "repeated framing header accepted");
  check(lengths == 0 || encodings == 0, "Content-Length with Transfer-Encoding accepted");
  if (encodings == 1) {
    check(r.minorVersion == 1, "Transfer-Encoding in HTTP/1.0 accepted");
    check(isChunked(encoding), "transfer coding other than chunked accepted");
    check(r.chunked, "Transfer-Encoding: chunked without chunked framing");
  } else {
    check(!r.chunked, "chunked framing without Transfer-Encoding");
    check(r.trailers.empty(), "trailers without a chunked body");
  }
  if (lengths == 1) {
    check(!length.empty(), "empty Content-Length accepted");
    for (const char c : length) check(c >= '0' && c <= '9', "Content-Length is not plain digits");
    check(r.body.size() == r.contentLength, "body size differs from Content-Length");
  }
  if (lengths == 0 && encodings == 0) check(r.body.empty(), "body without framing");
  check(r.body.size() <= kLimits.maxBodyBytes, "body over the limit accepted");
  for (const auto& [name, value] : r.trailers) {
    check(isToken(name) && isCleanValue(value), "malformed trailer accepted");
    check(name != "content-length" && name != "transfer-encoding" && name != "host",
          "framing header in trailers accepted");
  }
}

// Feeds `input` in pieces whose sizes come from `seed` (0: everything at once).
Outcome run(std::string_view input, uint64_t seed) {
  RequestParser parser(kLimits);
  Outcome out;
  size_t offset = 0;
  // Each next() either uses bytes, asks for more, or reports an event for the bytes it used; a
  // request needs at least 2 bytes per event pair, so this bound is generous.
  size_t budget = 4 * input.size() + 16;
  while (true) {
    check(budget-- > 0, "next() loops without progress");
    const RequestParser::Event event = parser.next();
    if (event == RequestParser::Event::kNeedMore) {
      if (offset == input.size()) return out;
      size_t piece = input.size() - offset;
      if (seed != 0) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        piece = std::min<size_t>(piece, 1 + (seed >> 33) % 64);
      }
      parser.feed(input.substr(offset, piece));
      offset += piece;
    } else if (event == RequestParser::Event::kRequest) {
      out.requests.push_back(parser.takeRequest());
      checkAccepted(out.requests.back());
    } else if (event == RequestParser::Event::kError) {
      const int status = parser.error().status;
      check(status == 400 || status == 413 || status == 414 || status == 417 || status == 431 ||
                status == 501 || status == 505,
            "unexpected error status");
      check(parser.next() == RequestParser::Event::kError, "error state is not final");
      out.failed = true;
      return out;
    }
  }
}

bool same(const ParsedRequest& a, const ParsedRequest& b) {
  return a.method == b.method && a.target == b.target && a.minorVersion == b.minorVersion &&
         a.headers == b.headers && a.trailers == b.trailers && a.body == b.body &&
         a.keepAlive == b.keepAlive && a.expectContinue == b.expectContinue;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a picks the piece sizes
  for (const char c : input) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  const Outcome whole = run(input, 0);
  const Outcome pieces = run(input, hash | 1);
  check(whole.failed == pieces.failed, "split input changed whether parsing failed");
  check(whole.requests.size() == pieces.requests.size(), "split input changed the request count");
  for (size_t i = 0; i < whole.requests.size(); ++i) {
    check(same(whole.requests[i], pieces.requests[i]), "split input changed a request");
  }
  return 0;
}
