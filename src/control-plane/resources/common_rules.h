#pragma once

// Schemas and rules shared by several resource types (POLICY_FIELDS.md §0): tags, targetRefs,
// backendRefs, header names and key/values, SPIFFE/SNI matches, Kuma DataSources.

#include <string>
#include <vector>

#include "control-plane/resources/schema.h"

namespace braid::rules {

// Standard tag keys (CONTRACT §4).
inline constexpr const char* kServiceTag = "braid.io/service";
inline constexpr const char* kProtocolTag = "braid.io/protocol";
inline constexpr const char* kZoneTag = "braid.io/zone";
inline constexpr const char* kInstanceTag = "braid.io/instance";

// The protocols `braid.io/protocol` accepts (case-insensitive).
const std::vector<std::string>& protocols();

// Tags of inbounds, outbounds and external services: keys `[A-Za-z0-9.\-_:/]`, values
// `[A-Za-z0-9.\-_:]`, both non-empty; a `braid.io/protocol` value must be a known protocol.
schema::S tags();
// Tag selectors (MeshSubset, MeshServiceSubset): as tags(), but values may also contain `/`
// or be `*`.
schema::S tagSelector();

// Every targetRef kind Kuma knows. Braid supports the first five; the others are refused with a
// "not supported" error wherever they appear (CONTRACT §4).
inline constexpr const char* kMesh = "Mesh";
inline constexpr const char* kMeshSubset = "MeshSubset";
inline constexpr const char* kMeshService = "MeshService";
inline constexpr const char* kMeshServiceSubset = "MeshServiceSubset";
inline constexpr const char* kDataplane = "Dataplane";
const std::vector<std::string>& allTargetRefKinds();
bool isSupportedKind(const std::string& kind);

// Where a targetRef sits; decides e.g. whether `sectionName` is allowed on a Dataplane ref.
enum class RefPosition {
  kTop,         // spec.targetRef
  kTopInbound,  // spec.targetRef of a policy that has from/rules (sectionName allowed)
  kTo,          // to[].targetRef
  kFrom,        // from[].targetRef
  kBackend,     // backendRefs[] (adds weight and port)
};

// A targetRef object accepting `allowedKinds` (Kuma's list for that position; unsupported ones
// in it are still refused as unsupported). Checks every per-kind field rule of §0.
schema::S targetRef(std::vector<std::string> allowedKinds, RefPosition position);
// A backendRef: a targetRef plus weight (uint, default 1) and port.
schema::S backendRef(std::vector<std::string> allowedKinds);

// Header names: 1–256 chars of `^[a-z0-9!#$%&'*+\-.^_`|~]+$`.
schema::S headerName();
// `{name, value}` header key/value; lists of them hold at most 16 items.
schema::S headerKV();
schema::S headerKVList();
// HeaderMatch: name, type (Exact|Present|RegularExpression|Absent|Prefix), value.
schema::S headerMatch();
// Match: `spiffeID{type: Exact|Prefix, value}` or `sni{type: Exact, value}`.
schema::S match();
// Kuma DataSource: exactly one of secret, file, inline (base64), inlineString.
schema::S dataSource();

// "a", "b", "c" → a check that at least one of them is set (non-null).
schema::Check atLeastOneOf(std::vector<std::string> fields, std::string message = "");
// A check that at most one of the fields is set.
schema::Check atMostOneOf(std::vector<std::string> fields);

// True for a syntactically valid SPIFFE ID (spiffe://trust-domain/path, KUMA_FACTS rules).
bool isValidSpiffeId(const std::string& id);
// True when `pattern` compiles with RE2 — the linear-time engine that will evaluate it (route
// matches, header matches), so a pattern cannot make matching exponential.
bool isValidRegex(const std::string& pattern);
// RFC 1123 DNS subdomain (lowercase), ≤ 253 chars.
bool isDnsSubdomain(const std::string& s);
// An IPv4 or IPv6 literal.
bool isIpAddress(const std::string& s);

}  // namespace braid::rules
