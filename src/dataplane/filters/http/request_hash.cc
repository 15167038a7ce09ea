#include "dataplane/filters/http/request_hash.h"

#include "common/http/http1_syntax.h"
#include "dataplane/upstream/load_balancer.h"

namespace braid::dataplane::hcm {
namespace {

std::optional<std::string_view> headerInput(const braid::http::Headers& headers,
                                            std::string_view name) {
  for (const auto& [field, value] : headers) {
    if (http1::syntax::equalsIgnoreCase(field, name)) return value;
  }
  return std::nullopt;
}

// RFC 6265 §4.2.1: cookie-string = cookie-pair *( ";" SP cookie-pair ), over every Cookie field.
std::optional<std::string_view> cookieInput(const braid::http::Headers& headers,
                                            std::string_view name) {
  for (const auto& [field, value] : headers) {
    if (field != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view pair = http1::syntax::trimOws(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      std::string_view cookie = pair.substr(eq + 1);
      if (cookie.size() >= 2 && cookie.front() == '"' && cookie.back() == '"') {
        cookie = cookie.substr(1, cookie.size() - 2);
      }
      return cookie;
    }
  }
  return std::nullopt;
}

// The raw (still percent-encoded) value of the first `name` parameter of the query.
std::optional<std::string_view> queryInput(std::string_view target, std::string_view name) {
  size_t question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  if (size_t hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    size_t end = query.find('&');
    std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view{} : query.substr(end + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> requestHash(const std::vector<HashPolicyConfig>& policies,
                                    const HashInputs& inputs) {
  std::optional<uint64_t> hash;
  for (const HashPolicyConfig& policy : policies) {
    std::optional<std::string_view> input;
    switch (policy.type) {
      case HashPolicyConfig::Type::kHeader:
        input = headerInput(inputs.headers, policy.name);
        break;
      case HashPolicyConfig::Type::kCookie:
        // Envoy would also set the cookie when it is missing and a TTL is given; braid-dp only
        // hashes cookies the caller already has (docs/policies.md).
        input = cookieInput(inputs.headers, policy.name);
        break;
      case HashPolicyConfig::Type::kQueryParameter:
        input = queryInput(inputs.target, policy.name);
        break;
      case HashPolicyConfig::Type::kConnection:
        if (!inputs.sourceIp.empty()) input = inputs.sourceIp;
        break;
      case HashPolicyConfig::Type::kFilterState:
        break;  // no filter state in braid-dp: never an input
    }
    if (input) {
      const uint64_t value = upstream::hashKey(*input);
      // Envoy's combination: rotate what is there by one bit, then xor the new hash in.
      hash = hash ? (((*hash << 1) | (*hash >> 63)) ^ value) : value;
    }
    // Envoy stops at a terminal policy once there is a hash, whoever found the input.
    if (policy.terminal && hash) break;
  }
  return hash;
}

}  // namespace braid::dataplane::hcm
