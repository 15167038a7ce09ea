// MeshAccessLog (POLICY_FIELDS.md §11): where a proxy writes one line per request or connection
// (a file, a TCP collector, an OpenTelemetry collector) and in which format.
#include <re2/re2.h>

#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/telemetry_backends.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using rules::RefPosition;
using schema::opt;
using schema::req;
using schema::S;

// A Json format entry is spliced into the log line as `"key": "value"`, so together they must
// form valid JSON (the value may hold %PLACEHOLDERS%, which are plain text here).
S jsonField() {
  return S::object({
                       req("key", S::string().notEmpty()),
                       req("value", S::string().notEmpty()),
                   })
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        std::string text = "{\"" + v.at("key").get<std::string>() + "\": \"" +
                           v.at("value").get<std::string>() + "\"}";
        if (!Json::accept(text)) {
          errors.add(path,
                     "key and value must form a valid JSON member: escape quotes, backslashes "
                     "and control characters");
        }
      });
}

S format() {
  return S::object({
                       req("type", S::enumOf({"Plain", "Json"})),
                       opt("plain", S::string().notEmpty()),
                       opt("json", S::array(jsonField()).notEmpty()),
                       opt("omitEmptyValues", S::boolean()),
                   })
      .check(policies::typedUnion({{"Plain", "plain"}, {"Json", "json"}}, true));
}

S attributeKey() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    static const RE2 kKey("[a-z]([a-z0-9]|[._][a-z0-9])*");
    const auto& key = v.get_ref<const std::string&>();
    if (!RE2::FullMatch(key, kKey)) {
      errors.add(path,
                 "must start with a lowercase letter and hold only lowercase letters, digits and "
                 "single '.' or '_' separators");
    } else if (key.rfind("otel.", 0) == 0) {
      errors.add(path, "must not start with 'otel.': that namespace is reserved");
    }
  });
}

S backend() {
  S file = S::object({opt("format", format()), req("path", policies::filePath())});
  S tcp = S::object({opt("format", format()), req("address", policies::hostPort(true))});
  S openTelemetry =
      S::object({
                    opt("endpoint", policies::hostPort(false)),
                    opt("backendRef", policies::otelBackendRef()),
                    opt("attributes", S::array(S::object({req("key", attributeKey()),
                                                          req("value", S::string())}))),
                    opt("body", S::any()),
                })
          .check(policies::checkOtelTarget);
  return S::object({
                       req("type", S::enumOf({"Tcp", "File", "OpenTelemetry"})),
                       opt("tcp", tcp),
                       opt("file", file),
                       opt("openTelemetry", openTelemetry),
                   })
      .check(policies::typedUnion(
          {{"Tcp", "tcp"}, {"File", "file"}, {"OpenTelemetry", "openTelemetry"}}, true));
}

// An empty list is accepted: it turns access logging off where a broader policy turned it on.
S conf() { return S::object({req("backends", S::array(backend()))}); }

S spec() {
  const std::vector<std::string> topKinds = {
      rules::kMesh,        rules::kMeshSubset,        "MeshGateway",
      rules::kMeshService, rules::kMeshServiceSubset, rules::kDataplane};
  const std::vector<std::string> toKinds = {rules::kMesh, rules::kMeshService,
                                            "MeshExternalService", "MeshMultiZoneService",
                                            "MeshHTTPRoute"};
  return policies::toFromRulesSpec(topKinds, toKinds, conf(),
                                   policies::ruleItem(conf(), /*withMatches=*/true));
}

}  // namespace

const ResourceType& meshAccessLogType() {
  static const ResourceType kType{
      .name = "MeshAccessLog",
      .plural = "meshaccesslogs",
      .singular = "meshaccesslog",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
