#pragma once

// The REST API of CONTRACT §3: CRUD and paged lists for every resource type, inspection
// endpoints, /, /ready, /metrics. Transport-agnostic: takes an http::Request, returns an
// http::Response, so it is tested without sockets.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/http/server.h"
#include "control-plane/api/api_metrics.h"
#include "control-plane/api/auth.h"
#include "control-plane/api/proxy_admin_reply.h"
#include "control-plane/insights/dataplane_insights.h"
#include "control-plane/resources/resource.h"
#include "control-plane/store/store.h"

namespace braid::api {

struct ApiOptions {
  std::string mode = "standalone";  // standalone | zone | global
  std::string zone;
  std::string version = "dev";
  AuthOptions auth;
  int64_t defaultPageSize = 100;
  int64_t maxPageSize = 1000;
  // `…/dataplanes/{name}/_config`: the generated proxy configuration as JSON, nullopt when there
  // is none. Unset when this CP runs no dataplane server.
  std::function<std::optional<std::string>(const std::string& mesh, const std::string& name)>
      proxyConfig;
  // `…/dataplanes/{name}/_stats` and `…/_clusters`: asks the dataplane's proxy for its admin text
  // (`kind` "stats" or "clusters") over the admin stream it opened; blocks until it answers or
  // the dataplane server's timeout. Unset when this CP runs no dataplane server (then 501).
  std::function<ProxyAdminReply(const std::string& mesh, const std::string& name,
                                const std::string& kind)>
      askProxy;
  // `POST /tokens/dataplane`: signs a dataplane token; false with `error` when it cannot. Unset
  // when this CP has no token issuer (then the endpoint answers 501).
  std::function<bool(const std::string& mesh, const std::string& name,
                     const std::map<std::string, std::string>& tags, int64_t validForSeconds,
                     std::string& token, std::string& error)>
      issueDataplaneToken;
  // Revoking a token by its id (jti) and rotating the mesh's signing key; unset: 501.
  std::function<bool(const std::string& mesh, const std::string& tokenId, std::string& error)>
      revokeDataplaneToken;
  std::function<bool(const std::string& mesh, std::string& newKeyId, std::string& error)>
      rotateDataplaneTokenKey;
  std::function<bool(const std::string& mesh, const std::string& keyId, std::string& error)>
      removeDataplaneTokenKey;
};

class ApiHandler {
 public:
  ApiHandler(store::Store& store, DataplaneInsights& insights, ApiOptions options);

  http::Response handle(const http::Request& request);
  // For ServerOptions::screenHead: refuses unauthorised requests before their body is read.
  std::optional<http::Response> screenHead(const http::Request& head);

 private:
  using Segments = std::vector<std::string>;

  http::Response route(const http::Request& request, const Segments& path);
  http::Response index() const;
  http::Response ready();
  http::Response metrics();

  http::Response listResources(const http::Request& request, const ResourceType& type,
                               std::optional<std::string> mesh);
  http::Response getResource(const ResourceType& type, const std::string& mesh,
                             const std::string& name);
  http::Response putResource(const http::Request& request, const ResourceType& type,
                             const std::string& mesh, const std::string& name);
  http::Response deleteResource(const ResourceType& type, const std::string& mesh,
                                const std::string& name);
  http::Response resourceEndpoint(const http::Request& request, const ResourceType& type,
                                  const std::string& mesh, const std::string& name);

  http::Response issueDataplaneToken(const http::Request& request);
  http::Response dataplaneTokenAdmin(const http::Request& request, const Segments& path);
  http::Response dataplaneOverviews(const http::Request& request, const std::string& mesh);
  http::Response dataplaneInspection(const std::string& mesh, const std::string& name,
                                     const std::string& what);
  http::Response proxyAdminText(const std::string& mesh, const std::string& name,
                                const std::string& kind);

  // Writes that this CP's mode forbids (zone: policies and meshes come from the global CP).
  std::optional<http::Response> refuseWriteForMode(const ResourceType& type) const;
  bool meshExists(const std::string& mesh, std::string& error);
  http::Response storeFailure(const store::Error& error);

  Resource toResource(const ResourceType& type, const store::Record& record) const;
  Json overviewOf(const Resource& dataplane) const;

  store::Store& store_;
  DataplaneInsights& insights_;
  ApiOptions options_;
  ApiMetrics metrics_;
};

}  // namespace braid::api
