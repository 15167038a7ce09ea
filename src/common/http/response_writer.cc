#include "common/http/response_writer.h"

#include <algorithm>
#include <ctime>

#include "common/json.h"

namespace braid::http {

namespace {

bool equalsIgnoreCase(const std::string& a, const char* b) {
  size_t i = 0;
  for (; i < a.size() && b[i] != '\0'; ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != b[i]) return false;
  }
  return i == a.size() && b[i] == '\0';
}

bool isTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string httpDate() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  const size_t n = std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string(text, n);
}

}  // namespace

const char* reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
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

bool hasValidHeaders(const Response& response) {
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return isTchar(static_cast<unsigned char>(c));
        })) {
      return false;
    }
    for (const char ch : value) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
  }
  return true;
}

std::string serializeResponse(const Response& response, const ResponseFraming& framing) {
  const int status = response.status;
  // 1xx, 204 and 304 responses never carry a body (RFC 9110 §6.4.1).
  const bool bodiless = status < 200 || status == 204 || status == 304;
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  bool hasDate = false;
  for (const auto& [name, value] : response.headers) {
    if (equalsIgnoreCase(name, "content-length") || equalsIgnoreCase(name, "transfer-encoding") ||
        equalsIgnoreCase(name, "connection")) {
      continue;
    }
    hasDate = hasDate || equalsIgnoreCase(name, "date");
    out += name + ": " + value + "\r\n";
  }
  if (!hasDate) out += "Date: " + httpDate() + "\r\n";
  if (!bodiless) out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (framing.close) {
    out += "Connection: close\r\n";
  } else if (framing.keepAlive) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (!bodiless && !framing.headRequest) out += response.body;
  return out;
}

Response errorResponse(int status, const std::string& details) {
  Json body = {{"title", reasonPhrase(status)}, {"details", details}};
  return Response::json(status, body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace braid::http
