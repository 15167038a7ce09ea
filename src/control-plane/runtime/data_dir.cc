#include "control-plane/runtime/data_dir.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json.h"

namespace braid::runtime {
namespace fs = std::filesystem;

namespace {
std::string writeFileMode(const std::string& path, const std::string& content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return "cannot write " + path + ": " + std::strerror(errno);
  ssize_t written = ::write(fd, content.data(), content.size());
  ::fchmod(fd, mode);
  ::close(fd);
  if (written != static_cast<ssize_t>(content.size())) return "short write to " + path;
  return "";
}
}  // namespace

std::string ensureDataDir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    // An existing directory keeps its mode (it may be shared, like /tmp); the secrets in it are
    // written 0600 anyway.
    if (!fs::is_directory(dir, ec)) return "data dir " + dir + " is not a directory";
    return "";
  }
  fs::create_directories(dir, ec);
  if (ec) return "cannot create data dir " + dir + ": " + ec.message();
  if (::chmod(dir.c_str(), 0700) != 0) {
    return "cannot set permissions of " + dir + ": " + std::strerror(errno);
  }
  return "";
}

void removePortsFile(const std::string& dir) {
  std::error_code ec;
  fs::remove(dir + "/ports.json", ec);
}

bool loadOrCreateAdminToken(const std::string& dir, std::string& token, std::string& error) {
  std::string path = dir + "/admin-token";
  if (fs::exists(path)) {
    std::ifstream in(path);
    std::getline(in, token);
    if (token.size() < 32) {
      error = path + " holds no usable token (delete it to have a new one made)";
      return false;
    }
    return true;
  }
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    error = "cannot generate random bytes for the admin token";
    return false;
  }
  static const char* kHex = "0123456789abcdef";
  token.clear();
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  error = writeFileMode(path, token + "\n", 0600);
  return error.empty();
}

std::string writePortsFile(const std::string& dir, const std::map<std::string, int>& ports) {
  Json j = Json::object();
  for (const auto& [name, port] : ports) j[name] = port;
  std::string tmp = dir + "/.ports.json.tmp";
  if (auto err = writeFileMode(tmp, j.dump() + "\n", 0644); !err.empty()) return err;
  std::error_code ec;
  fs::rename(tmp, dir + "/ports.json", ec);
  return ec ? "cannot write ports.json: " + ec.message() : "";
}

}  // namespace braid::runtime
