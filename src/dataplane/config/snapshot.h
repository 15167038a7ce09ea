#pragma once

// The running configuration of braid-dp, as the workers see it: compiled on the main thread from
// the CP's ProxyConfig (config/proxy_config_compiler.cc), validated whole, then shared read-only
// with every worker as a std::shared_ptr<const Snapshot>. New connections take the newest
// snapshot; open ones keep the one they started with until they close. No protobuf here: workers
// never see generated code.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace braid::dataplane {

struct SocketAddress {
  std::string ip;  // IPv4 or IPv6 literal
  uint16_t port = 0;
  bool operator==(const SocketAddress&) const = default;
};

struct EndpointConfig {
  SocketAddress address;
  uint32_t weight = 1;
  bool healthy = true;
  std::string origin;  // "<mesh>/<dataplane>", for /clusters
};

enum class LbPolicy { kRoundRobin, kLeastRequest };

struct ClusterConfig {
  std::string name;
  std::string service;  // "" for an inbound's local app
  LbPolicy lbPolicy = LbPolicy::kRoundRobin;
  std::chrono::milliseconds connectTimeout{5000};  // Envoy's default
  std::vector<EndpointConfig> endpoints;
};

enum class Direction { kInbound, kOutbound };

struct ListenerConfig {
  std::string name;  // "inbound:127.0.0.1:8080"; unique in a snapshot
  SocketAddress address;
  Direction direction = Direction::kOutbound;
  std::string cluster;     // the TCP proxy's target; always a key of Snapshot::clusters
  std::string statPrefix;  // label used in stats
  bool operator==(const ListenerConfig&) const = default;
};

struct Snapshot {
  std::string version;  // the CP's version_info
  std::vector<ListenerConfig> listeners;
  std::map<std::string, ClusterConfig> clusters;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace braid::dataplane
