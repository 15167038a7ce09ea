#pragma once

// The CP's CA (--ca-cert-file, the CP's cp-ca.pem), checked before use: gRPC falls back to the
// system's public roots when given an empty bundle, so an empty or unreadable file must be an
// error, never a silently different trust store.

#include <string>

namespace braid::dataplane {

// Reads `path`; true when it holds one or more PEM certificates (and nothing unparsable).
bool loadCaBundle(const std::string& path, std::string& pem, std::string& error);

}  // namespace braid::dataplane
