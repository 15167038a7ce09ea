#pragma once

// ~/.braidctl/config: the control planes braidctl knows and which one it talks to, in kumactl's
// layout:
//   controlPlanes:
//   - name: local
//     coordinates: {apiServer: {url: http://127.0.0.1:5681, authToken: …}}
//   contexts:
//   - name: local
//     controlPlane: local
//   currentContext: local

#include <string>
#include <vector>

namespace braid::cli {

struct ControlPlaneEntry {
  std::string name;
  std::string url;
  std::string authToken;  // empty: none
  bool operator==(const ControlPlaneEntry&) const = default;
};

struct ContextEntry {
  std::string name;
  std::string controlPlane;
  bool operator==(const ContextEntry&) const = default;
};

struct CliConfig {
  std::vector<ControlPlaneEntry> controlPlanes;
  std::vector<ContextEntry> contexts;
  std::string currentContext;
  bool operator==(const CliConfig&) const = default;

  // The control plane of the current context; nullptr when there is none.
  const ControlPlaneEntry* current() const;
  const ControlPlaneEntry* findControlPlane(const std::string& name) const;
};

// $HOME/.braidctl/config; throws CliError when HOME is unset.
std::string defaultConfigPath();

// A missing file is an empty configuration. Throws CliError (naming the file) when the file
// cannot be read or is malformed.
CliConfig loadConfig(const std::string& path);
// Writes the file (and its directory) atomically, readable by the owner only (0600), since it
// may hold tokens. Throws CliError on failure.
void saveConfig(const std::string& path, const CliConfig& config);

// The YAML text saveConfig writes; parseConfig reads it back (throws CliError with `source`).
std::string serializeConfig(const CliConfig& config);
CliConfig parseConfig(const std::string& text, const std::string& source);

}  // namespace braid::cli
