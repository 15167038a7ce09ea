#pragma once

// Matching a request against an HTTP listener's RouteTable (config/route_config.h): what the
// HTTP connection manager calls once per request on a worker. No allocation beyond the
// normalised path; regexes were compiled when the snapshot was.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/headers.h"
#include "dataplane/config/route_config.h"

namespace braid::dataplane::http {

struct RequestView {
  std::string_view method;
  std::string_view path;  // the raw request target: origin-form "/p?q", or absolute-form
  std::string_view host;  // Host / :authority (not matched by sidecar routes; for rewrites)
  const braid::http::Headers& headers;  // names lower case
};

// Normalises a request target the way Envoy does at the edge with normalize_path: true,
// merge_slashes: true and path_with_escaped_slashes_action: KEEP_UNCHANGED:
//   - an absolute-form target ("http://host/p?q") is reduced to its path and query; the
//     fragment ("#…") is dropped; an empty path becomes "/";
//   - in the path (never the query): percent-escapes of unreserved characters
//     (A-Z a-z 0-9 - . _ ~) are decoded and other escapes upper-cased (RFC 3986 §6.2.2.1-2),
//     so "%2e%2e" is "..", but "%2F" and "%5C" stay encoded (they are not separators); a '%'
//     that starts no valid escape (malformed under RFC 3986) is encoded as "%25", which keeps
//     the byte and normalisation idempotent;
//   - a literal backslash is a '/' (as the URL canonicaliser Envoy uses treats it);
//   - runs of '/' become one, then "." and ".." segments are removed (RFC 3986 §5.2.4); ".."
//     never climbs above the root.
// The result is the path followed by the raw query ("?…") when there is one. A target that is
// neither ("*", "host:443") is returned unchanged. Idempotent: normalising the result again
// gives the same string.
std::string normalizePath(std::string_view target);

// Normalises req.path into `normalizedPath` (what goes upstream unless a route rewrites it),
// then returns the first route whose match holds, or nullptr (the caller answers 404).
//   path: exact/prefix/regex on the normalised path without its query; a prefix matches whole
//     segments ("/api" matches "/api" and "/api/x", not "/apix"; "/" and "/api/" match every
//     path they start);
//   method: exact, case-sensitive;
//   headers: a header that appears several times is matched on its values joined with ","
//     (Envoy's rule); present/absent look at the name only;
//   query parameters: the first parameter of that name, its raw (still encoded) value; a
//     parameter without '=' has the value "".
const Route* matchRoute(const RouteTable& table, const RequestView& req,
                        std::string& normalizedPath);

// Picks one of the action's clusters by weight with a caller-supplied random number in
// [0, totalWeight) (larger numbers are reduced modulo totalWeight). Returns an empty string
// when every weight is 0 (the caller answers 503, as Envoy does for a route with no cluster).
const std::string& pickCluster(const RouteAction& action, uint64_t random);

// The same for MeshTCPRoute's weights on a TCP listener.
const std::string& pickWeightedCluster(const std::vector<WeightedCluster>& clusters,
                                       uint64_t totalWeight, uint64_t random);

}  // namespace braid::dataplane::http
