#include "common/http/request_parser.h"

#include <utility>

namespace braid::http {

RequestParser::RequestParser(ParserLimits limits)
    : codec_(http1::Parser::Kind::kRequest,
             http1::Limits{limits.maxHeaderBytes, limits.maxHeaders, limits.maxBodyBytes}) {}

void RequestParser::feed(std::string_view bytes) {
  if (failed_) return;
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
  failed_ = true;
  error_ = ParseError{status, std::move(reason)};
  buffer_.clear();
  pos_ = 0;
  return Event::kError;
}

RequestParser::Event RequestParser::next() {
  using Codec = http1::Parser::Event;
  while (!failed_) {
    std::string_view input = std::string_view(buffer_).substr(pos_);
    const size_t before = input.size();
    const Codec event = codec_.next(input);
    pos_ += before - input.size();
    switch (event) {
      case Codec::kNeedMore:
        return Event::kNeedMore;
      case Codec::kHead: {
        const http1::MessageHead& head = codec_.head();
        // The API names resources by path: a tunnel request has no meaning here.
        if (head.method == "CONNECT") return fail(400, "invalid request target");
        current_ = ParsedRequest{};
        current_.method = head.method;
        current_.target = head.target;
        current_.minorVersion = head.minorVersion;
        current_.headers = head.headers;
        current_.chunked = head.chunked;
        current_.contentLength = head.contentLength.value_or(0);
        current_.keepAlive = head.keepAlive;
        current_.expectContinue = head.expectContinue;
        inMessage_ = true;
        return Event::kHead;
      }
      case Codec::kBody:
        current_.body.append(codec_.body());
        break;
      case Codec::kTrailers:
        current_.trailers = codec_.trailers();
        break;
      case Codec::kComplete:
        inMessage_ = false;
        return Event::kRequest;
      case Codec::kUpgraded:  // a request parser never reports it
      case Codec::kError:
        return fail(codec_.error().status, codec_.error().reason);
    }
  }
  return Event::kError;
}

}  // namespace braid::http
