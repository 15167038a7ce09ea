// POST /tokens/dataplane (CONTRACT §3): validates the request and asks the token issuer.
#include <chrono>

#include "common/document_limits.h"
#include "common/duration.h"
#include "control-plane/api/api_handler.h"
#include "control-plane/api/problem.h"

namespace braid::api {

// {"mesh":…,"name":…,"tags":{…},"validFor":"24h"} → the token as text (CONTRACT §3).
http::Response ApiHandler::issueDataplaneToken(const http::Request& request) {
  if (!options_.issueDataplaneToken) {
    return problem(501, "Not implemented", "this control plane does not issue dataplane tokens");
  }
  std::string parseError;
  auto parsed = parseJsonBounded(request.body, parseError);
  if (!parsed) return badRequest("the body is not valid JSON: " + parseError);
  const Json doc = std::move(*parsed);
  if (!doc.is_object()) return badRequest("the body must be a JSON object");
  FieldErrors errors;
  auto stringField = [&](const char* key) -> std::string {
    if (!doc.contains(key)) {
      errors.add(key, "required");
      return "";
    }
    if (!doc.at(key).is_string()) {
      errors.add(key, "must be a string");
      return "";
    }
    return doc.at(key).get<std::string>();
  };
  std::string mesh = stringField("mesh");
  std::string name = stringField("name");
  if (!mesh.empty()) validateMeshName(mesh, "mesh", errors);
  if (!name.empty()) validateResourceName(name, "name", false, errors);
  std::map<std::string, std::string> tags;
  if (doc.contains("tags")) {
    const Json& t = doc.at("tags");
    if (!t.is_object()) {
      errors.add("tags", "must be an object of strings");
    } else {
      for (const auto& [k, v] : t.items()) {
        if (v.is_string()) {
          tags[k] = v.get<std::string>();
        } else {
          errors.add("tags." + k, "must be a string");
        }
      }
    }
  }
  int64_t validFor = 24 * 3600;
  if (doc.contains("validFor")) {
    const Json& v = doc.at("validFor");
    auto d = v.is_string() ? parseDuration(v.get<std::string>()) : std::nullopt;
    if (!d || d->count() <= 0) {
      errors.add("validFor", "must be a positive duration such as 24h or 30m");
    } else {
      validFor = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(*d).count());
    }
  }
  if (errors.empty()) {
    std::string storeError;
    if (!meshExists(mesh, storeError)) {
      if (!storeError.empty()) return storeFailure({store::ErrorCode::kUnavailable, storeError});
      errors.add("mesh", "mesh '" + mesh + "' does not exist");
    }
  }
  if (!errors.empty()) return invalidResource("invalid token request", errors);
  std::string token, error;
  if (!options_.issueDataplaneToken(mesh, name, tags, validFor, token, error)) {
    return problem(500, "Internal error", "cannot issue the token: " + error);
  }
  return http::Response::text(200, token + "\n");
}

}  // namespace braid::api
