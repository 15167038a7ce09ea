// The codec's state machine: lines, bodies, chunks and end of stream. The head's rules (start
// lines, fields, framing) are in http1_head.cc.
#include "common/http/http1_codec.h"

#include <algorithm>
#include <utility>

#include "common/http/http1_syntax.h"

namespace braid::http1 {

namespace {

// A chunk-size line carries a size and perhaps extensions; anything longer is an attack.
constexpr size_t kMaxChunkLine = 4096;
// 15 hex digits (60 bits) cannot overflow a uint64_t; a longer size is refused as malformed.
constexpr size_t kMaxChunkSizeDigits = 15;

}  // namespace

Parser::Parser(Kind kind, Limits limits) : kind_(kind), limits_(limits) {}

void Parser::expectResponseTo(std::string_view method) { nextMethod_ = std::string(method); }

void Parser::expectUpgrade(bool requested) { upgradeRequested_ = requested; }

void Parser::noteEof() { eof_ = true; }

bool Parser::idle() const { return state_ == State::kStartLine && pending_.empty(); }

Parser::Event Parser::fail(std::string reason, int status) {
  state_ = State::kError;
  // Whatever is wrong with a response, the client gets a gateway error.
  error_ =
      ParseError{kind_ == Kind::kResponse ? 502 : (status == 0 ? 400 : status), std::move(reason)};
  pending_.clear();
  pending_.shrink_to_fit();
  body_ = {};
  return Event::kError;
}

// Offsets below count from the start of the line (pending_, then input). Every decision depends
// only on the bytes at offsets below `limit` (plus the byte after a CR), never on where the input
// was split, so the same bytes give the same verdict fed whole or one at a time.
Parser::LineResult Parser::takeLine(std::string_view& input, size_t limit, int tooLongStatus,
                                    std::string_view& line) {
  const size_t have = pending_.size();  // holds no LF, and a CR only as its last byte
  if (have > 0 && pending_.back() == '\r') {
    if (input.empty()) return LineResult::kNeedMore;
    if (input.front() != '\n') {
      fail("CR not followed by LF (bare CR)");
      return LineResult::kError;
    }
    input.remove_prefix(1);
    pending_.pop_back();
    line = pending_;
    return LineResult::kLine;
  }
  const char* tooLong = tooLongStatus == 414   ? "request line too long"
                        : tooLongStatus == 431 ? "header section too large"
                                               : "line too long";
  const size_t window = limit > have ? std::min(input.size(), limit - have) : 0;
  bool crLast = false;  // the input ends with the line's CR: its LF is still to come
  for (size_t i = 0; i < window && !crLast; ++i) {
    const char c = input[i];
    if (c == '\n') {
      fail("line ending without CR (bare LF)");
      return LineResult::kError;
    }
    if (c != '\r') continue;
    if (have + i + 2 > limit) {
      fail(tooLong, tooLongStatus);
      return LineResult::kError;
    }
    if (i + 1 == input.size()) {
      crLast = true;
    } else if (input[i + 1] != '\n') {
      fail("CR not followed by LF (bare CR)");
      return LineResult::kError;
    } else {
      if (have == 0) {
        line = input.substr(0, i);  // the whole line is in the input: no copy
      } else {
        pending_.append(input.data(), i);
        line = pending_;
      }
      input.remove_prefix(i + 2);
      return LineResult::kLine;
    }
  }
  // No terminator at any offset below the limit: the line cannot end in time.
  if (!crLast && have + window >= limit) {
    fail(tooLong, tooLongStatus);
    return LineResult::kError;
  }
  pending_.append(input);
  input = {};
  return LineResult::kNeedMore;
}

Parser::Event Parser::next(std::string_view& input) {
  body_ = {};
  while (true) {
    switch (state_) {
      case State::kError:
        return Event::kError;
      case State::kUpgrade:
        return Event::kUpgraded;
      case State::kMessageDone:
      case State::kTrailersDone:
        finishMessage();
        return Event::kComplete;

      case State::kStartLine:
      case State::kHeaderLine:
      case State::kTrailerLine: {
        const bool startLine = state_ == State::kStartLine;
        const int status = startLine && kind_ == Kind::kRequest ? 414 : 431;
        std::string_view line;
        const LineResult result = takeLine(
            input, limits_.maxHeaderBytes - std::min(sectionBytes_, limits_.maxHeaderBytes), status,
            line);
        if (result == LineResult::kError) return Event::kError;
        if (result == LineResult::kNeedMore) {
          if (!eof_ || (startLine && pending_.empty())) return Event::kNeedMore;
          return fail("connection closed in the middle of a message head");
        }
        sectionBytes_ += line.size() + 2;
        const Event event = onLine(line);
        pending_.clear();
        if (event != Event::kNeedMore) return event;
        break;
      }

      case State::kChunkSize: {
        std::string_view line;
        const LineResult result = takeLine(input, kMaxChunkLine, 400, line);
        if (result == LineResult::kError) return Event::kError;
        if (result == LineResult::kNeedMore) {
          if (!eof_) return Event::kNeedMore;
          return fail("connection closed in the middle of a chunked body");
        }
        const Event event = onChunkSize(line);
        pending_.clear();
        if (event != Event::kNeedMore) return event;
        break;
      }

      case State::kBodyLength:
      case State::kChunkData: {
        if (input.empty()) {
          if (!eof_) return Event::kNeedMore;
          return fail("connection closed in the middle of a body");
        }
        const size_t take = static_cast<size_t>(std::min<uint64_t>(input.size(), remaining_));
        body_ = input.substr(0, take);
        input.remove_prefix(take);
        remaining_ -= take;
        if (remaining_ == 0) {
          if (state_ == State::kBodyLength) {
            state_ = State::kMessageDone;
          } else {
            state_ = State::kChunkDataEnd;
            remaining_ = 2;
          }
        }
        return Event::kBody;
      }

      case State::kChunkDataEnd: {
        if (input.empty()) {
          if (!eof_) return Event::kNeedMore;
          return fail("connection closed in the middle of a chunked body");
        }
        if (input.front() != (remaining_ == 2 ? '\r' : '\n')) {
          return fail("chunk data not followed by CRLF");
        }
        input.remove_prefix(1);
        if (--remaining_ == 0) state_ = State::kChunkSize;
        break;
      }

      case State::kBodyClose: {
        if (input.empty()) {
          if (!eof_) return Event::kNeedMore;
          finishMessage();
          return Event::kComplete;
        }
        // What fits under the limit goes out first, so the error comes at the same byte
        // however the input was split.
        const uint64_t room = limits_.maxBodyBytes - bodyBytes_;
        if (room == 0) return fail("body too large", 413);
        const size_t take = static_cast<size_t>(std::min<uint64_t>(input.size(), room));
        bodyBytes_ += take;
        body_ = input.substr(0, take);
        input.remove_prefix(take);
        return Event::kBody;
      }
    }
  }
}

Parser::Event Parser::onLine(std::string_view line) {
  switch (state_) {
    case State::kStartLine:
      return kind_ == Kind::kRequest ? onRequestLine(line) : onStatusLine(line);
    case State::kHeaderLine:
      return line.empty() ? onHeadComplete() : onFieldLine(line, false);
    default:  // kTrailerLine
      if (!line.empty()) return onFieldLine(line, true);
      if (trailers_.empty()) {
        finishMessage();
        return Event::kComplete;
      }
      state_ = State::kTrailersDone;
      return Event::kTrailers;
  }
}

Parser::Event Parser::onChunkSize(std::string_view line) {
  size_t i = 0;
  size_t significant = 0;
  uint64_t size = 0;
  for (; i < line.size(); ++i) {
    const int digit = syntax::hexValue(line[i]);
    if (digit < 0) break;
    if (significant > 0 || digit > 0) ++significant;
    if (significant > kMaxChunkSizeDigits) return fail("chunk size overflows");
    size = size * 16 + static_cast<uint64_t>(digit);
  }
  if (i == 0) return fail("invalid chunk size");
  // Extensions are checked and dropped (ADR 0003): nothing we forward depends on them.
  if (!syntax::isValidChunkExtensions(line.substr(i))) {
    return fail("invalid chunk size or extension");
  }
  if (size > limits_.maxBodyBytes - bodyBytes_) return fail("body too large", 413);
  bodyBytes_ += size;
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

void Parser::finishMessage() {
  // An interim (1xx) response leaves the request's method and upgrade in force for the final one.
  if (kind_ == Kind::kResponse && head_.status >= 200) {
    nextMethod_.clear();
    upgradeRequested_ = false;
  }
  state_ = State::kStartLine;
  // A long header line may have grown the line buffer; an idle keep-alive connection keeps none.
  if (pending_.capacity() > 1024) std::string().swap(pending_);
  sectionBytes_ = 0;
  sectionFields_ = 0;
  bodyBytes_ = 0;
  remaining_ = 0;
}

}  // namespace braid::http1
