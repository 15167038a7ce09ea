// Fuzzes the streaming HTTP/1.1 codec. Each input is parsed as requests and as responses, once in
// one piece and once in pseudo-random pieces chosen from a hash of the input, and the run aborts if
//   - the two parses disagree: events (body pieces merged), heads, bodies, trailers, error status;
//   - next() reports kNeedMore with input left, hands out a body piece that is not inside the
//     input it was given, or stops making progress;
//   - an accepted head breaks a strictness rule (checked here independently of the parser);
//   - a head, serialised with appendRequestHead / appendResponseHead and parsed again, differs.
// The hash also picks what the response parser is told: the request's method (GET, HEAD or
// CONNECT), whether an upgrade was requested, and whether the connection closes after the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/http1_codec.h"

namespace {

using braid::http1::Headers;
using braid::http1::Limits;
using braid::http1::MessageHead;
using braid::http1::Parser;
using Event = Parser::Event;
using Kind = Parser::Kind;

// Small limits so that inputs of a few kilobytes reach every limit check.
constexpr Limits kLimits{512, 8, 1024};

[[noreturn]] void violation(const char* what) {
  std::fprintf(stderr, "http1_codec_fuzz: %s\n", what);
  std::abort();
}

void check(bool condition, const char* what) {
  if (!condition) violation(what);
}

struct Setup {
  const char* method = "GET";
  bool upgrade = false;
  bool eof = false;
};

struct Outcome {
  std::string events;  // H B T C U E, consecutive body pieces merged into one B
  std::vector<MessageHead> heads;
  std::vector<std::string> bodies;
  std::vector<Headers> trailers;
  int errorStatus = 0;
};

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

void checkFields(const Headers& fields) {
  check(fields.size() <= kLimits.maxHeaders, "too many fields accepted");
  for (const auto& [name, value] : fields) {
    check(isToken(name), "field name is not a token");
    for (const char c : name) check(!(c >= 'A' && c <= 'Z'), "field name not lowercased");
    check(isCleanValue(value), "field value holds control bytes or surrounding whitespace");
  }
}

void checkHead(Kind kind, const MessageHead& h) {
  check(h.minorVersion == 0 || h.minorVersion == 1, "unknown HTTP version accepted");
  checkFields(h.headers);
  int lengths = 0;
  int encodings = 0;
  for (const auto& [name, value] : h.headers) {
    lengths += name == "content-length";
    encodings += name == "transfer-encoding";
  }
  check(lengths <= 1 && encodings <= 1, "repeated framing header accepted");
  check(lengths == 0 || encodings == 0, "Content-Length with Transfer-Encoding accepted");
  check(!(h.chunked && h.contentLength.has_value()), "chunked with a length");
  if (h.chunked) check(encodings == 1 && h.minorVersion == 1, "chunked without its header");
  if (kind == Kind::kRequest) {
    check(isToken(h.method), "method is not a token");
    check(h.contentLength.has_value() || h.chunked, "request without framing");
    if (h.method == "CONNECT") {
      check(h.upgrade && !h.chunked && h.contentLength == 0u, "CONNECT with a body");
    } else if (h.target != "*") {
      check(!h.target.empty() && h.target.front() == '/', "target is not origin-form");
    }
    for (const char ch : h.target) {
      const auto c = static_cast<unsigned char>(ch);
      check(c > 0x20 && c < 0x7f && c != '#', "target holds a forbidden byte");
    }
  } else {
    check(h.status >= 100 && h.status <= 599, "status out of range");
  }
}

bool sameHead(const MessageHead& a, const MessageHead& b) {
  return a.method == b.method && a.target == b.target && a.status == b.status &&
         a.reason == b.reason && a.minorVersion == b.minorVersion && a.headers == b.headers &&
         a.chunked == b.chunked && a.contentLength == b.contentLength &&
         a.keepAlive == b.keepAlive && a.expectContinue == b.expectContinue &&
         a.upgrade == b.upgrade;
}

void prepare(Parser& parser, Kind kind, const Setup& setup) {
  if (kind != Kind::kResponse) return;
  parser.expectResponseTo(setup.method);
  parser.expectUpgrade(setup.upgrade);
}

// Serialises `head`, parses it again with the same setup, and compares.
void checkRoundTrip(Kind kind, const MessageHead& head, const Setup& setup) {
  std::string bytes;
  if (kind == Kind::kRequest) {
    braid::http1::appendRequestHead(head, bytes);
  } else {
    braid::http1::appendResponseHead(head, bytes);
  }
  // Serialising may add a space after each colon: allow for it.
  Limits limits = kLimits;
  limits.maxHeaderBytes = 2 * kLimits.maxHeaderBytes + 64;
  Parser parser(kind, limits);
  prepare(parser, kind, setup);
  std::string_view input = bytes;
  check(parser.next(input) == Event::kHead, "a serialised head does not parse");
  check(sameHead(parser.head(), head), "a serialised head parses differently");
}

// Feeds `input` in pieces whose sizes come from `seed` (0: everything at once).
Outcome run(Kind kind, std::string_view input, uint64_t seed, const Setup& setup) {
  Parser parser(kind, kLimits);
  prepare(parser, kind, setup);
  Outcome out;
  size_t fed = 0;
  std::string_view window;
  bool eofNoted = false;
  size_t budget = 4 * input.size() + 32;
  while (true) {
    check(budget-- > 0, "next() loops without progress");
    const std::string_view before = window;
    const Event event = parser.next(window);
    switch (event) {
      case Event::kNeedMore: {
        check(window.empty(), "kNeedMore with input left");
        if (fed == input.size()) {
          if (!setup.eof || eofNoted) return out;
          eofNoted = true;
          parser.noteEof();
          break;
        }
        size_t piece = input.size() - fed;
        if (seed != 0) {
          seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
          piece = std::min<size_t>(piece, 1 + (seed >> 33) % 64);
        }
        window = input.substr(fed, piece);
        fed += piece;
        break;
      }
      case Event::kHead:
        out.events += 'H';
        checkHead(kind, parser.head());
        out.heads.push_back(parser.head());
        out.bodies.emplace_back();
        out.trailers.emplace_back();
        break;
      case Event::kBody: {
        const std::string_view body = parser.body();
        check(!body.empty(), "empty body piece");
        check(body.data() >= before.data() &&
                  body.data() + body.size() <= before.data() + before.size(),
              "body piece outside the input");
        check(!out.bodies.empty(), "body before a head");
        if (out.events.back() != 'B') out.events += 'B';
        out.bodies.back().append(body);
        break;
      }
      case Event::kTrailers:
        out.events += 'T';
        check(!parser.trailers().empty(), "kTrailers without trailers");
        checkFields(parser.trailers());
        out.trailers.back() = parser.trailers();
        break;
      case Event::kComplete: {
        out.events += 'C';
        const MessageHead& h = parser.head();
        if (!h.chunked && h.contentLength) {
          check(out.bodies.back().size() == *h.contentLength, "body size differs from its length");
        }
        // The response parser forgets the method after a final response; tell it again.
        if (kind == Kind::kResponse && h.status >= 200) prepare(parser, kind, setup);
        break;
      }
      case Event::kUpgraded:
        out.events += 'U';
        check(kind == Kind::kResponse, "a request parser reported kUpgraded");
        check(parser.next(window) == Event::kUpgraded, "kUpgraded is not final");
        return out;
      case Event::kError: {
        out.events += 'E';
        const int status = parser.error().status;
        if (kind == Kind::kResponse) {
          check(status == 502, "a response error that is not 502");
        } else {
          check(status == 400 || status == 413 || status == 414 || status == 417 || status == 431 ||
                    status == 501 || status == 505,
                "unexpected error status");
        }
        check(parser.next(window) == Event::kError, "error state is not final");
        out.errorStatus = status;
        return out;
      }
    }
  }
}

void fuzzKind(Kind kind, std::string_view input, uint64_t hash, const Setup& setup) {
  const Outcome whole = run(kind, input, 0, setup);
  const Outcome pieces = run(kind, input, hash | 1, setup);
  check(whole.events == pieces.events, "split input changed the events");
  check(whole.errorStatus == pieces.errorStatus, "split input changed the error");
  check(whole.bodies == pieces.bodies, "split input changed a body");
  check(whole.trailers == pieces.trailers, "split input changed trailers");
  for (size_t i = 0; i < whole.heads.size(); ++i) {
    check(sameHead(whole.heads[i], pieces.heads[i]), "split input changed a head");
    // Interim responses leave the setup in force, so the round trip uses it for every head.
    checkRoundTrip(kind, whole.heads[i], setup);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a picks the piece sizes and the setup
  for (const char c : input) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  Setup setup;
  setup.method = (hash >> 60) % 4 == 0 ? "HEAD" : (hash >> 60) % 4 == 1 ? "CONNECT" : "GET";
  setup.upgrade = (hash >> 59) & 1;
  setup.eof = (hash >> 58) & 1;
  fuzzKind(Kind::kRequest, input, hash, Setup{});
  fuzzKind(Kind::kResponse, input, hash, setup);
  return 0;
}
