// MeshHealthCheck (POLICY_FIELDS.md §7): active health checks a proxy runs against the endpoints
// of the services in `to`.
#include <string_view>

#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using policies::positiveDuration;
using schema::opt;
using schema::req;
using schema::S;

// Standard base64 (RFC 4648 §4) with padding: tcp payloads are bytes, written as base64.
bool isBase64(std::string_view s) {
  if (s.size() % 4 != 0) return false;
  size_t padding = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (c == '=' && i + 2 >= s.size()) {
      ++padding;
    } else if (!alphabet || padding > 0) {
      return false;
    }
  }
  return true;
}

S base64() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    if (!isBase64(v.get<std::string>())) errors.add(path, "must be valid base64");
  });
}

S positiveInt32() { return S::i32().min(1); }

S conf() {
  S tcp = S::object({
      opt("disabled", S::boolean()),
      opt("send", base64()),
      opt("receive", S::array(base64())),
  });
  S http = S::object({
      opt("disabled", S::boolean()),
      opt("path", S::string().notEmpty()),
      opt("requestHeadersToAdd",
          S::object({opt("set", rules::headerKVList()), opt("add", rules::headerKVList())})),
      opt("expectedStatuses", S::array(S::integer().min(100).max(599))),
  });
  S grpc = S::object({
      opt("disabled", S::boolean()),
      opt("serviceName", S::string()),
      opt("authority", S::string()),
  });
  return S::object({
                       opt("interval", positiveDuration()),
                       opt("timeout", positiveDuration()),
                       opt("unhealthyThreshold", positiveInt32()),
                       opt("healthyThreshold", positiveInt32()),
                       opt("initialJitter", positiveDuration()),
                       opt("intervalJitter", positiveDuration()),
                       opt("intervalJitterPercent", S::i32().min(0).max(100)),
                       opt("healthyPanicThreshold", S::percent()),
                       opt("failTrafficOnPanic", S::boolean()),
                       opt("eventLogPath", policies::filePath()),
                       opt("alwaysLogHealthCheckFailures", S::boolean()),
                       opt("noTrafficInterval", positiveDuration()),
                       opt("reuseConnection", S::boolean()),
                       opt("tcp", tcp),
                       opt("http", http),
                       opt("grpc", grpc),
                   })
      .check(policies::requireOneOf({"http", "tcp", "grpc"}));
}

S spec() {
  const std::vector<std::string> topKinds = {
      rules::kMesh,        rules::kMeshSubset,        "MeshGateway",
      rules::kMeshService, rules::kMeshServiceSubset, rules::kDataplane};
  const std::vector<std::string> toKinds = {rules::kMesh, rules::kMeshService,
                                            "MeshExternalService", "MeshMultiZoneService"};
  S to = policies::targetedItem(rules::targetRef(toKinds, rules::RefPosition::kTo), conf());
  return S::object({
      opt("targetRef", policies::topTargetRef(topKinds, false)),
      // A health check with no destination would configure nothing.
      req("to", S::array(to).notEmpty()),
  });
}

}  // namespace

const ResourceType& meshHealthCheckType() {
  static const ResourceType kType{
      .name = "MeshHealthCheck",
      .plural = "meshhealthchecks",
      .singular = "meshhealthcheck",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
