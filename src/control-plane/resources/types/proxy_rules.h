#pragma once

// Rules shared by the legacy proxy types (Dataplane, ExternalService, ZoneIngress, ZoneEgress):
// listen addresses, IP literals, tags that must name a service, and Kuma features Braid refuses.

#include <optional>
#include <string>

#include "control-plane/resources/schema.h"

namespace braid::proxy_rules {

// True for an IPv4/IPv6 literal or a DNS name (RFC 1123, any case) whose last label is not all
// digits, so that "10.0.0" or "999.1.1.1" are not mistaken for host names.
bool isIpOrDnsName(const std::string& s);

// True when `a` and `b` name the same address: equal IPs (in any notation) or equal host names.
bool sameAddress(const std::string& a, const std::string& b);

// True for "0.0.0.0" and "::" (in any notation): addresses that cannot be dialled.
bool isWildcardAddress(const std::string& s);

// An address others connect to: an IP or DNS name, not a wildcard address.
schema::S proxyAddress();
// An IP literal.
schema::S ipAddress();
// Tags (POLICY_FIELDS §0 rules) that must contain a non-empty `braid.io/service`.
schema::S serviceTags();
// A field Kuma has and Braid refuses: any value is an error "is not supported by Braid yet:
// <hint>".
schema::S unsupported(const std::string& hint);

// For ZoneIngress/ZoneEgress `networking`: `admin.port` must differ from `port`.
schema::Check adminPortDiffersFromPort();

// The integer member `key` of `obj`, if it is set and an integer.
std::optional<int64_t> intMember(const Json& obj, const char* key);
// The string member `key` of `obj`, if it is set and a string.
std::optional<std::string> stringMember(const Json& obj, const char* key);

}  // namespace braid::proxy_rules
