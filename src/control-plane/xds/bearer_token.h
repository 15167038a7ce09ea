#pragma once

// The dataplane token a proxy sends with each of its gRPC calls (metadata
// "authorization: Bearer <token>"), or "" when it sent none. For the server contexts of the
// discovery, identity and admin services (they all have client_metadata()); included only by
// their gRPC sources.

#include <string>

namespace braid::xds {

template <typename ServerContext>
std::string bearerToken(const ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  std::string value(it->second.data(), it->second.size());
  return value.rfind("Bearer ", 0) == 0 ? value.substr(7) : "";
}

}  // namespace braid::xds
