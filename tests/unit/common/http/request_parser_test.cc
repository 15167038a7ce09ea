#include "common/http/request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/golden.h"

namespace braid::http {
namespace {

// What a parser made of some bytes: the requests it completed and, if it stopped on an error, the
// status. `events` records kHead/kRequest/kError so ordering can be checked.
struct Outcome {
  std::vector<ParsedRequest> requests;
  int errorStatus = 0;
  std::string errorReason;
  std::string events;
};

// Feeds `input` in pieces of `piece` bytes (0 = all at once) and drains every event.
Outcome parse(const std::string& input, size_t piece = 0, ParserLimits limits = {}) {
  RequestParser parser(limits);
  Outcome out;
  size_t offset = 0;
  while (true) {
    const RequestParser::Event event = parser.next();
    if (event == RequestParser::Event::kNeedMore) {
      if (offset == input.size()) break;
      const size_t n = piece == 0 ? input.size() - offset : std::min(piece, input.size() - offset);
      parser.feed(std::string_view(input).substr(offset, n));
      offset += n;
    } else if (event == RequestParser::Event::kHead) {
      out.events += 'H';
    } else if (event == RequestParser::Event::kRequest) {
      out.events += 'R';
      out.requests.push_back(parser.takeRequest());
    } else {
      out.events += 'E';
      out.errorStatus = parser.error().status;
      out.errorReason = parser.error().reason;
      break;
    }
  }
  return out;
}

struct Case {
  const char* name;
  std::string input;
  int status;  // 0: one complete request expected, no error
};

std::vector<Case> cases() {
  const std::string h = "Host: a.test\r\n";
  return {
      {"simple_get", "GET / HTTP/1.1\r\n" + h + "\r\n", 0},
      {"http10_without_host", "GET / HTTP/1.0\r\n\r\n", 0},
      {"options_star", "OPTIONS * HTTP/1.1\r\n" + h + "\r\n", 0},
      {"empty_host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0},
      {"host_with_port", "GET / HTTP/1.1\r\nHost: [::1]:5681\r\n\r\n", 0},
      {"content_length_zero", "POST / HTTP/1.1\r\n" + h + "Content-Length: 0\r\n\r\n", 0},
      {"content_length_leading_zeros", "POST / HTTP/1.1\r\n" + h + "Content-Length: 002\r\n\r\nab",
       0},
      {"chunked_uppercase_name",
       "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n", 0},
      {"chunk_extension",
       "POST / HTTP/1.1\r\n" + h +
           "Transfer-Encoding: chunked\r\n\r\n2;a=b;c;d=\"x\\\"y\"\r\nab\r\n0\r\n\r\n",
       0},
      {"obs_text_in_value", "GET / HTTP/1.1\r\n" + h + "X-Name: caf\xc3\xa9\r\n\r\n", 0},
      {"tab_in_value", "GET / HTTP/1.1\r\n" + h + "X-Name: a\tb\r\n\r\n", 0},
      {"percent_escapes", "GET /a%20b?x=%41 HTTP/1.1\r\n" + h + "\r\n", 0},
      {"lowercase_method_is_a_token", "get / HTTP/1.1\r\n" + h + "\r\n", 0},
      {"no_space_after_colon", "GET / HTTP/1.1\r\nHost:a.test\r\n\r\n", 0},
      {"missing_host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"bare_lf", "GET / HTTP/1.1\n" + h + "\r\n", 400},
      {"bare_cr", "GET / HTTP/1.1\r" + h + "\r\n", 400},
      {"obs_fold", "GET / HTTP/1.1\r\n" + h + "X: a\r\n\tb\r\n\r\n", 400},
      {"space_before_colon", "GET / HTTP/1.1\r\n" + h + "X : a\r\n\r\n", 400},
      {"empty_header_name", "GET / HTTP/1.1\r\n" + h + ": a\r\n\r\n", 400},
      {"nul_in_value", std::string("GET / HTTP/1.1\r\n") + h + "X: a" + '\0' + "\r\n\r\n", 400},
      {"escape_char_in_value", "GET / HTTP/1.1\r\n" + h + "X: \x1b[31m\r\n\r\n", 400},
      {"cl_and_te",
       "POST / HTTP/1.1\r\n" + h +
           "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"cl_list", "POST / HTTP/1.1\r\n" + h + "Content-Length: 1,1\r\n\r\na", 400},
      {"cl_repeated", "POST / HTTP/1.1\r\n" + h + "Content-Length: 1\r\nContent-Length: 1\r\n\r\na",
       400},
      {"cl_sign", "POST / HTTP/1.1\r\n" + h + "Content-Length: +1\r\n\r\na", 400},
      {"cl_over_limit", "POST / HTTP/1.1\r\n" + h + "Content-Length: 8388609\r\n\r\n", 413},
      {"cl_at_limit_is_fine_until_body",
       "POST / HTTP/1.1\r\n" + h + "Content-Length: 8388608\r\n\r\n", -1},
      {"te_gzip", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n", 501},
      {"te_chunked_twice_in_list",
       "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 501},
      {"te_empty", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding:\r\n\r\n", 400},
      {"chunk_size_bwS",
       "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1 ;a\r\nx\r\n0\r\n\r\n", 400},
      {"chunk_extension_unterminated_quote",
       "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1;a=\"x\r\nx\r\n0\r\n\r\n",
       400},
      {"chunk_size_leading_zeros_ok",
       "POST / HTTP/1.1\r\n" + h +
           "Transfer-Encoding: chunked\r\n\r\n"
           "00000000000000000000001\r\nx\r\n0\r\n\r\n",
       0},
      {"chunk_size_16_digits",
       "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", 400},
      {"chunk_size_over_limit",
       "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nfffffff\r\n", 413},
      {"chunk_data_then_cr_only",
       "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\rX0\r\n\r\n", 400},
      {"trailer_host",
       "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0\r\nHost: b\r\n\r\n", 400},
      {"target_not_origin_form", "GET example.test/ HTTP/1.1\r\n" + h + "\r\n", 400},
      {"target_non_ascii", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + h + "\r\n", 400},
      {"target_truncated_escape", "GET /a%4 HTTP/1.1\r\n" + h + "\r\n", 400},
      {"star_for_get", "GET * HTTP/1.1\r\n" + h + "\r\n", 400},
      {"version_09", "GET /\r\n\r\n", 400},
      {"version_11_trailing_space", "GET / HTTP/1.1 \r\n" + h + "\r\n", 400},
      {"version_3", "GET / HTTP/3.0\r\n" + h + "\r\n", 505},
      {"empty_method", " / HTTP/1.1\r\n" + h + "\r\n", 400},
      {"expect_other", "GET / HTTP/1.1\r\n" + h + "Expect: something\r\n\r\n", 417},
      {"expect_ignored_in_http10", "GET / HTTP/1.0\r\nExpect: something\r\n\r\n", 0},
  };
}

class ParserCaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(ParserCaseTest, SameOutcomeWholeAndByteByByte) {
  const Case& c = GetParam();
  for (size_t piece : {size_t{0}, size_t{1}, size_t{7}}) {
    SCOPED_TRACE("piece size " + std::to_string(piece));
    const Outcome out = parse(c.input, piece);
    if (c.status == 0) {
      EXPECT_EQ(out.errorStatus, 0) << out.errorReason;
      EXPECT_EQ(out.events, "HR");
    } else if (c.status == -1) {
      // Valid head, body still to come.
      EXPECT_EQ(out.events, "H");
    } else {
      EXPECT_EQ(out.errorStatus, c.status) << out.errorReason;
      EXPECT_TRUE(out.requests.empty());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ParserCaseTest, ::testing::ValuesIn(cases()),
                         [](const auto& test) { return std::string(test.param.name); });

TEST(RequestParserTest, ParsesHeadAndBody) {
  const Outcome out = parse(
      "PUT /meshes/default?x=1 HTTP/1.1\r\nHost: a.test\r\nX-Mixed-Case:  spaced value \t\r\n"
      "Content-Length: 5\r\n\r\nhello");
  ASSERT_EQ(out.requests.size(), 1u);
  const ParsedRequest& r = out.requests[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/meshes/default?x=1");
  EXPECT_EQ(r.minorVersion, 1);
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.headers[1].first, "x-mixed-case");
  EXPECT_EQ(r.headers[1].second, "spaced value");
  EXPECT_EQ(r.body, "hello");
  EXPECT_TRUE(r.keepAlive);
  EXPECT_FALSE(r.expectContinue);
}

TEST(RequestParserTest, DechunksBodyAndKeepsTrailers) {
  for (size_t piece : {size_t{0}, size_t{1}, size_t{3}}) {
    const Outcome out = parse(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n9;ext=1\r\n, world!!\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n",
        piece);
    ASSERT_EQ(out.requests.size(), 1u) << out.errorReason;
    EXPECT_EQ(out.requests[0].body, "hello, world!!");
    EXPECT_TRUE(out.requests[0].chunked);
    ASSERT_EQ(out.requests[0].trailers.size(), 2u);
    EXPECT_EQ(out.requests[0].trailers[0].first, "x-checksum");
    EXPECT_EQ(out.requests[0].trailers[0].second, "abc");
  }
}

TEST(RequestParserTest, PipelinedRequestsComeOutInOrder) {
  const std::string input =
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
      "GET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  for (size_t piece : {size_t{0}, size_t{1}, size_t{5}, size_t{64}}) {
    const Outcome out = parse(input, piece);
    ASSERT_EQ(out.requests.size(), 4u) << out.errorReason;
    EXPECT_EQ(out.events, "HRHRHRHR");
    EXPECT_EQ(out.requests[0].target, "/1");
    EXPECT_EQ(out.requests[1].body, "abc");
    EXPECT_EQ(out.requests[2].body, "z");
    EXPECT_EQ(out.requests[3].target, "/4");
    EXPECT_FALSE(out.requests[3].keepAlive);
  }
}

TEST(RequestParserTest, ErrorAfterAValidRequestKeepsTheFirst) {
  const Outcome out = parse("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\nHost: a\r\n\r\n");
  EXPECT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.errorStatus, 400);
}

TEST(RequestParserTest, ErrorIsFinal) {
  RequestParser parser;
  parser.feed("GET / HTTP/1.1\nHost: a\r\n\r\n");
  EXPECT_EQ(parser.next(), RequestParser::Event::kError);
  parser.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(parser.next(), RequestParser::Event::kError);
  EXPECT_EQ(parser.error().status, 400);
}

TEST(RequestParserTest, KeepAliveRules) {
  const auto keepAlive = [](const std::string& input) {
    const Outcome out = parse(input);
    EXPECT_EQ(out.requests.size(), 1u) << input;
    return !out.requests.empty() && out.requests[0].keepAlive;
  };
  EXPECT_TRUE(keepAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_FALSE(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: te, Close\r\n\r\n"));
  EXPECT_FALSE(keepAlive("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  EXPECT_FALSE(keepAlive("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
}

TEST(RequestParserTest, ExpectContinueIsReportedWithTheHead) {
  RequestParser parser;
  parser.feed("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n");
  ASSERT_EQ(parser.next(), RequestParser::Event::kHead);
  EXPECT_TRUE(parser.request().expectContinue);
  EXPECT_TRUE(parser.request().expectsBody());
  EXPECT_EQ(parser.next(), RequestParser::Event::kNeedMore);
  parser.feed("ok");
  ASSERT_EQ(parser.next(), RequestParser::Event::kRequest);
  EXPECT_EQ(parser.takeRequest().body, "ok");
  EXPECT_TRUE(parser.idle());
}

TEST(RequestParserTest, IdleAndReadingHead) {
  RequestParser parser;
  EXPECT_TRUE(parser.idle());
  EXPECT_FALSE(parser.readingHead());
  parser.feed("GE");
  EXPECT_EQ(parser.next(), RequestParser::Event::kNeedMore);
  EXPECT_FALSE(parser.idle());
  EXPECT_TRUE(parser.readingHead());
  parser.feed("T / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n");
  EXPECT_EQ(parser.next(), RequestParser::Event::kHead);
  EXPECT_EQ(parser.next(), RequestParser::Event::kNeedMore);
  EXPECT_FALSE(parser.readingHead());
  EXPECT_FALSE(parser.idle());
}

TEST(RequestParserTest, HeaderLimitsAreConfigurable) {
  ParserLimits limits;
  limits.maxHeaderBytes = 64;
  limits.maxHeaders = 2;
  // Exactly 64 bytes of head is accepted; one more is not.
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(32, 'v') + "\r\n\r\n";
  ASSERT_EQ(head.size(), 64u);
  EXPECT_EQ(parse(head, 0, limits).errorStatus, 0);
  const std::string longer = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(33, 'v') + "\r\n\r\n";
  EXPECT_EQ(parse(longer, 0, limits).errorStatus, 431);
  EXPECT_EQ(parse(longer, 1, limits).errorStatus, 431);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", 0, limits).errorStatus, 431);
  // A head that never ends is refused as soon as it passes the limit, not buffered forever.
  EXPECT_EQ(
      parse("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(1000, 'v'), 1, limits).errorStatus,
      431);
}

TEST(RequestParserTest, BodyLimitCountsEveryChunk) {
  ParserLimits limits;
  limits.maxBodyBytes = 4;
  const std::string chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(parse(chunked + "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n", 0, limits).errorStatus, 0);
  EXPECT_EQ(parse(chunked + "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n", 0, limits).errorStatus, 413);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 0, limits).errorStatus,
            413);
}

// Every file of the smuggling corpus is refused with its expected status, however it is split,
// and no request ever completes.
TEST(RequestParserTest, SmugglingCorpus) {
  const auto dir = braid::testing::sourceDir() / "tests/golden/http/smuggling";
  const auto files = braid::testing::filesIn(dir, ".http");
  ASSERT_GE(files.size(), 40u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const std::string input = braid::testing::readFile(file);
    auto statusFile = file;
    statusFile.replace_extension(".status");
    const int expected = std::stoi(braid::testing::readFile(statusFile));
    for (size_t piece : {size_t{0}, size_t{1}, size_t{13}}) {
      const Outcome out = parse(input, piece);
      EXPECT_EQ(out.errorStatus, expected) << out.errorReason;
      EXPECT_TRUE(out.requests.empty());
    }
  }
}

}  // namespace
}  // namespace braid::http
