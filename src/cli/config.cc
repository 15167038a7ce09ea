#include "cli/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_error.h"
#include "cli/json_access.h"
#include "common/json.h"
#include "common/yaml_json.h"

namespace braid::cli {
namespace {

// Reads the string at `key` of `object`; "" when absent. Errors name the full path.
std::string optionalString(const Json& object, const char* key, const std::string& path,
                           const std::string& source) {
  const Json* value = field(object, key);
  if (!value || value->is_null()) return "";
  if (!value->is_string()) {
    throw CliError(source + ": " + (path.empty() ? "" : path + ".") + key + ": must be a string");
  }
  return value->get<std::string>();
}

const Json& requireKind(const Json& object, const char* key, bool array, const std::string& path,
                        const std::string& source) {
  static const Json kNull;
  const Json* value = field(object, key);
  if (!value || value->is_null()) return kNull;
  if (array ? !value->is_array() : !value->is_object()) {
    throw CliError(source + ": " + path + key + ": must be " + (array ? "a list" : "a map"));
  }
  return *value;
}

std::string errnoText() { return std::strerror(errno); }

}  // namespace

const ControlPlaneEntry* CliConfig::findControlPlane(const std::string& name) const {
  for (const auto& cp : controlPlanes) {
    if (cp.name == name) return &cp;
  }
  return nullptr;
}

const ControlPlaneEntry* CliConfig::current() const {
  for (const auto& ctx : contexts) {
    if (ctx.name == currentContext) return findControlPlane(ctx.controlPlane);
  }
  return nullptr;
}

std::string defaultConfigPath() {
  const char* home = std::getenv("HOME");
  if (!home || !*home) throw CliError("HOME is not set: cannot locate ~/.braidctl/config");
  return std::string(home) + "/.braidctl/config";
}

std::string serializeConfig(const CliConfig& config) {
  Json doc = Json::object();
  doc["controlPlanes"] = Json::array();
  for (const auto& cp : config.controlPlanes) {
    Json server = Json::object();
    server["url"] = cp.url;
    if (!cp.authToken.empty()) server["authToken"] = cp.authToken;
    Json entry = Json::object();
    entry["name"] = cp.name;
    entry["coordinates"]["apiServer"] = std::move(server);
    doc["controlPlanes"].push_back(std::move(entry));
  }
  doc["contexts"] = Json::array();
  for (const auto& ctx : config.contexts) {
    Json entry = Json::object();
    entry["name"] = ctx.name;
    entry["controlPlane"] = ctx.controlPlane;
    doc["contexts"].push_back(std::move(entry));
  }
  doc["currentContext"] = config.currentContext;
  return toYaml(doc);
}

CliConfig parseConfig(const std::string& text, const std::string& source) {
  auto parsed = parseYaml(text);
  if (!parsed.error.empty()) throw CliError(source + ": " + parsed.error);
  CliConfig config;
  if (parsed.documents.empty()) return config;
  if (parsed.documents.size() > 1) throw CliError(source + ": must hold a single YAML document");
  const Json& doc = parsed.documents[0];
  if (!doc.is_object()) throw CliError(source + ": must be a map");

  const Json& planes = requireKind(doc, "controlPlanes", true, "", source);
  for (size_t i = 0; planes.is_array() && i < planes.size(); ++i) {
    std::string path = "controlPlanes[" + std::to_string(i) + "]";
    const Json& item = planes[i];
    if (!item.is_object()) throw CliError(source + ": " + path + ": must be a map");
    ControlPlaneEntry cp;
    cp.name = optionalString(item, "name", path, source);
    const Json& coordinates = requireKind(item, "coordinates", false, path + ".", source);
    if (coordinates.is_object()) {
      std::string cpath = path + ".coordinates";
      const Json& server = requireKind(coordinates, "apiServer", false, cpath + ".", source);
      if (server.is_object()) {
        cp.url = optionalString(server, "url", cpath + ".apiServer", source);
        cp.authToken = optionalString(server, "authToken", cpath + ".apiServer", source);
      }
    }
    if (cp.name.empty()) throw CliError(source + ": " + path + ".name: is required");
    if (cp.url.empty()) {
      throw CliError(source + ": " + path + ".coordinates.apiServer.url: is required");
    }
    config.controlPlanes.push_back(std::move(cp));
  }

  const Json& contexts = requireKind(doc, "contexts", true, "", source);
  for (size_t i = 0; contexts.is_array() && i < contexts.size(); ++i) {
    std::string path = "contexts[" + std::to_string(i) + "]";
    if (!contexts[i].is_object()) throw CliError(source + ": " + path + ": must be a map");
    ContextEntry ctx;
    ctx.name = optionalString(contexts[i], "name", path, source);
    ctx.controlPlane = optionalString(contexts[i], "controlPlane", path, source);
    config.contexts.push_back(std::move(ctx));
  }
  config.currentContext = optionalString(doc, "currentContext", "", source);
  return config;
}

CliConfig loadConfig(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return CliConfig{};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError("cannot read " + path + ": " + errnoText());
  std::stringstream text;
  text << in.rdbuf();
  return parseConfig(text.str(), path);
}

void saveConfig(const std::string& path, const CliConfig& config) {
  namespace fs = std::filesystem;
  fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw CliError("cannot create " + target.parent_path().string() + ": " + ec.message());
  }
  std::string text = serializeConfig(config);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw CliError("cannot write " + tmp + ": " + errnoText());
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string err = errnoText();
      ::close(fd);
      ::unlink(tmp.c_str());
      throw CliError("cannot write " + tmp + ": " + err);
    }
    written += static_cast<size_t>(n);
  }
  // A fresh file created 0600 (umask can only narrow it), renamed over the old one: the token
  // is never readable by others, not even while it is being written.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string err = errnoText();
    ::unlink(tmp.c_str());
    throw CliError("cannot write " + tmp + ": " + err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = errnoText();
    ::unlink(tmp.c_str());
    throw CliError("cannot write " + path + ": " + err);
  }
}

}  // namespace braid::cli
