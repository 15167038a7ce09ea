#include "control-plane/api/api_handler.h"

#include <charconv>
#include <chrono>

#include "common/document_limits.h"
#include "common/log.h"
#include "control-plane/api/problem.h"
#include "control-plane/policy-matching/matched_policies.h"
#include "control-plane/resources/registry.h"

namespace braid::api {
namespace {

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    if (next > pos) out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

std::optional<int64_t> parseNonNegative(const std::string& s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::string describe(const ResourceType& type, const std::string& mesh, const std::string& name) {
  std::string s = type.name + " \"" + name + "\"";
  if (type.scope == Scope::kMesh) s += " in mesh \"" + mesh + "\"";
  return s;
}

// The document of a stored record as JSON text, built without re-parsing its content: the same
// bytes as toDocument(…).dump(), but lists of thousands of resources stay fast.
std::string documentText(const ResourceType& type, const store::Record& record) {
  auto quoted = [](const std::string& s) { return Json(s).dump(); };
  std::string out = "{\"type\":" + quoted(type.name);
  if (type.scope == Scope::kMesh) out += ",\"mesh\":" + quoted(record.key.mesh);
  out += ",\"name\":" + quoted(record.key.name);
  if (!record.creationTime.empty()) out += ",\"creationTime\":" + quoted(record.creationTime);
  if (!record.modificationTime.empty()) {
    out += ",\"modificationTime\":" + quoted(record.modificationTime);
  }
  if (record.version > 0) out += ",\"version\":" + std::to_string(record.version);
  // The content is a canonical JSON object: splice its members in after the envelope.
  const std::string& c = record.content;
  if (c.size() > 2)
    out += "," + c.substr(1, c.size() - 1);
  else
    out += "}";
  return out;
}

http::Response unauthorized() {
  return problem(401, "Unauthorized",
                 "requests from outside loopback need 'Authorization: Bearer <token>'");
}

}  // namespace

ApiHandler::ApiHandler(store::Store& store, DataplaneInsights& insights, ApiOptions options)
    : store_(store), insights_(insights), options_(std::move(options)) {}

http::Response ApiHandler::handle(const http::Request& request) {
  auto start = std::chrono::steady_clock::now();
  http::Response response;
  if (!isAuthorized(request, options_.auth)) {
    response = unauthorized();
  } else {
    try {
      response = route(request, splitPath(request.path));
    } catch (const std::exception& e) {
      log::error("api request failed", {{"path", request.path}, {"error", e.what()}});
      response = problem(500, "Internal error", "the request could not be served");
    }
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  metrics_.recordRequest(request.method, response.status, elapsed.count());
  return response;
}

std::optional<http::Response> ApiHandler::screenHead(const http::Request& head) {
  if (isAuthorized(head, options_.auth)) return std::nullopt;
  http::Response refusal = unauthorized();
  metrics_.recordRequest(head.method, refusal.status, 0);
  return refusal;
}

http::Response ApiHandler::route(const http::Request& request, const Segments& path) {
  const std::string& method = request.method;
  const bool get = method == "GET" || method == "HEAD";

  if (path.empty()) return get ? index() : methodNotAllowed(method);
  if (path.size() == 1 && path[0] == "ready") return get ? ready() : methodNotAllowed(method);
  if (path.size() == 1 && path[0] == "metrics") return get ? metrics() : methodNotAllowed(method);
  if (path.size() == 2 && path[0] == "tokens" && path[1] == "dataplane") {
    if (method != "POST") return methodNotAllowed(method);
    return issueDataplaneToken(request);
  }
  if (path.size() >= 3 && path[0] == "tokens" && path[1] == "dataplane") {
    return dataplaneTokenAdmin(request, path);
  }

  if (path[0] == "meshes") {
    const ResourceType& meshType = *findTypeByName("Mesh");
    if (path.size() == 1)
      return get ? listResources(request, meshType, std::nullopt) : methodNotAllowed(method);
    const std::string& mesh = path[1];
    if (path.size() == 2) return resourceEndpoint(request, meshType, "", mesh);

    const ResourceType* type = findTypeByPlural(path[2]);
    if (!type || type->scope != Scope::kMesh) {
      return notFound("unknown mesh-scoped resource type '" + path[2] + "'");
    }
    if (path.size() == 3) {
      return get ? listResources(request, *type, mesh) : methodNotAllowed(method);
    }
    if (path.size() == 4 && type->name == "Dataplane" && path[3] == "_overview") {
      return get ? dataplaneOverviews(request, mesh) : methodNotAllowed(method);
    }
    if (path.size() == 4) return resourceEndpoint(request, *type, mesh, path[3]);
    if (path.size() == 5 && type->name == "Dataplane") {
      return get ? dataplaneInspection(mesh, path[3], path[4]) : methodNotAllowed(method);
    }
    return notFound("no such endpoint: " + request.path);
  }

  const ResourceType* type = findTypeByPlural(path[0]);
  if (!type) return notFound("no such endpoint: " + request.path);
  if (path.size() == 1) {
    // Global types, or a mesh-scoped type across every mesh.
    return get ? listResources(request, *type, std::nullopt) : methodNotAllowed(method);
  }
  if (path.size() == 2 && type->scope == Scope::kGlobal) {
    return resourceEndpoint(request, *type, "", path[1]);
  }
  return notFound("no such endpoint: " + request.path);
}

http::Response ApiHandler::index() const {
  Json body = {{"product", "braid"},
               {"version", options_.version},
               {"mode", options_.mode},
               {"zone", options_.zone}};
  return http::Response::json(200, body.dump());
}

http::Response ApiHandler::ready() {
  // Ready when the store answers.
  auto probe = store_.list({.type = "Mesh", .mesh = std::nullopt, .offset = 0, .limit = 1});
  if (probe.error) {
    return problem(503, "Not ready", "the store is unavailable: " + probe.error.message);
  }
  return http::Response::text(200, "ok\n");
}

http::Response ApiHandler::metrics() {
  std::map<std::string, int64_t> counts;
  for (const auto* type : allResourceTypes()) {
    auto result = store_.list({.type = type->name, .mesh = std::nullopt, .offset = 0, .limit = 0});
    if (!result.error) counts[type->name] = result.total;
  }
  http::Response r = http::Response::text(200, metrics_.render(counts));
  r.headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
  return r;
}

http::Response ApiHandler::resourceEndpoint(const http::Request& request, const ResourceType& type,
                                            const std::string& mesh, const std::string& name) {
  if (request.method == "GET" || request.method == "HEAD") return getResource(type, mesh, name);
  if (request.method == "PUT") return putResource(request, type, mesh, name);
  if (request.method == "DELETE") return deleteResource(type, mesh, name);
  return methodNotAllowed(request.method);
}

Resource ApiHandler::toResource(const ResourceType& type, const store::Record& record) const {
  Resource r;
  r.type = &type;
  r.mesh = record.key.mesh;
  r.name = record.key.name;
  r.content = Json::parse(record.content);
  r.version = record.version;
  r.creationTime = record.creationTime;
  r.modificationTime = record.modificationTime;
  return r;
}

http::Response ApiHandler::storeFailure(const store::Error& error) {
  metrics_.recordStoreError();
  log::error("store operation failed", {{"error", error.message}});
  return problem(503, "Store unavailable", error.message);
}

http::Response ApiHandler::listResources(const http::Request& request, const ResourceType& type,
                                         std::optional<std::string> mesh) {
  FieldErrors errors;
  int64_t offset = 0, size = options_.defaultPageSize;
  if (request.hasQueryParam("offset")) {
    auto v = parseNonNegative(request.queryParam("offset"));
    if (v)
      offset = *v;
    else
      errors.add("offset", "must be a non-negative integer");
  }
  if (request.hasQueryParam("size")) {
    auto v = parseNonNegative(request.queryParam("size"));
    if (!v || *v == 0 || *v > options_.maxPageSize) {
      errors.add("size", "must be an integer from 1 to " + std::to_string(options_.maxPageSize));
    } else {
      size = *v;
    }
  }
  if (!errors.empty()) return invalidResource("invalid paging parameters", errors);

  auto result = store_.list({.type = type.name, .mesh = mesh, .offset = offset, .limit = size});
  if (result.error) return storeFailure(result.error);

  std::string body = "{\"total\":" + std::to_string(result.total) + ",\"items\":[";
  for (size_t i = 0; i < result.records.size(); ++i) {
    if (i > 0) body += ',';
    body += documentText(type, result.records[i]);
  }
  body += "],\"next\":";
  if (offset + static_cast<int64_t>(result.records.size()) < result.total) {
    std::string host = request.header("host");
    body += Json("http://" + (host.empty() ? std::string("127.0.0.1") : host) + request.path +
                 "?offset=" + std::to_string(offset + size) + "&size=" + std::to_string(size))
                .dump();
  } else {
    body += "null";
  }
  body += "}";
  return http::Response::json(200, std::move(body));
}

http::Response ApiHandler::getResource(const ResourceType& type, const std::string& mesh,
                                       const std::string& name) {
  auto result = store_.get({type.name, mesh, name});
  if (result.error && result.error.code != store::ErrorCode::kNotFound) {
    return storeFailure(result.error);
  }
  if (!result.record) return notFound(describe(type, mesh, name) + " not found");
  return http::Response::json(200, documentText(type, *result.record));
}

std::optional<http::Response> ApiHandler::refuseWriteForMode(const ResourceType& type) const {
  bool fromGlobal =
      type.name == "Mesh" || type.layout == Layout::kPolicy || type.name == "ExternalService";
  bool fromZone =
      type.name == "Dataplane" || type.name == "ZoneIngress" || type.name == "ZoneEgress";
  if (options_.mode == "zone" && fromGlobal) {
    return problem(409, "Conflict",
                   type.name +
                       " resources are managed by the global control plane: apply them "
                       "there and they reach this zone");
  }
  if (options_.mode == "global" && fromZone) {
    return problem(409, "Conflict",
                   type.name + " resources register with their zone control plane");
  }
  return std::nullopt;
}

bool ApiHandler::meshExists(const std::string& mesh, std::string& error) {
  auto result = store_.get({"Mesh", "", mesh});
  if (result.error && result.error.code != store::ErrorCode::kNotFound) {
    error = result.error.message;
    return false;
  }
  return result.record.has_value();
}

http::Response ApiHandler::putResource(const http::Request& request, const ResourceType& type,
                                       const std::string& mesh, const std::string& name) {
  if (type.readOnly) {
    return problem(405, "Method not allowed",
                   type.name + " resources are read-only: the control plane writes them");
  }
  if (auto refusal = refuseWriteForMode(type)) return *refusal;

  std::string parseError;
  auto parsedBody = parseJsonBounded(request.body, parseError);
  if (!parsedBody) return badRequest("the body is not valid JSON: " + parseError);
  const Json& body = *parsedBody;
  ParsedResource parsed = parseResourceAs(type, mesh, name, body);
  if (type.scope == Scope::kMesh && parsed.errors.empty()) {
    std::string storeError;
    if (!meshExists(mesh, storeError)) {
      if (!storeError.empty()) return storeFailure({store::ErrorCode::kUnavailable, storeError});
      parsed.errors.add("mesh", "mesh '" + mesh + "' does not exist");
    }
  }
  if (!parsed.errors.empty()) {
    return invalidResource(describe(type, mesh, name) + " is invalid", parsed.errors);
  }

  const Resource& resource = *parsed.resource;
  auto result = store_.put({type.name, type.scope == Scope::kMesh ? mesh : "", name},
                           resource.content.dump(), parsed.expectedVersion);
  if (result.error.code == store::ErrorCode::kConflict) {
    return problem(409, "Conflict",
                   describe(type, mesh, name) + " changed since version " +
                       std::to_string(parsed.expectedVersion.value_or(0)) + ": " +
                       result.error.message);
  }
  if (result.error) return storeFailure(result.error);

  Json doc = toDocument(toResource(type, result.record));
  doc["changed"] = result.changed;
  return http::Response::json(result.created ? 201 : 200, doc.dump());
}

http::Response ApiHandler::deleteResource(const ResourceType& type, const std::string& mesh,
                                          const std::string& name) {
  if (type.readOnly) {
    return problem(405, "Method not allowed",
                   type.name + " resources are read-only: the control plane writes them");
  }
  if (auto refusal = refuseWriteForMode(type)) return *refusal;

  auto result =
      store_.remove({type.name, type.scope == Scope::kMesh ? mesh : "", name}, std::nullopt);
  if (result.error.code == store::ErrorCode::kNotFound) {
    return notFound(describe(type, mesh, name) + " not found");
  }
  if (result.error) return storeFailure(result.error);

  if (type.name == "Mesh") {
    // A mesh owns its resources (as in Kuma): deleting it deletes them. The mesh goes first, so
    // writes into it are refused from then on. Not one transaction: a failure part-way is
    // reported, and deleting the mesh again (after re-creating it) finishes the job.
    // Its secrets too (internal records the API does not serve): a mesh re-created under the same
    // name must not inherit the old CA, whose certificates may have leaked, or its token keys.
    std::vector<std::string> ownedTypes = {"MeshCaRoot", "DataplaneTokenSigningKey",
                                           "DataplaneTokenRevocations"};
    for (const auto* t : allResourceTypes()) {
      if (t->scope == Scope::kMesh) ownedTypes.push_back(t->name);
    }
    for (const auto& ownedType : ownedTypes) {
      auto owned = store_.list({.type = ownedType, .mesh = name, .offset = 0, .limit = -1});
      if (owned.error) return storeFailure(owned.error);
      for (const auto& record : owned.records) {
        auto removed = store_.remove(record.key, std::nullopt);
        if (removed.error && removed.error.code != store::ErrorCode::kNotFound) {
          return storeFailure(removed.error);
        }
      }
    }
  }
  return http::Response::json(200, Json::object().dump());
}

Json ApiHandler::overviewOf(const Resource& dataplane) const {
  Json overview = Json::object();
  overview["type"] = "DataplaneOverview";
  overview["mesh"] = dataplane.mesh;
  overview["name"] = dataplane.name;
  overview["creationTime"] = dataplane.creationTime;
  overview["modificationTime"] = dataplane.modificationTime;
  Json fields = Json::object();
  for (const auto& [key, value] : dataplane.content.items()) fields[key] = value;
  overview["dataplane"] = fields;
  overview["dataplaneInsight"] = insights_.get(dataplane.mesh, dataplane.name).toJson();
  return overview;
}

http::Response ApiHandler::dataplaneOverviews(const http::Request& request,
                                              const std::string& mesh) {
  const ResourceType& type = *findTypeByName("Dataplane");
  http::Response list = listResources(request, type, mesh);
  if (list.status != 200) return list;
  Json body = Json::parse(list.body);
  Json items = Json::array();
  for (const auto& doc : body["items"]) {
    auto parsed = parseResource(doc);
    if (!parsed.resource) continue;
    parsed.resource->creationTime = doc.value("creationTime", "");
    parsed.resource->modificationTime = doc.value("modificationTime", "");
    items.push_back(overviewOf(*parsed.resource));
  }
  body["items"] = items;
  return http::Response::json(200, body.dump());
}

http::Response ApiHandler::dataplaneInspection(const std::string& mesh, const std::string& name,
                                               const std::string& what) {
  const ResourceType& type = *findTypeByName("Dataplane");
  auto result = store_.get({type.name, mesh, name});
  if (result.error && result.error.code != store::ErrorCode::kNotFound) {
    return storeFailure(result.error);
  }
  if (!result.record) return notFound(describe(type, mesh, name) + " not found");
  Resource dataplane = toResource(type, *result.record);

  if (what == "_overview") return http::Response::json(200, overviewOf(dataplane).dump());
  if (what == "_policies") {
    std::vector<Resource> policies;
    for (const auto* t : allResourceTypes()) {
      if (t->layout != Layout::kPolicy) continue;
      auto list = store_.list({.type = t->name, .mesh = mesh, .offset = 0, .limit = -1});
      if (list.error) return storeFailure(list.error);
      for (const auto& record : list.records) policies.push_back(toResource(*t, record));
    }
    Json body = {{"mesh", mesh},
                 {"name", name},
                 {"policies", policy_matching::matchedPoliciesJson(dataplane, policies)}};
    return http::Response::json(200, body.dump());
  }
  if (what == "_config") {
    auto config = options_.proxyConfig ? options_.proxyConfig(mesh, name) : std::nullopt;
    if (!config) {
      return notFound("no proxy configuration has been generated for " +
                      describe(type, mesh, name));
    }
    return http::Response::json(200, *config);
  }
  if (what == "_stats" || what == "_clusters") return proxyAdminText(mesh, name, what.substr(1));
  return notFound("no such endpoint: " + what);
}

// The proxy's own admin text, passed through as it sent it; the errors say whose fault it is.
http::Response ApiHandler::proxyAdminText(const std::string& mesh, const std::string& name,
                                          const std::string& kind) {
  if (!options_.askProxy) {
    return problem(501, "Not implemented", "this control plane runs no dataplane server");
  }
  ProxyAdminReply reply = options_.askProxy(mesh, name, kind);
  std::string who = "dataplane " + name;
  std::string where = " (mesh " + mesh + ")";
  switch (reply.outcome) {
    case ProxyAdminReply::Outcome::kAnswered:
      return http::Response::text(200, std::move(reply.body));
    case ProxyAdminReply::Outcome::kNotConnected:
      return problem(503, "Dataplane not connected",
                     who + " is not connected" + where +
                         ": its proxy has no admin stream to this control plane");
    case ProxyAdminReply::Outcome::kTimedOut:
      return problem(504, "Dataplane did not answer",
                     who + where + " did not answer: " + reply.error);
    case ProxyAdminReply::Outcome::kFailed:
      break;
  }
  return problem(502, "Dataplane failed", who + where + " could not answer: " + reply.error);
}

}  // namespace braid::api
