#pragma once

// Where telemetry goes: the address, URL and endpoint rules shared by the observability policies
// (MeshAccessLog, MeshMetric, MeshTrace), POLICY_FIELDS.md §11–§13.

#include <optional>
#include <string>

#include "control-plane/resources/schema.h"

namespace braid::policies {

// A checked `host[:port]`: the host is a DNS name, an IPv4 literal or an IPv6 literal (in
// brackets when followed by a port, which are removed here); the port, when present, is 1–65535.
struct HostPort {
  std::string host;
  std::optional<int> port;
};

// Splits and checks `text` as `host[:port]`. On failure returns nullopt and sets `problem` to a
// message fit for a field error. Schemes, user info, paths, queries and fragments are refused.
std::optional<HostPort> parseHostPort(const std::string& text, std::string& problem);

// Explains what is wrong with `text` as a `host[:port]` address (`host:port` when
// `portRequired`), or returns "" when it is fine.
std::string hostPortProblem(const std::string& text, bool portRequired);

// `scheme://[user@]host[:port][/path][?query][#fragment]`, split and checked as above.
struct Url {
  std::string scheme;  // lowercased
  std::string userInfo;
  HostPort authority;
  std::string path;
  std::optional<std::string> query;
  std::optional<std::string> fragment;
};
std::optional<Url> parseUrl(const std::string& text);

// A string holding `host[:port]` (`host:port` when `portRequired`): a TCP log collector, or an
// `openTelemetry.endpoint` (deprecated in Kuma, the only form Braid supports: a collector's gRPC
// address without scheme or path).
schema::S hostPort(bool portRequired);

// `openTelemetry.backendRef` ({kind: MeshOpenTelemetryBackend, labels}): checked for shape, then
// refused, because Braid has no MeshOpenTelemetryBackend resource yet (CONTRACT §4).
schema::S otelBackendRef();

// The check every openTelemetry object carries: exactly one of `endpoint` and `backendRef`.
void checkOtelTarget(const Json& otel, const std::string& path, FieldErrors& errors);

}  // namespace braid::policies
