// MeshHTTPRoute (POLICY_FIELDS.md §2): HTTP routing on outbounds. Each `to[]` entry names a
// destination service and lists rules; a rule matches requests (path, method, query parameters,
// headers), may transform them with filters, and sends them to weighted backendRefs.
#include <map>

#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/policy_values.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using policies::isValidRegex;
using policies::topTargetRef;
using rules::RefPosition;
using schema::member;
using schema::opt;
using schema::req;
using schema::S;

constexpr const char* kNeedsGateway =
    "can only be used with a top-level targetRef of kind MeshGateway, which is not supported by "
    "Braid yet";

const std::string* stringAt(const Json& obj, const char* key) {
  const Json* v = member(obj, key);
  return v && v->is_string() ? &v->get_ref<const std::string&>() : nullptr;
}

S pathMatch() {
  return S::object({req("type", S::enumOf({"Exact", "PathPrefix", "RegularExpression"})),
                    req("value", S::string())})
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        const std::string* value = stringAt(v, "value");
        const std::string* type = stringAt(v, "type");
        if (!value) return;
        std::string valuePath = joinPath(path, "value");
        if (value->empty()) {
          errors.add(valuePath, "must not be empty");
        } else if (type && (*type == "Exact" || *type == "PathPrefix") && value->front() != '/') {
          errors.add(valuePath, "must start with '/'");
        } else if (type && *type == "PathPrefix" && value->size() > 1 && value->back() == '/') {
          errors.add(valuePath, "must not end with '/' (except the prefix '/' itself)");
        } else if (type && *type == "RegularExpression" && !isValidRegex(*value)) {
          errors.add(valuePath, "must be a valid regular expression");
        }
      });
}

S queryParamMatch() {
  return S::object({req("type", S::enumOf({"Exact", "RegularExpression"})),
                    req("name", S::string().notEmpty()), req("value", S::string())})
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        const std::string* type = stringAt(v, "type");
        const std::string* value = stringAt(v, "value");
        if (type && value && *type == "RegularExpression" && !isValidRegex(*value)) {
          errors.add(joinPath(path, "value"), "must be a valid regular expression");
        }
      });
}

S httpMatch() {
  return S::object({
                       opt("path", pathMatch()),
                       opt("method", S::enumOf({"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS",
                                                "PATCH", "POST", "PUT", "TRACE"})),
                       opt("queryParams", S::array(queryParamMatch())),
                       opt("headers", S::array(rules::headerMatch())),
                   })
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        const Json* params = member(v, "queryParams");
        if (!params || !params->is_array()) return;
        std::map<std::string, size_t> seen;
        for (size_t i = 0; i < params->size(); ++i) {
          const std::string* name = stringAt((*params)[i], "name");
          if (!name) continue;
          auto [it, inserted] = seen.emplace(*name, i);
          if (!inserted) {
            errors.add(joinPath(indexPath(joinPath(path, "queryParams"), i), "name"),
                       "must be unique within a match: '" + *name + "' is already matched by " +
                           indexPath("queryParams", it->second));
          }
        }
      });
}

// A header name may be set, added or removed only once per modifier.
void checkUniqueHeaderNames(const Json& v, const std::string& path, FieldErrors& errors) {
  std::map<std::string, std::string> seen;  // name → where it first appeared ("set[0]")
  auto note = [&](const std::string& name, const std::string& where, const std::string& at) {
    auto [it, inserted] = seen.emplace(name, where);
    if (!inserted) {
      errors.add(joinPath(path, at), "header '" + name +
                                         "' must appear only once across set, add and remove; "
                                         "it is already in " +
                                         it->second);
    }
  };
  for (const char* list : {"set", "add"}) {
    const Json* items = member(v, list);
    if (!items || !items->is_array()) continue;
    for (size_t i = 0; i < items->size(); ++i) {
      if (const std::string* name = stringAt((*items)[i], "name")) {
        std::string where = indexPath(list, i);
        note(*name, where, joinPath(where, "name"));
      }
    }
  }
  const Json* removed = member(v, "remove");
  if (removed && removed->is_array()) {
    for (size_t i = 0; i < removed->size(); ++i) {
      if ((*removed)[i].is_string()) {
        std::string where = indexPath("remove", i);
        note((*removed)[i].get<std::string>(), where, where);
      }
    }
  }
}

S headerModifier() {
  return S::object({opt("set", rules::headerKVList()), opt("add", rules::headerKVList()),
                    opt("remove", S::array(rules::headerName()).max(16))})
      .check(policies::requireSection({"set", "add", "remove"}))
      .check(checkUniqueHeaderNames);
}

// Redirect and rewrite hostnames: a DNS-1123 subdomain, never an IP literal.
S hostname() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    const auto& s = v.get_ref<const std::string&>();
    if (rules::isIpAddress(s)) {
      errors.add(path, "must be a hostname, not an IP address");
    } else if (!rules::isDnsSubdomain(s)) {
      errors.add(path, "must be a lowercase DNS-1123 subdomain of 1 to 253 characters");
    }
  });
}

S pathModifier() {
  return S::object({req("type", S::enumOf({"ReplaceFullPath", "ReplacePrefixMatch"})),
                    opt("replaceFullPath", S::string()), opt("replacePrefixMatch", S::string())})
      .check(policies::typedUnion(
          {{"ReplaceFullPath", "replaceFullPath"}, {"ReplacePrefixMatch", "replacePrefixMatch"}},
          /*objectRequired=*/true));
}

S requestRedirect() {
  return S::object({
      opt("scheme", S::enumOf({"http", "https"})),
      opt("hostname", hostname()),
      opt("path", pathModifier()),
      opt("port", S::port()),
      opt("statusCode", policies::intOneOf({301, 302, 303, 307, 308})),
  });
}

S urlRewrite() {
  return S::object({opt("hostname", hostname()), opt("path", pathModifier()),
                    opt("hostToBackendHostname", S::boolean())})
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        const Json* toBackend = member(v, "hostToBackendHostname");
        if (!toBackend || !toBackend->is_boolean() || !toBackend->get<bool>()) return;
        std::string at = joinPath(path, "hostToBackendHostname");
        errors.add(at,
                   std::string("can only be true with a top-level targetRef of kind MeshGateway, "
                               "which is not supported by Braid yet"));
        if (const Json* host = member(v, "hostname"); host && !host->is_null()) {
          errors.add(at, "must not be true together with 'hostname'");
        }
      });
}

S backendRefs() {
  return S::array(rules::backendRef({rules::kMeshService, rules::kMeshServiceSubset,
                                     "MeshExternalService", "MeshMultiZoneService"}));
}

S filter() {
  S mirror = S::object({
      req("backendRef", rules::backendRef({rules::kMeshService, rules::kMeshServiceSubset})),
      opt("percentage", S::percent()),
  });
  return S::object({
                       req("type", S::enumOf({"RequestHeaderModifier", "ResponseHeaderModifier",
                                              "RequestRedirect", "URLRewrite", "RequestMirror"})),
                       opt("requestHeaderModifier", headerModifier()),
                       opt("responseHeaderModifier", headerModifier()),
                       opt("requestRedirect", requestRedirect()),
                       opt("urlRewrite", urlRewrite()),
                       opt("requestMirror", mirror),
                   })
      .check(policies::typedUnion({{"RequestHeaderModifier", "requestHeaderModifier"},
                                   {"ResponseHeaderModifier", "responseHeaderModifier"},
                                   {"RequestRedirect", "requestRedirect"},
                                   {"URLRewrite", "urlRewrite"},
                                   {"RequestMirror", "requestMirror"}},
                                  /*objectRequired=*/true));
}

// A prefix can only be replaced when every match of the rule matched a path prefix.
void checkReplacePrefixMatch(const Json& rule, const std::string& path, FieldErrors& errors) {
  const Json* matches = member(rule, "matches");
  bool allPrefix = matches && matches->is_array() && !matches->empty();
  if (allPrefix) {
    for (const auto& m : *matches) {
      const Json* p = member(m, "path");
      const std::string* type = p ? stringAt(*p, "type") : nullptr;
      allPrefix = allPrefix && type && *type == "PathPrefix";
    }
  }
  if (allPrefix) return;
  const Json* conf = member(rule, "default");
  const Json* filters = conf ? member(*conf, "filters") : nullptr;
  if (!filters || !filters->is_array()) return;
  std::string filtersPath = joinPath(joinPath(path, "default"), "filters");
  for (size_t i = 0; i < filters->size(); ++i) {
    for (const char* kind : {"requestRedirect", "urlRewrite"}) {
      const Json* f = member((*filters)[i], kind);
      const Json* p = f ? member(*f, "path") : nullptr;
      const std::string* type = p ? stringAt(*p, "type") : nullptr;
      if (!type || *type != "ReplacePrefixMatch") continue;
      std::string at = joinPath(joinPath(indexPath(filtersPath, i), kind), "path");
      const Json* replacement = member(*p, "replacePrefixMatch");
      errors.add(
          joinPath(at, replacement && !replacement->is_null() ? "replacePrefixMatch" : "type"),
          "can only be used when every match of the rule has a path of type PathPrefix");
    }
  }
}

S rule() {
  S conf = S::object({opt("filters", S::array(filter())), opt("backendRefs", backendRefs())});
  return S::object({req("matches", S::array(httpMatch()).notEmpty()), req("default", conf)})
      .check(checkReplacePrefixMatch);
}

S spec() {
  const std::vector<std::string> topKinds = {rules::kMesh,        rules::kMeshSubset,
                                             rules::kMeshService, rules::kMeshServiceSubset,
                                             rules::kDataplane,   "MeshGateway"};
  const std::vector<std::string> toKinds = {rules::kMeshService, "MeshExternalService",
                                            "MeshMultiZoneService"};
  S to = S::object({
                       req("targetRef", rules::targetRef(toKinds, RefPosition::kTo)),
                       opt("hostnames", S::array(S::string())),
                       req("rules", S::array(rule())),
                   })
             .check([](const Json& v, const std::string& path, FieldErrors& errors) {
               // Hostnames select gateway listeners; Braid has no gateways yet.
               if (const Json* h = member(v, "hostnames"); h && !h->is_null()) {
                 errors.add(joinPath(path, "hostnames"), kNeedsGateway);
               }
             });
  return S::object({
      opt("targetRef", topTargetRef(topKinds, /*inbound=*/false)),
      opt("to", S::array(to)),
  });
}

}  // namespace

const ResourceType& meshHttpRouteType() {
  static const ResourceType kType{
      .name = "MeshHTTPRoute",
      .plural = "meshhttproutes",
      .singular = "meshhttproute",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
