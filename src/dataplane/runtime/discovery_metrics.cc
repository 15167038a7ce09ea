#include "dataplane/runtime/discovery_metrics.h"

namespace braid::dataplane {
namespace {
void metric(std::string& out, const char* name, const char* type, const char* help,
            uint64_t value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " " + std::to_string(value) + "\n";
}
}  // namespace

std::string discoveryMetrics(const DiscoveryClient& discovery, const WorkerPool& workers) {
  std::string out;
  metric(out, "braid_dp_control_plane_connected", "gauge",
         "1 while the discovery stream to the control plane is up", discovery.connected());
  metric(out, "braid_dp_control_plane_reconnects_total", "counter",
         "discovery streams opened after the first", discovery.reconnects());
  metric(out, "braid_dp_config_updates_total", "counter", "configurations applied",
         discovery.updatesApplied());
  metric(out, "braid_dp_config_rejections_total", "counter",
         "configurations refused (NACKed); the previous one kept serving",
         discovery.updatesRejected());
  metric(out, "braid_dp_downstream_connections_active", "gauge",
         "downstream connections open on every worker", workers.activeConnections());
  return out;
}

}  // namespace braid::dataplane
