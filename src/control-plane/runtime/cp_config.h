#pragma once

// braid-cp's settings (CONTRACT §2). Each setting comes from, in order of precedence: a flag
// (`--api-address X` or `--api-address=X`), an environment variable (`BRAID_API_ADDRESS`), the
// YAML config file given with `--config` (key `api-address`, or camelCase `apiAddress`), or its
// default. Unknown flags, unknown config keys and invalid values are errors.

#include <map>
#include <string>
#include <vector>

namespace braid::runtime {

struct CpConfig {
  std::string mode = "standalone";
  std::string zone;
  std::string globalAddress;
  std::string store;  // default: sqlite:<data-dir>/braid.db
  std::string dataDir = "./braid-data";
  std::string apiAddress = "127.0.0.1:5681";
  std::string xdsAddress = "0.0.0.0:5678";
  std::string kdsAddress = "0.0.0.0:5685";
  std::string dpAuth = "token";
  std::string logLevel = "info";
  bool loopbackAdmin = true;  // requests from loopback are admin on the REST API
};

struct ConfigResult {
  CpConfig config;
  std::vector<std::string> errors;  // every problem found, each naming the flag/key/variable
  bool helpRequested = false;
};

// `args` are the arguments after `run`; `env` maps variable names to values.
ConfigResult loadCpConfig(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env);

// "postgres://user:secret@host/db" → "postgres://user:***@host/db": for logs and errors.
std::string redactCredentials(const std::string& storeSpec);

// The text printed by `braid-cp run --help`.
std::string cpUsage();

}  // namespace braid::runtime
