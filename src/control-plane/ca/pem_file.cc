#include "control-plane/ca/pem_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace braid::ca {
namespace {

constexpr size_t kMaxFileSize = 1 << 20;

std::string errnoText(const std::string& what, const std::string& path) {
  return "cannot " + what + " " + path + ": " + std::strerror(errno);
}

bool writeAll(int fd, const std::string& content) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int readSmallFile(const std::string& path, std::string& content) {
  content.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[8192];
  int result = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = errno;
      break;
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > kMaxFileSize) {
      result = EFBIG;
      break;
    }
  }
  ::close(fd);
  if (result != 0) content.clear();
  return result;
}

std::string writeFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = dir + "/." + base + ".tmp." + std::to_string(::getpid());
  // A temp file left by a crashed run would make O_EXCL fail forever.
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return errnoText("create", tmp);
  std::string error;
  // The umask may have taken bits away (a certificate is meant to be 0644); it never adds any.
  if (::fchmod(fd, mode) != 0) {
    error = errnoText("set the mode of", tmp);
  } else if (!writeAll(fd, content)) {
    error = errnoText("write", tmp);
  } else if (::fsync(fd) != 0) {
    error = errnoText("sync", tmp);
  }
  ::close(fd);
  if (error.empty() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    error = errnoText("rename " + tmp + " to", path);
  }
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    return error;
  }
  // Makes the rename itself durable, so a crash cannot bring back the previous file.
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
  return "";
}

}  // namespace braid::ca
