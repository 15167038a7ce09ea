#pragma once

// The gRPC channel braid-dp opens to the CP's dataplane server, shared by the discovery stream
// and the certificate client: TLS, the CP verified with cp-ca.pem unless --insecure-skip-verify.

#include <memory>
#include <string>

namespace grpc {
class Channel;
}

namespace braid::dataplane {

struct CpChannelOptions {
  std::string target;  // HOST:PORT
  std::string caPem;
  bool insecureSkipVerify = false;
  int initialBackoffMs = 200;
  int maxBackoffMs = 1000;
};

// A fresh channel with its own subchannel pool: gRPC's shared reconnect backoff would otherwise
// keep failing calls fast with a stale "connection refused" for seconds after the CP is back; the
// callers' own jittered backoff decides when to retry.
std::shared_ptr<grpc::Channel> makeCpChannel(const CpChannelOptions& options);

}  // namespace braid::dataplane
