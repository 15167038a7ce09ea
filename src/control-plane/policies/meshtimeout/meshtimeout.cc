// MeshTimeout (POLICY_FIELDS.md §4): connection, idle and HTTP timeouts, for outbounds (`to`) or
// inbounds (`from`, or `rules` whose matches pick callers by SPIFFE ID or SNI).
#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using policies::nonNegativeDuration;
using policies::positiveDuration;
using policies::requireOneOf;
using policies::targetedItem;
using rules::RefPosition;
using schema::member;
using schema::opt;
using schema::S;

S conf() {
  S http = S::object({
                         opt("requestTimeout", nonNegativeDuration()),
                         opt("streamIdleTimeout", nonNegativeDuration()),
                         opt("maxStreamDuration", nonNegativeDuration()),
                         opt("maxConnectionDuration", nonNegativeDuration()),
                         opt("requestHeadersTimeout", nonNegativeDuration()),
                     })
               .check(requireOneOf({"requestTimeout", "streamIdleTimeout", "maxStreamDuration",
                                    "maxConnectionDuration"},
                                   "requestHeadersTimeout"));
  return S::object({
                       opt("connectionTimeout", positiveDuration()),
                       opt("idleTimeout", nonNegativeDuration()),
                       opt("http", http),
                   })
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        for (const char* f : {"connectionTimeout", "idleTimeout", "http"}) {
          if (const Json* m = member(v, f); m && !m->is_null()) return;
        }
        errors.add(path,
                   "at least one timeout should be configured: 'connectionTimeout', "
                   "'idleTimeout' or 'http'");
      });
}

// Timeouts that apply to a whole connection (or before the caller's identity is known) cannot
// differ per caller, so a rule that matches on spiffeID must not set them.
void checkCallerIndependent(const Json& rule, const std::string& path, FieldErrors& errors) {
  const Json* matches = member(rule, "matches");
  if (!matches || !matches->is_array()) return;
  bool bySpiffe = false;
  for (const auto& m : *matches) {
    const Json* id = member(m, "spiffeID");
    bySpiffe = bySpiffe || (id && !id->is_null());
  }
  if (!bySpiffe) return;
  const Json* conf = member(rule, "default");
  if (!conf || !conf->is_object()) return;
  std::string confPath = joinPath(path, "default");
  auto forbid = [&errors](const Json& obj, const std::string& objPath, const char* field) {
    if (const Json* m = member(obj, field); m && !m->is_null()) {
      errors.add(joinPath(objPath, field),
                 "must not be set in a rule that matches on spiffeID: it cannot depend on the "
                 "caller");
    }
  };
  forbid(*conf, confPath, "connectionTimeout");
  forbid(*conf, confPath, "idleTimeout");
  if (const Json* http = member(*conf, "http"); http && http->is_object()) {
    for (const char* f : {"maxStreamDuration", "maxConnectionDuration", "requestHeadersTimeout"}) {
      forbid(*http, joinPath(confPath, "http"), f);
    }
  }
}

S spec() {
  const std::vector<std::string> topKinds = {
      rules::kMesh,      rules::kMeshSubset, rules::kMeshService, rules::kMeshServiceSubset,
      rules::kDataplane, "MeshGateway",      "MeshHTTPRoute"};
  const std::vector<std::string> toKinds = {rules::kMesh, rules::kMeshService,
                                            "MeshExternalService", "MeshMultiZoneService",
                                            "MeshHTTPRoute"};
  return policies::toFromRulesSpec(
      topKinds, toKinds, conf(),
      policies::ruleItem(conf(), /*withMatches=*/true).check(checkCallerIndependent));
}

}  // namespace

const ResourceType& meshTimeoutType() {
  static const ResourceType kType{
      .name = "MeshTimeout",
      .plural = "meshtimeouts",
      .singular = "meshtimeout",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
