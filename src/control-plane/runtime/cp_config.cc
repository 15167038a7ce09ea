#include "control-plane/runtime/cp_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/yaml_json.h"

namespace braid::runtime {
namespace {

struct Setting {
  std::string flag;  // without "--"
  std::string help;
  std::string CpConfig::*text = nullptr;  // a string setting, or
  bool CpConfig::*boolean = nullptr;      // a true/false setting
  std::vector<std::string> allowed;       // empty = free text
};

const std::vector<Setting>& settings() {
  static const std::vector<Setting> kSettings = {
      {"mode",
       "standalone, zone or global",
       &CpConfig::mode,
       nullptr,
       {"standalone", "zone", "global"}},
      {"zone", "this zone's name (zone mode)", &CpConfig::zone, nullptr, {}},
      {"global-address",
       "grpcs://HOST:PORT of the global CP (zone mode)",
       &CpConfig::globalAddress,
       nullptr,
       {}},
      {"store",
       "sqlite:PATH, memory or postgres://... (default sqlite:DATA_DIR/braid.db)",
       &CpConfig::store,
       nullptr,
       {}},
      {"data-dir",
       "the CP's own files (admin-token, ports.json, certificates)",
       &CpConfig::dataDir,
       nullptr,
       {}},
      {"api-address", "REST API, /metrics, /ready", &CpConfig::apiAddress, nullptr, {}},
      {"xds-address", "the dataplane server", &CpConfig::xdsAddress, nullptr, {}},
      {"kds-address", "global mode: the zone sync server", &CpConfig::kdsAddress, nullptr, {}},
      {"dp-auth", "token or none", &CpConfig::dpAuth, nullptr, {"token", "none"}},
      {"log-level",
       "debug, info, warn or error",
       &CpConfig::logLevel,
       nullptr,
       {"debug", "info", "warn", "error"}},
      {"loopback-admin",
       "true: requests from loopback are admin on the REST API",
       nullptr,
       &CpConfig::loopbackAdmin,
       {"true", "false"}},
  };
  return kSettings;
}

std::string currentValue(const CpConfig& c, const Setting& s) {
  if (s.boolean) return c.*s.boolean ? "true" : "false";
  return c.*s.text;
}

std::string envName(const std::string& flag) {
  std::string s = "BRAID_";
  for (char c : flag) s += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return s;
}

std::string camelCase(const std::string& flag) {
  std::string s;
  bool upper = false;
  for (char c : flag) {
    if (c == '-') {
      upper = true;
    } else {
      s += upper ? static_cast<char>(std::toupper(c)) : c;
      upper = false;
    }
  }
  return s;
}

const Setting* findSetting(const std::string& name) {
  for (const auto& s : settings()) {
    if (s.flag == name || camelCase(s.flag) == name) return &s;
  }
  return nullptr;
}

void apply(CpConfig& config, const Setting& s, const std::string& value, const std::string& origin,
           std::vector<std::string>& errors) {
  if (!s.allowed.empty() &&
      std::find(s.allowed.begin(), s.allowed.end(), value) == s.allowed.end()) {
    std::string list;
    for (const auto& a : s.allowed) list += (list.empty() ? "" : ", ") + a;
    errors.push_back(origin + ": invalid value '" + value + "': must be one of " + list);
    return;
  }
  if (s.boolean) {
    config.*s.boolean = value == "true";
  } else {
    config.*s.text = value;
  }
}

bool validAddress(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) {
    return false;
  }
  return std::stoi(port) <= 65535;
}

}  // namespace

ConfigResult loadCpConfig(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env) {
  ConfigResult result;
  auto& errors = result.errors;

  // 1. Flags are parsed first (the config file's path is one of them) but applied last.
  std::vector<std::pair<const Setting*, std::string>> flags;
  std::string configFile;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h" || arg == "--help") {
      result.helpRequested = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      errors.push_back("unexpected argument '" + arg + "'");
      continue;
    }
    std::string name = arg.substr(2), value;
    bool hasValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    const Setting* s = name == "config" ? nullptr : findSetting(name);
    if (name != "config" && (!s || s->flag != name)) {
      errors.push_back("unknown flag '--" + name + "'");
      continue;
    }
    if (!hasValue) {
      if (i + 1 >= args.size()) {
        errors.push_back("flag '--" + name + "' needs a value");
        continue;
      }
      value = args[++i];
    }
    if (name == "config") {
      configFile = value;
    } else {
      flags.emplace_back(s, value);
    }
  }
  if (configFile.empty()) {
    if (auto it = env.find("BRAID_CONFIG"); it != env.end()) configFile = it->second;
  }

  // 2. The config file (lowest precedence after defaults).
  if (!configFile.empty()) {
    std::ifstream in(configFile);
    if (!in) {
      errors.push_back("--config: cannot read '" + configFile + "'");
    } else {
      std::stringstream ss;
      ss << in.rdbuf();
      auto docs = parseYaml(ss.str());
      if (!docs.error.empty()) {
        errors.push_back(configFile + ": " + docs.error);
      } else if (docs.documents.size() > 1 ||
                 (docs.documents.size() == 1 && !docs.documents[0].is_object())) {
        errors.push_back(configFile + ": must be one YAML mapping of settings");
      } else if (docs.documents.size() == 1) {
        for (const auto& [key, value] : docs.documents[0].items()) {
          const Setting* s = findSetting(key);
          if (!s) {
            errors.push_back(configFile + ": unknown key '" + key + "'");
            continue;
          }
          if (value.is_null()) continue;  // `zone:` with no value leaves the default
          std::string text = value.is_string() ? value.get<std::string>() : value.dump();
          apply(result.config, *s, text, configFile + ": " + key, errors);
        }
      }
    }
  }

  // 3. Environment, then 4. flags.
  for (const auto& s : settings()) {
    if (auto it = env.find(envName(s.flag)); it != env.end()) {
      apply(result.config, s, it->second, envName(s.flag), errors);
    }
  }
  for (const auto& [s, value] : flags) apply(result.config, *s, value, "--" + s->flag, errors);

  // Cross-setting rules.
  CpConfig& c = result.config;
  if (c.store.empty()) c.store = "sqlite:" + c.dataDir + "/braid.db";
  if (c.mode == "zone" && c.zone.empty()) errors.push_back("--zone is required in zone mode");
  if (c.mode == "zone" && c.globalAddress.empty()) {
    errors.push_back("--global-address is required in zone mode");
  }
  if (c.mode != "zone" && !c.zone.empty()) {
    errors.push_back("--zone is only valid in zone mode");
  }
  for (auto [flag, value] :
       {std::pair{"--api-address", c.apiAddress}, std::pair{"--xds-address", c.xdsAddress},
        std::pair{"--kds-address", c.kdsAddress}}) {
    if (!validAddress(value)) {
      errors.push_back(std::string(flag) + ": '" + value + "' is not HOST:PORT");
    }
  }
  return result;
}

std::string redactCredentials(const std::string& storeSpec) {
  auto scheme = storeSpec.find("://");
  if (scheme == std::string::npos) return storeSpec;
  auto at = storeSpec.find('@', scheme + 3);
  auto slash = storeSpec.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return storeSpec;
  auto colon = storeSpec.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return storeSpec;
  return storeSpec.substr(0, colon + 1) + "***" + storeSpec.substr(at);
}

std::string cpUsage() {
  std::string out =
      "Usage: braid-cp run [--config FILE] [FLAGS]\n\n"
      "Every flag can also be set with an environment variable BRAID_<FLAG> or a key in the\n"
      "YAML config file. Precedence: flag > environment > file > default.\n\nFlags:\n";
  CpConfig defaults;
  for (const auto& s : settings()) {
    std::string def = currentValue(defaults, s);
    out += "  --" + s.flag + std::string(s.flag.size() < 16 ? 16 - s.flag.size() : 1, ' ') +
           s.help + (def.empty() ? "" : " (default " + def + ")") + "\n";
  }
  return out;
}

}  // namespace braid::runtime
