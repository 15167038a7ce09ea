#pragma once

#include <memory>
#include <string>

#include "cli/api_client.h"

namespace braid::cli {

// An ApiClient over libcurl. `baseUrl` is the API's root ("http://127.0.0.1:5681"); a non-empty
// `token` is sent as `Authorization: Bearer <token>`. Request targets may be paths (joined to
// the base) or absolute URLs (the `next` links of lists).
std::unique_ptr<ApiClient> makeCurlClient(std::string baseUrl, std::string token);

}  // namespace braid::cli
