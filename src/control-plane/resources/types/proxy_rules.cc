#include "control-plane/resources/types/proxy_rules.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "control-plane/resources/common_rules.h"

namespace braid::proxy_rules {

using schema::member;
using schema::S;

namespace {

// The 16 bytes of an IPv6 address, or an IPv4 address mapped into IPv6, for comparisons.
std::optional<std::array<unsigned char, 16>> ipBytes(const std::string& s) {
  std::array<unsigned char, 16> out{};
  unsigned char v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, v4, 4);
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  return std::nullopt;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

bool isIpOrDnsName(const std::string& s) {
  if (rules::isIpAddress(s)) return true;
  std::string name = lower(s);
  if (!rules::isDnsSubdomain(name)) return false;
  std::string last = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
  return !std::all_of(last.begin(), last.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool sameAddress(const std::string& a, const std::string& b) {
  auto ia = ipBytes(a), ib = ipBytes(b);
  if (ia && ib) return *ia == *ib;
  return lower(a) == lower(b);
}

bool isWildcardAddress(const std::string& s) {
  return sameAddress(s, "0.0.0.0") || sameAddress(s, "::");
}

S proxyAddress() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) {
      errors.add(path, "must not be empty");
    } else if (isWildcardAddress(s)) {
      errors.add(path, "must not be 0.0.0.0 or ::");
    } else if (!isIpOrDnsName(s)) {
      errors.add(path, "must be a valid IP address or DNS name");
    }
  });
}

S ipAddress() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    if (!rules::isIpAddress(v.get<std::string>())) {
      errors.add(path, "must be a valid IP address");
    }
  });
}

S serviceTags() {
  return rules::tags().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    if (!member(v, rules::kServiceTag)) {
      errors.add(path, std::string(rules::kServiceTag) + " must be defined");
    }
  });
}

S unsupported(const std::string& hint) {
  return S::any().check([hint](const Json&, const std::string& path, FieldErrors& errors) {
    errors.add(path, "is not supported by Braid yet: " + hint);
  });
}

schema::Check adminPortDiffersFromPort() {
  return [](const Json& net, const std::string& path, FieldErrors& errors) {
    const Json* admin = member(net, "admin");
    auto adminPort = admin ? intMember(*admin, "port") : std::nullopt;
    if (adminPort && adminPort == intMember(net, "port")) {
      errors.add(joinPath(joinPath(path, "admin"), "port"),
                 "must differ from " + joinPath(path, "port"));
    }
  };
}

std::optional<int64_t> intMember(const Json& obj, const char* key) {
  const Json* m = member(obj, key);
  if (!m || !m->is_number_integer()) return std::nullopt;
  return m->get<int64_t>();
}

std::optional<std::string> stringMember(const Json& obj, const char* key) {
  const Json* m = member(obj, key);
  if (!m || !m->is_string()) return std::nullopt;
  return m->get<std::string>();
}

}  // namespace braid::proxy_rules
