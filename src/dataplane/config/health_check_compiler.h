#pragma once

#include <string>
#include <vector>

#include "braid/proxy/v1/config.pb.h"
#include "dataplane/config/health_check_config.h"

namespace braid::dataplane {

// Compiles a cluster's MeshHealthCheck. Returns what is wrong with it (empty: nothing): a zero
// interval or timeout or threshold, a percentage above 100, an HTTP path that does not start
// with '/', a status outside 100-599, a header name or value that could split the request.
std::vector<std::string> compileHealthCheck(const braid::proxy::v1::HealthCheck& in,
                                            HealthCheckConfig& out);

}  // namespace braid::dataplane
