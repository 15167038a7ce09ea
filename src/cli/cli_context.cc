#include "cli/cli_context.h"

#include <cstdlib>

#include "cli/config.h"
#include "cli/curl_client.h"

namespace braid::cli {

std::string CliContext::resolvedConfigPath() const {
  return configPath.empty() ? defaultConfigPath() : configPath;
}

ApiClient& CliContext::client() {
  if (client_) return *client_;
  std::string url = apiUrl;
  std::string bearer = token;
  // Without HOME there is no config to read; the default address still works.
  const char* home = std::getenv("HOME");
  bool haveConfig = !configPath.empty() || (home && *home);
  if (url.empty()) {
    CliConfig config = haveConfig ? loadConfig(resolvedConfigPath()) : CliConfig{};
    if (const ControlPlaneEntry* cp = config.current()) {
      url = cp->url;
      if (bearer.empty()) bearer = cp->authToken;
    } else {
      url = kDefaultApiUrl;
    }
  }
  client_ = makeClient ? makeClient(url, bearer) : makeCurlClient(url, bearer);
  return *client_;
}

}  // namespace braid::cli
