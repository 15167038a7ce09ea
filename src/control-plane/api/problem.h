#pragma once

// Error responses in the contract's JSON shape (CONTRACT §3):
// {"title":"…","details":"…","invalid_parameters":[{"field":"…","reason":"…"}]}

#include <string>

#include "common/field_errors.h"
#include "common/http/server.h"

namespace braid::api {

http::Response problem(int status, const std::string& title, const std::string& details);
http::Response invalidResource(const std::string& details, const FieldErrors& errors);

inline http::Response methodNotAllowed(const std::string& method) {
  return problem(405, "Method not allowed", "method " + method + " is not allowed here");
}
inline http::Response notFound(const std::string& details) {
  return problem(404, "Not found", details);
}
inline http::Response badRequest(const std::string& details) {
  return problem(400, "Bad request", details);
}

}  // namespace braid::api
