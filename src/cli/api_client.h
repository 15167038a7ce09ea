#pragma once

// The only way braidctl talks to a control plane: its REST API (CONTRACT §3).

#include <string>
#include <string_view>

#include "common/json.h"

namespace braid::cli {

struct HttpResponse {
  long status = 0;
  std::string body;

  bool ok() const { return status >= 200 && status < 300; }
};

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  // Sends one request; `path` starts with '/' and may carry a query. Throws CliError when the
  // control plane cannot be reached. Any HTTP status is a response, not an error.
  virtual HttpResponse request(const std::string& method, const std::string& path,
                               const std::string& body) = 0;
  // The base URL, for messages ("http://127.0.0.1:5681").
  virtual std::string baseUrl() const = 0;

  HttpResponse get(const std::string& path) { return request("GET", path, ""); }
  HttpResponse put(const std::string& path, const std::string& body) {
    return request("PUT", path, body);
  }
  HttpResponse post(const std::string& path, const std::string& body) {
    return request("POST", path, body);
  }
  HttpResponse del(const std::string& path) { return request("DELETE", path, ""); }
};

// Percent-encodes one path segment (a resource or mesh name typed by the user).
std::string pathSegment(std::string_view segment);

// The user-facing text of an API error response: "title: details" then one indented
// "field: reason" line per invalid parameter. Falls back to the status and raw body when the
// body is not the API's error JSON.
std::string apiErrorMessage(const HttpResponse& response);

// Parses a response body as JSON; throws CliError naming `what` when it is not JSON.
Json parseResponseJson(const HttpResponse& response, const std::string& what);

// Fetches a paged list (`{"total","items","next"}`), following `next` until it is null, and
// returns one list object holding every item, with `next` null. Throws CliError on API errors.
// The path and query of a list's `next` link, to be sent to the --api address.
std::string relativeTarget(const std::string& next);
Json fetchAllPages(ApiClient& client, const std::string& path);

}  // namespace braid::cli
