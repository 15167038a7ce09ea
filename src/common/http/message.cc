// Request and Response helpers declared in server.h.
#include <algorithm>

#include "common/http/server.h"
#include "common/http/url.h"

namespace braid::http {

namespace {

std::string toLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return s;
}

}  // namespace

std::string Request::header(const std::string& name) const {
  const std::string lower = toLower(name);
  for (const auto& [key, value] : headers) {
    if (key == lower) return value;
  }
  return "";
}

std::string Request::queryParam(const std::string& name, const std::string& fallback) const {
  for (auto& [key, value] : parseQuery(query)) {
    if (key == name) return std::move(value);
  }
  return fallback;
}

bool Request::hasQueryParam(const std::string& name) const {
  const auto params = parseQuery(query);
  return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
}

Response Response::json(int status, std::string body) {
  return Response{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

Response Response::text(int status, std::string body) {
  return Response{status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body)};
}

}  // namespace braid::http
