// POST /tokens/dataplane (CONTRACT §3): validates the request and asks the token issuer; and the
// administration of dataplane tokens:
//   POST   /tokens/dataplane/revocations               {"mesh":…,"id":…}  revoke a token by its jti
//   POST   /tokens/dataplane/signing-keys              {"mesh":…}         rotate: a new signing key
//   DELETE /tokens/dataplane/signing-keys/{mesh}/{key}                    retire an old key
#include <chrono>
#include <map>
#include <vector>

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

namespace {

// The string fields `keys` of a JSON object body, every problem listed.
bool stringFields(const http::Request& request, const std::vector<const char*>& keys,
                  std::map<std::string, std::string>& out, http::Response& failure) {
  std::string parseError;
  auto parsed = parseJsonBounded(request.body, parseError);
  if (!parsed || !parsed->is_object()) {
    failure = badRequest("the body must be a JSON object" +
                         (parseError.empty() ? "" : ": " + parseError));
    return false;
  }
  const Json doc = std::move(*parsed);
  FieldErrors errors;
  for (const char* key : keys) {
    if (!doc.contains(key)) {
      errors.add(key, "required");
    } else if (!doc.at(key).is_string() || doc.at(key).get<std::string>().empty()) {
      errors.add(key, "must be a non-empty string");
    } else {
      out[key] = doc.at(key).get<std::string>();
    }
  }
  if (errors.empty()) return true;
  failure = invalidResource("invalid request", errors);
  return false;
}

}  // namespace

http::Response ApiHandler::dataplaneTokenAdmin(const http::Request& request, const Segments& path) {
  const std::string& method = request.method;
  if (!options_.revokeDataplaneToken || !options_.rotateDataplaneTokenKey ||
      !options_.removeDataplaneTokenKey) {
    return problem(501, "Not implemented", "this control plane does not manage dataplane tokens");
  }
  std::string error;
  http::Response failure;
  std::map<std::string, std::string> fields;
  if (path.size() == 3 && path[2] == "revocations") {
    if (method != "POST") return methodNotAllowed(method);
    if (!stringFields(request, {"mesh", "id"}, fields, failure)) return failure;
    if (!options_.revokeDataplaneToken(fields["mesh"], fields["id"], error)) {
      return badRequest("cannot revoke the token: " + error);
    }
    Json body = {{"mesh", fields["mesh"]}, {"id", fields["id"]}, {"revoked", true}};
    return http::Response::json(200, body.dump());
  }
  if (path.size() == 3 && path[2] == "signing-keys") {
    if (method != "POST") return methodNotAllowed(method);
    if (!stringFields(request, {"mesh"}, fields, failure)) return failure;
    std::string storeError;
    if (!meshExists(fields["mesh"], storeError)) {
      if (!storeError.empty()) return storeFailure({store::ErrorCode::kUnavailable, storeError});
      FieldErrors errors;
      errors.add("mesh", "mesh '" + fields["mesh"] + "' does not exist");
      return invalidResource("invalid request", errors);
    }
    std::string keyId;
    if (!options_.rotateDataplaneTokenKey(fields["mesh"], keyId, error)) {
      return problem(500, "Internal error", "cannot rotate the signing key: " + error);
    }
    Json body = {{"mesh", fields["mesh"]}, {"keyId", keyId}};
    return http::Response::json(201, body.dump());
  }
  if (path.size() == 5 && path[2] == "signing-keys") {
    if (method != "DELETE") return methodNotAllowed(method);
    if (!options_.removeDataplaneTokenKey(path[3], path[4], error)) {
      return notFound("cannot remove signing key '" + path[4] + "' of mesh '" + path[3] +
                      "': " + error);
    }
    return http::Response::json(200, Json({{"mesh", path[3]}, {"keyId", path[4]}}).dump());
  }
  return notFound("no such endpoint: " + request.path);
}

}  // namespace braid::api
