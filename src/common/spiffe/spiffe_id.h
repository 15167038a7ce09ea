#pragma once

// SPIFFE IDs (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md) and the checks a
// peer's X.509-SVID must pass (KUMA_FACTS "SPIFFE X.509-SVID"). Braid's identities are
// spiffe://<mesh>/<service>: the mesh is the trust domain, the service the one path segment.

#include <string>
#include <string_view>

namespace braid::spiffe {

struct SpiffeId {
  std::string trustDomain;  // [a-z0-9._-]+
  std::string path;         // "" or "/seg/seg…", segments [A-Za-z0-9._-]+, never "." or ".."
  std::string str() const { return "spiffe://" + trustDomain + path; }
};

// Parses and validates `text`: scheme exactly "spiffe" (lower case), "://", a trust domain of
// [a-z0-9._-] (no upper case, no port, no userinfo), an optional path of segments [A-Za-z0-9._-]
// without empty, "." or ".." segments and without a trailing "/", no query or fragment, at most
// 2048 bytes in all. On failure `error` says what is wrong (never echoing more than the first 64
// bytes of the input).
bool parseSpiffeId(std::string_view text, SpiffeId& out, std::string& error);

// "spiffe://<mesh>/<service>"; false (with error) when the mesh is no valid trust domain or the
// service no valid path segment.
bool serviceSpiffeId(const std::string& mesh, const std::string& service, std::string& id,
                     std::string& error);

}  // namespace braid::spiffe
