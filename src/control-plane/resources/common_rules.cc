#include "control-plane/resources/common_rules.h"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>

namespace braid::rules {

using schema::member;
using schema::opt;
using schema::req;
using schema::S;

namespace {

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

S tagMap(bool selector) {
  return S::map(S::string())
      .check([selector](const Json& v, const std::string& path, FieldErrors& errors) {
        static const RE2 kKey("[A-Za-z0-9.\\-_:/]+");
        static const RE2 kValue("[A-Za-z0-9.\\-_:]+");
        static const RE2 kSelectorValue("[A-Za-z0-9.\\-_:/]+|\\*");
        for (const auto& [key, value] : v.items()) {
          std::string field = joinPath(path, key);
          if (key.empty() || !RE2::FullMatch(key, kKey)) {
            errors.add(field,
                       "tag name must consist of alphanumeric characters, dots, dashes, "
                       "slashes, colons and underscores");
          }
          const auto& s = value.get_ref<const std::string&>();
          if (s.empty()) {
            errors.add(field, "tag value must be non-empty");
          } else if (!RE2::FullMatch(s, selector ? kSelectorValue : kValue)) {
            errors.add(field, selector ? "tag value must consist of alphanumeric characters, dots, "
                                         "dashes, slashes, colons and underscores, or be '*'"
                                       : "tag value must consist of alphanumeric characters, dots, "
                                         "dashes, colons and underscores");
          } else if (key == kProtocolTag && !contains(protocols(), lower(s)) && s != "*") {
            errors.add(field, "tag value " + schema::msg::oneOf(protocols()));
          }
        }
      });
}

bool has(const Json& obj, const char* key) {
  auto* m = member(obj, key);
  return m && !m->is_null();
}

// Per-kind field rules of a targetRef (POLICY_FIELDS.md §0 table).
void checkTargetRef(const Json& ref, const std::string& path, FieldErrors& errors,
                    const std::vector<std::string>& allowed, RefPosition position) {
  const std::string kind = ref.at("kind").get<std::string>();
  std::vector<std::string> supportedAllowed;
  for (const auto& k : allowed) {
    if (isSupportedKind(k)) supportedAllowed.push_back(k);
  }
  std::string kindPath = joinPath(path, "kind");
  if (!contains(allTargetRefKinds(), kind)) {
    errors.add(kindPath, schema::msg::oneOf(supportedAllowed));
    return;
  }
  if (!isSupportedKind(kind)) {
    errors.add(kindPath, "value '" + kind + "' is not supported by Braid yet; " +
                             schema::msg::oneOf(supportedAllowed));
    return;
  }
  if (!contains(allowed, kind)) {
    errors.add(kindPath, "value '" + kind + "' is not supported here; " +
                             schema::msg::oneOf(supportedAllowed));
    return;
  }
  auto forbid = [&](const char* field) {
    if (has(ref, field)) {
      errors.add(joinPath(path, field), "must not be set with kind " + kind);
    }
  };
  forbid("mesh");
  if (kind == kMesh) {
    for (const char* f : {"name", "tags", "labels", "namespace", "sectionName"}) forbid(f);
  } else if (kind == kMeshSubset) {
    for (const char* f : {"name", "labels", "namespace", "sectionName"}) forbid(f);
  } else if (kind == kMeshService) {
    for (const char* f : {"tags", "proxyTypes"}) forbid(f);
    bool name = has(ref, "name"), labels = has(ref, "labels");
    if (name == labels) {
      errors.add(path, name ? "'name' and 'labels' must not be set together"
                            : "one of 'name' or 'labels' must be set with kind MeshService");
    }
    if (labels && has(ref, "namespace")) {
      errors.add(joinPath(path, "namespace"), "must not be set together with 'labels'");
    }
  } else if (kind == kMeshServiceSubset) {
    for (const char* f : {"labels", "namespace", "sectionName", "proxyTypes"}) forbid(f);
    if (!has(ref, "name")) errors.add(joinPath(path, "name"), schema::msg::kRequired);
  } else if (kind == kDataplane) {
    for (const char* f : {"tags", "proxyTypes"}) forbid(f);
    if (has(ref, "labels") && (has(ref, "name") || has(ref, "namespace"))) {
      errors.add(joinPath(path, "labels"), "must not be set together with 'name' or 'namespace'");
    }
    if (position != RefPosition::kTopInbound && has(ref, "sectionName")) {
      errors.add(joinPath(path, "sectionName"),
                 "can only be used in policies that configure inbound traffic (from or rules)");
    }
  }
  if (has(ref, "tags") && (kind == kMeshSubset || kind == kMeshServiceSubset)) {
    // MeshSubset uses plain tag rules; MeshServiceSubset selectors may also use '/' and '*'.
    schema::validate(*tagMap(kind == kMeshServiceSubset).node(), ref.at("tags"),
                     joinPath(path, "tags"), errors);
  }
  if (auto* p = member(ref, "proxyTypes"); p && p->is_array()) {
    for (size_t i = 0; i < p->size(); ++i) {
      if ((*p)[i] == "Gateway") {
        errors.add(indexPath(joinPath(path, "proxyTypes"), i),
                   "value 'Gateway' is not supported by Braid yet: gateways are not available");
      }
    }
  }
}

S targetRefObject(bool backend) {
  static const RE2 kName("[0-9a-z.\\-_]+");
  S name = S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) {
      errors.add(path, "must not be empty");
    } else if (!RE2::FullMatch(s, kName)) {
      errors.add(path, "may contain only lowercase letters, digits, '.', '-' and '_'");
    }
  });
  std::vector<schema::Property> props = {
      req("kind", S::string()),
      opt("name", name),
      opt("namespace", S::string()),
      opt("sectionName", S::string().notEmpty()),
      opt("mesh", S::string()),
      opt("tags", S::map(S::string())),  // tag rules depend on the kind: checkTargetRef
      opt("labels", S::map(S::string())),
      opt("proxyTypes", S::array(S::enumOf({"Sidecar", "Gateway"})).notEmpty()),
  };
  if (backend) {
    props.push_back(opt("weight", S::u32()));
    props.push_back(opt("port", S::u32()));
  }
  return S::object(std::move(props));
}

}  // namespace

const std::vector<std::string>& protocols() {
  static const std::vector<std::string> kProtocols = {"http", "http2", "grpc", "tcp",
                                                      "tls",  "kafka", "mysql"};
  return kProtocols;
}

S tags() { return tagMap(false); }
S tagSelector() { return tagMap(true); }

const std::vector<std::string>& allTargetRefKinds() {
  static const std::vector<std::string> kKinds = {
      kMesh,          kMeshSubset,           kMeshService,           kMeshServiceSubset,
      kDataplane,     "MeshExternalService", "MeshMultiZoneService", "MeshGateway",
      "MeshHTTPRoute"};
  return kKinds;
}

bool isSupportedKind(const std::string& kind) {
  return kind == kMesh || kind == kMeshSubset || kind == kMeshService ||
         kind == kMeshServiceSubset || kind == kDataplane;
}

S targetRef(std::vector<std::string> allowedKinds, RefPosition position) {
  return targetRefObject(position == RefPosition::kBackend)
      .check([allowedKinds, position](const Json& v, const std::string& path, FieldErrors& e) {
        checkTargetRef(v, path, e, allowedKinds, position);
      });
}

S backendRef(std::vector<std::string> allowedKinds) {
  return targetRef(std::move(allowedKinds), RefPosition::kBackend);
}

S headerName() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    static const RE2 kHeader("[a-z0-9!#$%&'*+\\-.^_`|~]+");
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 256 || !RE2::FullMatch(s, kHeader)) {
      errors.add(path, "must be a valid lowercase HTTP header name of 1 to 256 characters");
    }
  });
}

S headerKV() { return S::object({req("name", headerName()), req("value", S::string())}); }
S headerKVList() { return S::array(headerKV()).max(16); }

S headerMatch() {
  return S::object({
                       opt("type", S::enumOf({"Exact", "Present", "RegularExpression", "Absent",
                                              "Prefix"})),
                       req("name", headerName()),
                       opt("value", S::string()),
                   })
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        auto* type = member(v, "type");
        auto* value = member(v, "value");
        bool presence = type && (*type == "Present" || *type == "Absent");
        if (presence && value && value->is_string() && !value->get<std::string>().empty()) {
          errors.add(joinPath(path, "value"),
                     "must not be set when type is " + type->get<std::string>());
        }
        if (type && *type == "RegularExpression" && value && value->is_string()) {
          if (!isValidRegex(value->get<std::string>())) {
            errors.add(joinPath(path, "value"), "must be a valid regular expression");
          }
        }
      });
}

S match() {
  S spiffe = S::object({req("type", S::enumOf({"Exact", "Prefix"})), req("value", S::string())})
                 .check([](const Json& v, const std::string& path, FieldErrors& errors) {
                   const auto& s = v.at("value").get_ref<const std::string&>();
                   if (!isValidSpiffeId(s)) {
                     errors.add(joinPath(path, "value"), "must be a valid SPIFFE ID");
                   }
                 });
  S sni = S::object({req("type", S::enumOf({"Exact"})), req("value", S::string())})
              .check([](const Json& v, const std::string& path, FieldErrors& errors) {
                if (!isDnsSubdomain(v.at("value").get<std::string>())) {
                  errors.add(joinPath(path, "value"), "must be a valid DNS-1123 subdomain");
                }
              });
  return S::object({opt("spiffeID", spiffe), opt("sni", sni)})
      .check(atLeastOneOf({"spiffeID", "sni"}));
}

S dataSource() {
  S nonEmpty = S::string().notEmpty();
  return S::object({opt("secret", nonEmpty), opt("file", nonEmpty), opt("inline", nonEmpty),
                    opt("inlineString", nonEmpty)})
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        int set = 0;
        for (const char* k : {"secret", "file", "inline", "inlineString"}) set += has(v, k);
        if (set != 1) {
          errors.add(path,
                     "exactly one of 'secret', 'file', 'inline' or 'inlineString' must be set");
        }
        if (has(v, "secret")) {
          errors.add(joinPath(path, "secret"),
                     "is not supported by Braid yet: use 'file', 'inline' or 'inlineString'");
        }
      });
}

schema::Check atLeastOneOf(std::vector<std::string> fields, std::string message) {
  return [fields = std::move(fields), message = std::move(message)](
             const Json& v, const std::string& path, FieldErrors& errors) {
    for (const auto& f : fields) {
      if (has(v, f.c_str())) return;
    }
    if (!message.empty()) {
      errors.add(path, message);
      return;
    }
    std::string list;
    for (size_t i = 0; i < fields.size(); ++i) {
      list += (i == 0 ? "'" : (i + 1 == fields.size() ? "' or '" : "', '")) + fields[i];
    }
    errors.add(path, "at least one of " + list + "' must be defined");
  };
}

schema::Check atMostOneOf(std::vector<std::string> fields) {
  return [fields = std::move(fields)](const Json& v, const std::string& path, FieldErrors& errors) {
    std::vector<std::string> set;
    for (const auto& f : fields) {
      if (has(v, f.c_str())) set.push_back(f);
    }
    if (set.size() > 1) {
      errors.add(path, "'" + set[0] + "' and '" + set[1] + "' must not be set together");
    }
  };
}

bool isValidSpiffeId(const std::string& id) {
  static const std::string kScheme = "spiffe://";
  if (id.size() > 2048 || id.compare(0, kScheme.size(), kScheme) != 0) return false;
  std::string rest = id.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string domain = rest.substr(0, slash);
  static const RE2 kDomain("[a-z0-9._-]+");
  if (domain.empty() || !RE2::FullMatch(domain, kDomain)) return false;
  if (slash == std::string::npos) return true;
  std::string path = rest.substr(slash);  // starts with '/'
  static const RE2 kSegment("[A-Za-z0-9._-]+");
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos + 1);
    std::string segment =
        path.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    if (segment.empty() || segment == "." || segment == ".." ||
        !RE2::FullMatch(segment, kSegment)) {
      return false;
    }
    if (next == std::string::npos) break;
    pos = next;
  }
  return true;
}

bool isValidRegex(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return RE2(pattern, options).ok();
}

bool isDnsSubdomain(const std::string& s) {
  static const RE2 kSubdomain("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return !s.empty() && s.size() <= 253 && RE2::FullMatch(s, kSubdomain);
}

bool isIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace braid::rules
