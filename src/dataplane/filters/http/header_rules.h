#pragma once

// The header work a proxy does on every message: hop-by-hop fields removed, route header
// modifiers applied, x-request-id added, path rewrites. Names are lower case throughout (the
// codec lower-cases what it parses; route configs are lower case).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/headers.h"
#include "dataplane/config/route_config.h"

namespace braid::dataplane::hcm {

// Removes the hop-by-hop fields (RFC 9110 §7.6.1: Connection, Keep-Alive, Proxy-Connection, TE,
// Upgrade, Trailer, and every field the Connection header names) and the framing fields
// (Content-Length, Transfer-Encoding), which the proxy writes again for the next hop.
void removeHopByHop(braid::http::Headers& headers);

// RequestHeaderModifier / ResponseHeaderModifier: remove, then set (replace), then add.
void applyHeaderMods(braid::http::Headers& headers, const HeaderMods& mods);

// The first value of `name`, "" when absent.
std::string_view headerValue(const braid::http::Headers& headers, std::string_view name);
void setHeader(braid::http::Headers& headers, std::string_view name, std::string value);

// RequestMirror's Host / :authority, as Envoy's: "-shadow" after the host name, before any port
// ("a:80" → "a-shadow:80").
std::string shadowHost(std::string_view host);

// A random UUID (version 4) from two 64-bit random numbers, for x-request-id.
std::string makeRequestId(uint64_t high, uint64_t low);

// The upstream target of a request whose normalised target is `normalized` ("/p?q"), after the
// route's URLRewrite: a prefix rewrite replaces the part `match` (a PathPrefix) matched; a full
// rewrite replaces the whole path. The query is kept.
std::string rewriteTarget(const std::string& normalized, const RouteMatch& match,
                          PathReplace replace, const std::string& value);

}  // namespace braid::dataplane::hcm
