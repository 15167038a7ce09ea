#include "common/http/http1_codec.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "support/golden.h"

namespace braid::http1 {
namespace {

using Event = Parser::Event;
using Kind = Parser::Kind;

// What a parser made of some bytes. `events` has one letter per event (H head, B body, T trailers,
// C complete, U upgraded, E error) with consecutive body pieces merged into one B, since how many
// pieces a body comes in depends on how the input was split.
struct Trace {
  std::string events;
  std::vector<MessageHead> heads;
  std::vector<std::string> bodies;  // one per head
  std::vector<Headers> trailers;    // one per head
  std::string rest;                 // what was left unconsumed after kUpgraded
  int errorStatus = 0;
  std::string errorReason;
};

struct Options {
  size_t piece = 0;  // 0: everything at once
  Limits limits = {};
  std::vector<std::string> methods;  // responses: the request method of each final response
  bool upgrade = false;              // responses: expectUpgrade(true) for the first response
  bool eof = false;                  // noteEof() once every byte is fed
};

Trace run(Kind kind, std::string_view input, const Options& options = {}) {
  Parser parser(kind, options.limits);
  Trace out;
  size_t fed = 0;           // bytes handed to the parser so far
  std::string_view window;  // the part of them not yet consumed
  size_t finalResponses = 0;
  bool eofNoted = false;
  const auto prepareResponse = [&] {
    if (kind != Kind::kResponse) return;
    if (finalResponses < options.methods.size()) {
      parser.expectResponseTo(options.methods[finalResponses]);
    }
    if (finalResponses == 0 && options.upgrade) parser.expectUpgrade(true);
  };
  prepareResponse();
  for (size_t steps = 0; steps < 10 * input.size() + 100; ++steps) {
    const std::string_view before = window;
    const Event event = parser.next(window);
    switch (event) {
      case Event::kNeedMore: {
        EXPECT_TRUE(window.empty()) << "kNeedMore with input left";
        if (fed == input.size()) {
          if (!options.eof || eofNoted) return out;
          eofNoted = true;
          parser.noteEof();
          break;
        }
        const size_t n =
            options.piece == 0 ? input.size() - fed : std::min(options.piece, input.size() - fed);
        window = input.substr(fed, n);
        fed += n;
        break;
      }
      case Event::kHead:
        out.events += 'H';
        out.heads.push_back(parser.head());
        out.bodies.emplace_back();
        out.trailers.emplace_back();
        break;
      case Event::kBody: {
        // Zero copy: the piece lies inside what the parser was given, and was consumed from it.
        const std::string_view body = parser.body();
        EXPECT_FALSE(body.empty());
        EXPECT_GE(body.data(), before.data());
        EXPECT_LE(body.data() + body.size(), before.data() + before.size());
        EXPECT_EQ(before.size() - window.size(), body.size() + (body.data() - before.data()));
        if (!out.events.ends_with('B')) out.events += 'B';
        out.bodies.back().append(body);
        break;
      }
      case Event::kTrailers:
        out.events += 'T';
        out.trailers.back() = parser.trailers();
        break;
      case Event::kComplete:
        out.events += 'C';
        if (kind == Kind::kResponse && parser.head().status >= 200) ++finalResponses;
        prepareResponse();
        break;
      case Event::kUpgraded:
        out.events += 'U';
        EXPECT_EQ(parser.next(window), Event::kUpgraded);
        out.rest = std::string(window) + std::string(input.substr(fed));
        return out;
      case Event::kError:
        out.events += 'E';
        out.errorStatus = parser.error().status;
        out.errorReason = parser.error().reason;
        EXPECT_EQ(parser.next(window), Event::kError) << "an error is final";
        return out;
    }
  }
  ADD_FAILURE() << "next() makes no progress";
  return out;
}

// Runs whole, byte by byte and in 7-byte pieces; all three must agree. Returns the whole run.
Trace runAllWays(Kind kind, std::string_view input, Options options = {}) {
  options.piece = 0;
  Trace whole = run(kind, input, options);
  for (size_t piece : {size_t{1}, size_t{7}}) {
    SCOPED_TRACE("piece size " + std::to_string(piece));
    options.piece = piece;
    Trace split = run(kind, input, options);
    EXPECT_EQ(split.events, whole.events);
    EXPECT_EQ(split.errorStatus, whole.errorStatus);
    EXPECT_EQ(split.bodies, whole.bodies);
    EXPECT_EQ(split.trailers, whole.trailers);
    EXPECT_EQ(split.rest, whole.rest);
    EXPECT_EQ(split.heads.size(), whole.heads.size());
    for (size_t i = 0; i < std::min(split.heads.size(), whole.heads.size()); ++i) {
      EXPECT_EQ(split.heads[i].headers, whole.heads[i].headers);
      EXPECT_EQ(split.heads[i].target, whole.heads[i].target);
    }
  }
  return whole;
}

Trace request(std::string_view input, Options options = {}) {
  return runAllWays(Kind::kRequest, input, std::move(options));
}

Trace response(std::string_view input, Options options = {}) {
  return runAllWays(Kind::kResponse, input, std::move(options));
}

TEST(Http1RequestTest, ParsesHeadAndStreamsTheBody) {
  const Trace t = request(
      "PUT /meshes/default?x=1 HTTP/1.1\r\nHost: a.test\r\nX-Mixed-Case:  spaced value \t\r\n"
      "Content-Length: 5\r\n\r\nhello");
  ASSERT_EQ(t.events, "HBC") << t.errorReason;
  const MessageHead& h = t.heads[0];
  EXPECT_EQ(h.method, "PUT");
  EXPECT_EQ(h.target, "/meshes/default?x=1");
  EXPECT_EQ(h.minorVersion, 1);
  ASSERT_EQ(h.headers.size(), 3u);
  EXPECT_EQ(h.headers[1], (std::pair<std::string, std::string>{"x-mixed-case", "spaced value"}));
  EXPECT_EQ(h.contentLength, 5u);
  EXPECT_FALSE(h.chunked);
  EXPECT_TRUE(h.keepAlive);
  EXPECT_EQ(t.bodies[0], "hello");
}

TEST(Http1RequestTest, ChunkedBodyWithTrailers) {
  const Trace t = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n9;ext=1;q=\"a b\"\r\n, world!!\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n");
  ASSERT_EQ(t.events, "HBTC") << t.errorReason;
  EXPECT_TRUE(t.heads[0].chunked);
  EXPECT_FALSE(t.heads[0].contentLength.has_value());
  EXPECT_EQ(t.bodies[0], "hello, world!!");
  ASSERT_EQ(t.trailers[0].size(), 2u);
  EXPECT_EQ(t.trailers[0][0], (std::pair<std::string, std::string>{"x-checksum", "abc"}));
  // Without trailer fields there is no kTrailers event.
  EXPECT_EQ(
      request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n")
          .events,
      "HBC");
}

TEST(Http1RequestTest, PipelinedRequestsComeOutInOrder) {
  const Trace t = request(
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
      "GET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(t.events, "HCHBCHBCHC") << t.errorReason;
  EXPECT_EQ(t.heads[0].target, "/1");
  EXPECT_EQ(t.bodies[1], "abc");
  EXPECT_EQ(t.bodies[2], "z");
  EXPECT_EQ(t.heads[3].target, "/4");
  EXPECT_FALSE(t.heads[3].keepAlive);
}

TEST(Http1RequestTest, KeepAliveRules) {
  const auto keepAlive = [](const std::string& input) {
    const Trace t = request(input);
    EXPECT_EQ(t.events, "HC") << input << t.errorReason;
    return !t.heads.empty() && t.heads[0].keepAlive;
  };
  EXPECT_TRUE(keepAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_FALSE(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: te, Close\r\n\r\n"));
  EXPECT_FALSE(keepAlive("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  EXPECT_FALSE(keepAlive("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
}

TEST(Http1RequestTest, ExpectContinueIsReportedWithTheHead) {
  Parser parser(Kind::kRequest);
  std::string_view in =
      "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n";
  ASSERT_EQ(parser.next(in), Event::kHead);
  EXPECT_TRUE(parser.head().expectContinue);
  EXPECT_EQ(parser.next(in), Event::kNeedMore);
  EXPECT_FALSE(parser.idle());
  in = "ok";
  ASSERT_EQ(parser.next(in), Event::kBody);
  EXPECT_EQ(parser.body(), "ok");
  EXPECT_EQ(parser.next(in), Event::kComplete);
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(request("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n").errorStatus, 417);
}

TEST(Http1RequestTest, UpgradeRequests) {
  const Trace ws = request(
      "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
      "\r\n\x81\x05hello");
  // The parser stops at kComplete; whether the bytes after are a tunnel is the response's call.
  ASSERT_GE(ws.events.size(), 2u);
  EXPECT_EQ(ws.events.substr(0, 2), "HC");
  EXPECT_TRUE(ws.heads[0].upgrade);
  {
    Parser parser(Kind::kRequest);
    std::string_view in =
        "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nFRAME";
    EXPECT_EQ(parser.next(in), Event::kHead);
    EXPECT_EQ(parser.next(in), Event::kComplete);
    EXPECT_EQ(in, "FRAME");  // untouched
  }
  // An upgrade with a body (h2c with a POST): the body first.
  const Trace withBody = request(
      "POST / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(withBody.events, "HBC");
  EXPECT_TRUE(withBody.heads[0].upgrade);
  // Upgrade without Connection: upgrade, or in HTTP/1.0, is ignored.
  EXPECT_FALSE(request("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").heads[0].upgrade);
  EXPECT_FALSE(request("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
                   .heads[0]
                   .upgrade);
  const Trace connect = request("CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n");
  ASSERT_EQ(connect.events, "HC");
  EXPECT_TRUE(connect.heads[0].upgrade);
  EXPECT_EQ(connect.heads[0].target, "a.test:443");
  EXPECT_EQ(
      request("CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx").errorStatus,
      400);
  EXPECT_EQ(request("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n").errorStatus, 400);
  EXPECT_EQ(request("CONNECT user@a:1 HTTP/1.1\r\nHost: a\r\n\r\n").errorStatus, 400);
  EXPECT_EQ(request("GET a.test:443 HTTP/1.1\r\nHost: a\r\n\r\n").errorStatus, 400);
}

TEST(Http1RequestTest, Http2PrefaceIsNotHttp1) {
  EXPECT_NE(request("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").errorStatus, 0);
}

TEST(Http1RequestTest, HeaderLimits) {
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\n";
  // 100 fields are fine, 101 are not.
  std::string fields;
  for (int i = 1; i < 100; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(request(start + fields + "\r\n").events, "HC");
  EXPECT_EQ(request(start + fields + "X-100: v\r\n\r\n").errorStatus, 431);
  // 60 KiB of head are fine, one byte more is not, whether or not the head ever ends.
  const size_t room = 60 * 1024 - start.size() - std::string("X: \r\n\r\n").size();
  EXPECT_EQ(request(start + "X: " + std::string(room, 'v') + "\r\n\r\n").events, "HC");
  EXPECT_EQ(request(start + "X: " + std::string(room + 1, 'v') + "\r\n\r\n").errorStatus, 431);
  EXPECT_EQ(request(start + "X: " + std::string(70 * 1024, 'v')).errorStatus, 431);
  EXPECT_EQ(request("GET /" + std::string(70 * 1024, 'a') + " HTTP/1.1\r\n").errorStatus, 414);
  // Trailers get the limits again, separately.
  std::string trailers;
  for (int i = 0; i < 101; ++i) trailers += "T-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" +
                    trailers + "\r\n")
                .errorStatus,
            431);
}

TEST(Http1RequestTest, BodyLimitIsOptional) {
  Options options;
  options.limits.maxBodyBytes = 4;
  const std::string chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(request(chunked + "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n", options).events, "HBC");
  EXPECT_EQ(request(chunked + "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n", options).errorStatus, 413);
  EXPECT_EQ(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", options).errorStatus,
            413);
  // No limit by default, but a length past uint64_t is still refused.
  EXPECT_EQ(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n").events,
            "H");
  EXPECT_EQ(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n")
                .errorStatus,
            413);
}

// Every file of the smuggling corpus is refused with its expected status, however it is split,
// and no request completes. The corpus's 413s assume the CP's 8 MiB body limit.
TEST(Http1RequestTest, SmugglingCorpus) {
  const auto dir = braid::testing::sourceDir() / "tests/golden/http/smuggling";
  const auto files = braid::testing::filesIn(dir, ".http");
  ASSERT_GE(files.size(), 40u);
  Options options;
  options.limits.maxBodyBytes = 8 * 1024 * 1024;
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const std::string input = braid::testing::readFile(file);
    auto statusFile = file;
    statusFile.replace_extension(".status");
    const int expected = std::stoi(braid::testing::readFile(statusFile));
    for (size_t piece : {size_t{0}, size_t{1}, size_t{13}}) {
      options.piece = piece;
      const Trace t = run(Kind::kRequest, input, options);
      EXPECT_EQ(t.errorStatus, expected) << t.errorReason;
      EXPECT_EQ(t.events.find('C'), std::string::npos);
    }
  }
}

// A 1 GiB upload passes in 64 KiB reads: every piece is a view into the read buffer, and the heap
// does not grow while the body streams.
TEST(Http1RequestTest, OneGibibyteBodyStreamsWithoutCopies) {
  constexpr uint64_t kSize = uint64_t{1} << 30;
  Parser parser(Kind::kRequest);
  std::string_view in = "PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: 1073741824\r\n\r\n";
  ASSERT_EQ(parser.next(in), Event::kHead);
  ASSERT_EQ(parser.next(in), Event::kNeedMore);
  const std::string buffer(64 * 1024, 'x');
  const size_t heapBefore = mallinfo2().uordblks;
  uint64_t seen = 0;
  bool complete = false;
  while (!complete) {
    in = std::string_view(buffer).substr(0, std::min<uint64_t>(buffer.size(), kSize - seen));
    const char* const start = in.data();
    while (true) {
      const Event event = parser.next(in);
      if (event == Event::kNeedMore) break;
      if (event == Event::kComplete) {
        complete = true;
        break;
      }
      ASSERT_EQ(event, Event::kBody);
      ASSERT_EQ(parser.body().data(), start);  // the whole read, in place
      ASSERT_EQ(parser.body().size(), buffer.size());
      seen += parser.body().size();
    }
  }
  EXPECT_EQ(seen, kSize);
  EXPECT_TRUE(parser.idle());
  EXPECT_LT(mallinfo2().uordblks, heapBefore + 4096);
}

// ---- responses ----

TEST(Http1ResponseTest, StatusLines) {
  const Trace t = response("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
  ASSERT_EQ(t.events, "HBC") << t.errorReason;
  EXPECT_EQ(t.heads[0].status, 404);
  EXPECT_EQ(t.heads[0].reason, "Not Found");
  EXPECT_EQ(t.bodies[0], "no");
  EXPECT_TRUE(t.heads[0].keepAlive);
  EXPECT_EQ(response("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").events, "HC");
  EXPECT_EQ(response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").heads[0].reason, "");
  EXPECT_FALSE(response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").heads[0].keepAlive);
  for (const char* bad :
       {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 099 x\r\n\r\n", "HTTP/1.1 200 a\x01\r\n\r\n", "HTTP/1.1 200 OK\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"}) {
    SCOPED_TRACE(bad);
    const Trace b = response(bad);
    EXPECT_EQ(b.errorStatus, 502);
    EXPECT_EQ(b.events.find('C'), std::string::npos);
  }
}

TEST(Http1ResponseTest, ChunkedWithTrailersThenPipelined) {
  const Trace t = response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n"
      "Grpc-Status: 0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
  ASSERT_EQ(t.events, "HBTCHC") << t.errorReason;
  EXPECT_EQ(t.bodies[0], "abcde");
  EXPECT_EQ(t.trailers[0], (Headers{{"grpc-status", "0"}}));
  EXPECT_EQ(t.heads[1].status, 204);
}

TEST(Http1ResponseTest, ContinueIsItsOwnMessage) {
  const Trace t = response(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(t.events, "HCHCHBC") << t.errorReason;
  EXPECT_EQ(t.heads[0].status, 100);
  EXPECT_EQ(t.heads[1].status, 103);
  EXPECT_EQ(t.bodies[2], "ok");
  // The method given for the response stays in force across interim responses.
  Options head;
  head.methods = {"HEAD"};
  EXPECT_EQ(
      response("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", head)
          .events,
      "HCHC");
  EXPECT_EQ(response("HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\nx").errorStatus, 502);
}

TEST(Http1ResponseTest, ResponsesWithoutBodies) {
  Options head;
  head.methods = {"HEAD", "GET"};
  const Trace t = response(
      "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      head);
  ASSERT_EQ(t.events, "HCHBC") << t.errorReason;
  EXPECT_EQ(t.heads[0].contentLength, 0u);
  EXPECT_EQ(t.heads[0].headers[0].second, "1000");  // forwarded as it came
  EXPECT_EQ(t.bodies[1], "ok");
  Options headChunked;
  headChunked.methods = {"HEAD"};
  EXPECT_EQ(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", headChunked).events,
            "HC");
  EXPECT_EQ(response("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
                     "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                .events,
            "HCHC");
  EXPECT_EQ(response("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello").errorStatus, 502);
  EXPECT_EQ(response("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n").errorStatus,
            502);
}

TEST(Http1ResponseTest, CloseDelimitedBody) {
  Options eof;
  eof.eof = true;
  const Trace t = response("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", eof);
  ASSERT_EQ(t.events, "HBC") << t.errorReason;
  EXPECT_EQ(t.bodies[0], "until the end");
  EXPECT_FALSE(t.heads[0].keepAlive);
  EXPECT_FALSE(t.heads[0].contentLength.has_value());
  // Without the EOF the body is still open.
  EXPECT_EQ(response("HTTP/1.1 200 OK\r\n\r\nabc").events, "HB");
  // An EOF that cuts a message short is an error; one between messages is not.
  EXPECT_EQ(response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", eof).errorStatus, 502);
  EXPECT_EQ(
      response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc", eof).errorStatus,
      502);
  EXPECT_EQ(response("HTTP/1.1 200 OK\r\nContent-", eof).errorStatus, 502);
  EXPECT_EQ(response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", eof).events, "HBC");
  EXPECT_EQ(response("", eof).events, "");
  // The body limit holds for a close-delimited body too, at the same byte however it is split.
  Options small = eof;
  small.limits.maxBodyBytes = 4;
  const Trace limited = response("HTTP/1.1 200 OK\r\n\r\nabcdef", small);
  EXPECT_EQ(limited.events, "HBE");
  EXPECT_EQ(limited.bodies[0], "abcd");
  EXPECT_EQ(limited.errorStatus, 502);
}

TEST(Http1ResponseTest, Upgrades) {
  Options upgrade;
  upgrade.upgrade = true;
  const Trace t = response(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
      "\x81\x02hi",
      upgrade);
  ASSERT_EQ(t.events, "HU") << t.errorReason;
  EXPECT_EQ(t.heads[0].status, 101);
  EXPECT_EQ(t.rest, "\x81\x02hi");  // opaque, untouched
  EXPECT_EQ(response("HTTP/1.1 101 Switching Protocols\r\n\r\n").errorStatus, 502);
  // An upgrade request answered normally: the connection goes on as HTTP/1.1.
  EXPECT_EQ(response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                     "HTTP/1.1 101 Switching Protocols\r\n\r\n",
                     upgrade)
                .errorStatus,
            502);
  Options connect;
  connect.methods = {"CONNECT"};
  const Trace tunnel = response(
      "HTTP/1.1 200 Connection Established\r\nContent-Length: 9\r\n\r\nTLS bytes", connect);
  EXPECT_EQ(tunnel.events, "HU");
  EXPECT_EQ(tunnel.rest, "TLS bytes");
  EXPECT_EQ(response("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno", connect).events,
            "HBC");
}

TEST(Http1ResponseTest, ErrorsAreFinal) {
  Parser parser(Kind::kResponse);
  std::string_view in = "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parser.next(in), Event::kError);
  EXPECT_EQ(parser.error().status, 502);
  in = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parser.next(in), Event::kError);
}

// ---- serialisation ----

Trace reparse(Kind kind, const std::string& bytes) { return runAllWays(kind, bytes); }

TEST(Http1SerialiseTest, RequestHeadRoundTrips) {
  const Trace t = request(
      "POST /a?b=%20 HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n");
  ASSERT_EQ(t.heads.size(), 1u);
  std::string out;
  appendRequestHead(t.heads[0], out);
  appendChunk("hello", out);
  appendChunk("", out);
  appendChunk(std::string(300, 'z'), out);
  appendLastChunk({{"x-sum", "1"}}, out);
  EXPECT_EQ(out.substr(0, 17), "POST /a?b=%20 HTT");
  const Trace again = reparse(Kind::kRequest, out);
  ASSERT_EQ(again.events, "HBTC") << again.errorReason;
  EXPECT_EQ(again.heads[0].method, t.heads[0].method);
  EXPECT_EQ(again.heads[0].target, t.heads[0].target);
  EXPECT_EQ(again.heads[0].headers, t.heads[0].headers);
  EXPECT_EQ(again.bodies[0], "hello" + std::string(300, 'z'));
  EXPECT_EQ(again.trailers[0], (Headers{{"x-sum", "1"}}));
}

TEST(Http1SerialiseTest, ResponseHeadRoundTrips) {
  MessageHead head;
  head.status = 503;
  head.reason = "Service Unavailable";
  head.headers = {{"content-length", "0"}, {"retry-after", "1"}};
  std::string out;
  appendResponseHead(head, out);
  EXPECT_EQ(out, "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nretry-after: 1\r\n\r\n");
  const Trace again = reparse(Kind::kResponse, out);
  ASSERT_EQ(again.events, "HC");
  EXPECT_EQ(again.heads[0].status, 503);
  EXPECT_EQ(again.heads[0].reason, head.reason);
  EXPECT_EQ(again.heads[0].headers, head.headers);
}

// A proxy moves the fields out instead of copying them; the body and the next message parse
// as before, and each message starts with its own fields.
TEST(Http1Codec, TakeHeadersLeavesTheRestOfTheHeadAndTheBody) {
  Parser parser(Kind::kRequest);
  std::string_view input =
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-Long: 0123456789abcdefghij\r\n\r\nabc"
      "GET /b HTTP/1.1\r\nHost: y\r\n\r\n";
  ASSERT_EQ(parser.next(input), Event::kHead);
  Headers fields = parser.takeHeaders();
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>("x-long", "0123456789abcdefghij")));
  EXPECT_TRUE(parser.head().headers.empty());
  EXPECT_EQ(parser.head().method, "POST");
  EXPECT_EQ(parser.head().contentLength, 3u);
  ASSERT_EQ(parser.next(input), Event::kBody);
  EXPECT_EQ(parser.body(), "abc");
  ASSERT_EQ(parser.next(input), Event::kComplete);
  ASSERT_EQ(parser.next(input), Event::kHead);
  EXPECT_EQ(parser.head().target, "/b");
  ASSERT_EQ(parser.head().headers.size(), 1u);
  EXPECT_EQ(parser.head().headers[0].second, "y");
}

}  // namespace
}  // namespace braid::http1
