#include "cli/api_client.h"

#include <set>

#include "cli/cli_error.h"
#include "cli/json_access.h"

namespace braid::cli {

std::string pathSegment(std::string_view segment) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string apiErrorMessage(const HttpResponse& response) {
  Json body = Json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body.contains("title")) {
    std::string text = response.body;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    std::string out = "the control plane answered HTTP " + std::to_string(response.status);
    return text.empty() ? out : out + ": " + text;
  }
  std::string out = stringField(body, "title");
  if (std::string details = stringField(body, "details"); !details.empty() && details != out) {
    out += ": " + details;
  }
  if (const Json* params = field(body, "invalid_parameters"); params && params->is_array()) {
    for (const auto& p : *params) {
      std::string name = stringField(p, "field");
      std::string reason = stringField(p, "reason");
      out += "\n  " + (name.empty() ? reason : name + ": " + reason);
    }
  }
  return out;
}

Json parseResponseJson(const HttpResponse& response, const std::string& what) {
  Json body = Json::parse(response.body, nullptr, false);
  if (body.is_discarded()) {
    throw CliError("the control plane sent " + what + " that is not JSON (HTTP " +
                   std::to_string(response.status) + ")");
  }
  return body;
}

std::string relativeTarget(const std::string& next) {
  // The API's `next` is an absolute URL built from the Host it was sent. Only its path and query
  // are used, against the --api address: the token must never follow a link to another origin.
  if (next.empty()) return next;
  std::string target = next;
  if (auto scheme = next.find("://"); scheme != std::string::npos) {
    auto slash = next.find('/', scheme + 3);
    target = slash == std::string::npos ? "/" : next.substr(slash);
  }
  if (target.empty() || target[0] != '/') {
    throw CliError("the control plane sent an invalid \"next\" link: " + next);
  }
  return target;
}

Json fetchAllPages(ApiClient& client, const std::string& path) {
  Json items = Json::array();
  std::set<std::string> seen;
  std::string next = path;
  // A server that hands back a page already fetched would otherwise loop forever.
  while (!next.empty() && seen.insert(next).second) {
    HttpResponse response = client.get(next);
    if (!response.ok()) throw CliError(apiErrorMessage(response));
    Json page = parseResponseJson(response, "a list");
    const Json* pageItems = field(page, "items");
    if (!pageItems || !pageItems->is_array()) {
      throw CliError("the control plane sent a list without \"items\" for " + path);
    }
    for (const auto& item : *pageItems) items.push_back(item);
    next = relativeTarget(stringField(page, "next"));
  }
  Json list = Json::object();
  list["total"] = items.size();
  list["items"] = std::move(items);
  list["next"] = nullptr;
  return list;
}

}  // namespace braid::cli
