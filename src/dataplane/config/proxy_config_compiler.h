#pragma once

// Turns the CP's ProxyConfig into the Snapshot the workers run, checking everything a worker
// would otherwise trip over: unique listener names and addresses, IP literal addresses, ports in
// range, every TCP proxy naming a cluster that exists. An invalid configuration is refused whole
// with every problem listed (the discovery client NACKs it and the previous snapshot keeps
// serving).

#include <string>

#include "dataplane/config/snapshot.h"

namespace braid::proxy::v1 {
class ProxyConfig;
}

namespace braid::dataplane {

struct CompileResult {
  SnapshotPtr snapshot;  // null when invalid
  std::string error;     // every problem, "; "-separated
};

CompileResult compileProxyConfig(const braid::proxy::v1::ProxyConfig& config,
                                 const std::string& version);

}  // namespace braid::dataplane
