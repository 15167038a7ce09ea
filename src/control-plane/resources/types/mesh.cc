// Mesh (legacy layout): mTLS backends, routing, networking and constraints (POLICY_FIELDS §14).
#include <re2/re2.h>

#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using schema::member;
using schema::opt;
using schema::req;
using schema::S;

// Kuma's certificate durations: `<int><unit>` with one unit of y, w, d, h, m, s, ms, or "0".
S kumaDuration() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    static const RE2 kDur("0|[0-9]+(y|w|d|h|m|s|ms)");
    if (!RE2::FullMatch(v.get<std::string>(), kDur)) {
      errors.add(path,
                 "must be a duration such as 24h, 30d or 1y (one unit of y, w, d, h, m, s, ms)");
    }
  });
}

S backend() {
  S rotation = S::object({opt("expiration", kumaDuration())});
  S dpCert = S::object({opt("rotation", rotation), opt("requestTimeout", S::duration())});
  // `conf` differs by type; both shapes are listed and checked against `type` below.
  S caCert = S::object({opt("RSAbits", S::u32()), opt("expiration", kumaDuration())});
  S conf = S::object(
      {opt("caCert", caCert), opt("cert", rules::dataSource()), opt("key", rules::dataSource())});
  return S::object({
                       req("name", S::string().notEmpty()),
                       req("type", S::string()),
                       opt("mode", S::enumOf({"STRICT", "PERMISSIVE"})),
                       opt("dpCert", dpCert),
                       opt("rootChain", S::object({opt("requestTimeout", S::duration())})),
                       opt("conf", conf),
                   })
      .check([](const Json& b, const std::string& path, FieldErrors& errors) {
        const auto type = b.at("type").get<std::string>();
        const Json* bconf = member(b, "conf");
        if (type == "builtin") {
          for (const char* f : {"cert", "key"}) {
            if (bconf && member(*bconf, f)) {
              errors.add(joinPath(joinPath(path, "conf"), f),
                         "must not be set for a builtin backend");
            }
          }
          static const RE2 kDns("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
          std::string secretName = "ca-builtin-cert-" + b.at("name").get<std::string>();
          if (secretName.size() > 255 || !RE2::FullMatch(secretName, kDns)) {
            errors.add(joinPath(path, "name"),
                       "must be a lowercase DNS name: letters, digits, '-' and '.'");
          }
        } else if (type == "provided") {
          if (bconf && member(*bconf, "caCert")) {
            errors.add(joinPath(joinPath(path, "conf"), "caCert"),
                       "must not be set for a provided backend");
          }
          for (const char* f : {"cert", "key"}) {
            if (!bconf || !member(*bconf, f)) {
              errors.add(joinPath(joinPath(path, "conf"), f), schema::msg::kRequired);
            }
          }
        } else {
          errors.add(joinPath(path, "type"),
                     "could not find installed plugin for this type; "
                     "must be one of builtin, provided");
        }
      });
}

S mtls() {
  return S::object({
                       opt("enabledBackend", S::string()),
                       // Several backends are allowed (unlike Kuma) so that CAs rotate without
                       // downtime: add a backend, switch enabledBackend, then remove the old one.
                       opt("backends", S::array(backend())),
                       opt("skipValidation", S::boolean()),
                   })
      .check([](const Json& m, const std::string& path, FieldErrors& errors) {
        const Json* backends = member(m, "backends");
        const Json* enabled = member(m, "enabledBackend");
        if (backends) {
          // Names must be unique (reported on the later duplicate).
          for (size_t i = 0; i < backends->size(); ++i) {
            for (size_t j = 0; j < i; ++j) {
              if ((*backends)[i].at("name") == (*backends)[j].at("name")) {
                errors.add(joinPath(indexPath(joinPath(path, "backends"), i), "name"),
                           "must be unique");
              }
            }
          }
        }
        if (enabled && !enabled->get<std::string>().empty()) {
          bool found = false;
          if (backends) {
            for (const auto& b : *backends) found = found || b.at("name") == *enabled;
          }
          if (!found) {
            errors.add(joinPath(path, "enabledBackend"), "has to be set to one of the backends");
          }
        }
      });
}

S constraints() {
  S tagsRule = S::object({req("tags", rules::tagSelector().notEmpty())});
  return S::object({opt("dataplaneProxy", S::object({
                                              opt("requirements", S::array(tagsRule)),
                                              opt("restrictions", S::array(tagsRule)),
                                          }))});
}

S meshBody() {
  return S::object(
             {
                 opt("mtls", mtls()),
                 opt("routing", S::object({
                                    opt("localityAwareLoadBalancing", S::boolean()),
                                    opt("zoneEgress", S::boolean()),
                                    opt("defaultForbidMeshExternalServiceAccess", S::boolean()),
                                })),
                 opt("networking",
                     S::object({opt("outbound", S::object({opt("passthrough", S::boolean())}))})),
                 opt("constraints", constraints()),
                 opt("skipCreatingInitialPolicies", S::array(S::string().notEmpty())),
                 opt("meshServices",
                     S::object({opt("mode", S::enumOf({"Disabled", "Everywhere",
                                                       "ReachableBackends", "Exclusive"}))})),
             })
      .check([](const Json& mesh, const std::string&, FieldErrors& errors) {
        const Json* routing = member(mesh, "routing");
        const Json* zoneEgress = routing ? member(*routing, "zoneEgress") : nullptr;
        if (zoneEgress && zoneEgress->get<bool>()) {
          const Json* m = member(mesh, "mtls");
          const Json* enabled = m ? member(*m, "enabledBackend") : nullptr;
          if (!enabled || enabled->get<std::string>().empty()) {
            errors.add("routing.zoneEgress", "requires mTLS: set mtls.enabledBackend");
          }
        }
      });
}

}  // namespace

const ResourceType& meshType() {
  static const ResourceType kType{
      .name = "Mesh",
      .plural = "meshes",
      .singular = "mesh",
      .scope = Scope::kGlobal,
      .layout = Layout::kLegacy,
      .readOnly = false,
      .body = meshBody(),
  };
  return kType;
}

}  // namespace braid
