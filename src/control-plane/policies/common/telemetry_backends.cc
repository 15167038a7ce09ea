#include "control-plane/policies/common/telemetry_backends.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "control-plane/resources/common_rules.h"

namespace braid::policies {
namespace {

using schema::S;

bool isHostName(const std::string& s) {
  static const RE2 kHost(
      "[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*");
  return !s.empty() && s.size() <= 253 && RE2::FullMatch(s, kHost);
}

std::optional<int> portNumber(const std::string& s) {
  int port = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || port < 1 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

}  // namespace

std::optional<HostPort> parseHostPort(const std::string& text, std::string& problem) {
  if (text.empty()) {
    problem = "must not be empty";
    return std::nullopt;
  }
  if (text.find_first_of("/?#@ ") != std::string::npos) {
    problem =
        "must be an address such as host:port, without a scheme, user, path, query or fragment";
    return std::nullopt;
  }
  HostPort out;
  std::optional<std::string> port;
  if (text.front() == '[') {
    auto close = text.find(']');
    out.host = text.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    std::string rest = close == std::string::npos ? "" : text.substr(close + 1);
    if (close == std::string::npos || !rules::isIpAddress(out.host) ||
        out.host.find(':') == std::string::npos || (!rest.empty() && rest.front() != ':')) {
      problem = "must hold an IPv6 address inside '[' and ']', optionally followed by :port";
      return std::nullopt;
    }
    if (!rest.empty()) port = rest.substr(1);
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    // A bare IPv6 literal: it cannot carry a port without brackets.
    out.host = text;
    if (!rules::isIpAddress(text)) {
      problem = "host must be a DNS name or an IP address";
      return std::nullopt;
    }
  } else {
    auto colon = text.find(':');
    out.host = text.substr(0, colon);
    if (colon != std::string::npos) port = text.substr(colon + 1);
    if (!isHostName(out.host) && !rules::isIpAddress(out.host)) {
      problem = "host must be a DNS name or an IP address";
      return std::nullopt;
    }
  }
  if (port) {
    out.port = portNumber(*port);
    if (!out.port) {
      problem = "port must be a number from 1 to 65535";
      return std::nullopt;
    }
  }
  return out;
}

std::string hostPortProblem(const std::string& text, bool portRequired) {
  std::string problem;
  auto hp = parseHostPort(text, problem);
  if (!hp) return problem;
  if (portRequired && !hp->port) return "must include a port: host:port";
  return "";
}

std::optional<Url> parseUrl(const std::string& text) {
  static const RE2 kScheme("[A-Za-z][A-Za-z0-9+.-]*");
  auto sep = text.find("://");
  if (sep == std::string::npos) return std::nullopt;
  Url url;
  url.scheme = text.substr(0, sep);
  if (!RE2::FullMatch(url.scheme, kScheme)) return std::nullopt;
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string rest = text.substr(sep + 3);
  auto authorityEnd = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, authorityEnd);
  rest = authorityEnd == std::string::npos ? "" : rest.substr(authorityEnd);
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    url.userInfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  std::string problem;
  auto hp = parseHostPort(authority, problem);
  if (!hp) return std::nullopt;
  url.authority = *hp;
  if (auto hash = rest.find('#'); hash != std::string::npos) {
    url.fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
  }
  if (auto question = rest.find('?'); question != std::string::npos) {
    url.query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  if (rest.find_first_of(" \t\r\n") != std::string::npos) return std::nullopt;
  url.path = rest;
  return url;
}

S hostPort(bool portRequired) {
  return S::string().check(
      [portRequired](const Json& v, const std::string& path, FieldErrors& errors) {
        auto problem = hostPortProblem(v.get<std::string>(), portRequired);
        if (!problem.empty()) errors.add(path, problem);
      });
}

S otelBackendRef() {
  return S::object({
                       schema::req("kind", S::enumOf({"MeshOpenTelemetryBackend"})),
                       schema::req("labels", S::map(S::string()).notEmpty()),
                   })
      .check([](const Json&, const std::string& path, FieldErrors& errors) {
        errors.add(path,
                   "MeshOpenTelemetryBackend references are not supported by Braid yet: give an "
                   "endpoint");
      });
}

void checkOtelTarget(const Json& otel, const std::string& path, FieldErrors& errors) {
  rules::atLeastOneOf({"endpoint", "backendRef"},
                      "exactly one of 'endpoint' or 'backendRef' must be defined")(otel, path,
                                                                                   errors);
  rules::atMostOneOf({"endpoint", "backendRef"})(otel, path, errors);
}

}  // namespace braid::policies
