#pragma once

// What a dataplane token admits: one Dataplane (mesh and name) and, when the token carries tags,
// only inbounds with those tags. A token bound to `braid.io/service: web` cannot register, or get
// certificates for, a Dataplane that serves anything else (docs/security.md).

#include <functional>
#include <map>
#include <string>

#include "common/json.h"

namespace braid::xds {

struct TokenGrant {
  std::string mesh;
  std::string name;
  std::map<std::string, std::string> tags;  // every inbound must carry these; empty: no bound
};

// Checks a dataplane token; on success fills `grant`.
using Authenticator =
    std::function<bool(const std::string& token, TokenGrant& grant, std::string& error)>;

// "" when every inbound (not Ignored) of the Dataplane `content` carries the grant's tags, else
// what does not ("inbound[1] has braid.io/service=payments, the token allows web only").
std::string tokenTagsViolation(const TokenGrant& grant, const Json& content);

}  // namespace braid::xds
