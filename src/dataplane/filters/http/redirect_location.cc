#include "dataplane/filters/http/redirect_location.h"

#include "dataplane/filters/http/header_rules.h"

namespace braid::dataplane::hcm {

std::string redirectLocation(const Redirect& redirect, const RouteMatch& match,
                             std::string_view hostHeader, const std::string& normalized) {
  std::string host(hostHeader);
  std::string port;
  if (size_t colon = host.rfind(':');
      colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    port = host.substr(colon + 1);
    host.resize(colon);
  }
  if (!redirect.host.empty()) host = redirect.host;
  if (redirect.port != 0) port = std::to_string(redirect.port);
  std::string scheme = redirect.scheme.empty() ? "http" : redirect.scheme;
  if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) port.clear();
  std::string target = rewriteTarget(normalized, match, redirect.path, redirect.value);
  return scheme + "://" + host + (port.empty() ? "" : ":" + port) + target;
}

}  // namespace braid::dataplane::hcm
