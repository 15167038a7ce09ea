#include "dataplane/filters/http/local_reply.h"

#include "common/http/http1_codec.h"

namespace braid::dataplane::hcm {

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

std::string localReply(int status, std::string_view body, bool close,
                       const braid::http::Headers& extra) {
  http1::MessageHead head;
  head.status = status;
  head.reason = std::string(reasonPhrase(status));
  head.headers = extra;
  head.headers.emplace_back("content-type", "text/plain");
  head.headers.emplace_back("content-length", std::to_string(body.size()));
  if (close) head.headers.emplace_back("connection", "close");
  std::string out;
  http1::appendResponseHead(head, out);
  out.append(body);
  return out;
}

}  // namespace braid::dataplane::hcm
