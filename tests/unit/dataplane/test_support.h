#pragma once

// Real sockets on 127.0.0.1 for the data-path tests: backends, clients, snapshots.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/config/snapshot.h"

namespace braid::dataplane::test_support {

using namespace std::chrono_literals;

inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

inline uint16_t boundPort(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

// A port nothing listens on right now (listeners take fixed ports from the snapshot).
inline uint16_t freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = loopback(0);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  uint16_t port = boundPort(fd);
  close(fd);
  return port;
}

// A plain listening socket (no SO_REUSEPORT), e.g. to occupy a port.
inline int listenOn(uint16_t port, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address = loopback(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, backlog) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Blocking client socket with 5 s receive/send timeouts, so a broken proxy fails a test instead
// of hanging it. -1 when the connect fails (errno set).
inline int connectTo(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address = loopback(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    int error = errno;
    close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

inline bool sendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes, or fewer on EOF / error / timeout.
inline std::string readExactly(int fd, size_t size) {
  std::string out(size, '\0');
  size_t got = 0;
  while (got < size) {
    ssize_t n = recv(fd, out.data() + got, size - got, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

// Reads until EOF; `eof` tells whether EOF (rather than an error or timeout) ended it.
inline std::string readToEof(int fd, bool* eof = nullptr) {
  std::string out;
  char buffer[65536];
  while (true) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      if (eof != nullptr) *eof = (n == 0);
      return out;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
}

inline bool waitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

inline std::string pattern(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return out;
}

// A backend on 127.0.0.1:<ephemeral>, one thread per connection.
//  kEcho: sends `tag` (if any), echoes what it reads; at EOF writes "bye" and closes.
//  kSink: accepts and reads nothing until startReading(), then reads and counts everything.
//  kCloseFirst: sends `tag`, shuts its side down at once, then reads and counts until EOF.
class Backend {
 public:
  enum class Mode { kEcho, kSink, kCloseFirst };

  explicit Backend(Mode mode = Mode::kEcho, std::string tag = "")
      : mode_(mode), tag_(std::move(tag)) {
    fd_ = listenOn(0, 128);
    port_ = boundPort(fd_);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~Backend() {
    stopping_ = true;
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : connections_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& thread : threads_) thread.join();
    for (int fd : connections_) close(fd);
    close(fd_);
  }
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  int active() const { return active_.load(); }
  uint64_t bytesRead() const { return bytesRead_.load(); }
  void startReading() { reading_ = true; }

 private:
  void acceptLoop() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int fd = accept(fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++accepted_;
      ++active_;
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      threads_.emplace_back([this, fd] {
        serve(fd);
        --active_;
      });
    }
  }

  void serve(int fd) {
    char buffer[65536];
    if (mode_ == Mode::kSink) {
      while (!reading_ && !stopping_) std::this_thread::sleep_for(5ms);
      while (true) {
        ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        bytesRead_ += static_cast<uint64_t>(n);
      }
      shutdown(fd, SHUT_WR);
      return;
    }
    if (!tag_.empty() && !sendAll(fd, tag_)) return;
    if (mode_ == Mode::kCloseFirst) {
      shutdown(fd, SHUT_WR);
      while (true) {
        ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) return;
        bytesRead_ += static_cast<uint64_t>(n);
      }
    }
    while (true) {
      ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n < 0) return;
      if (n == 0) break;
      bytesRead_ += static_cast<uint64_t>(n);
      if (!sendAll(fd, std::string(buffer, static_cast<size_t>(n)))) return;
    }
    sendAll(fd, "bye");
    shutdown(fd, SHUT_WR);
  }

  Mode mode_;
  std::string tag_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reading_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> active_{0};
  std::atomic<uint64_t> bytesRead_{0};
  std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// A listening socket whose accept queue is full: connects to it hang (the kernel drops the SYNs),
// so they time out.
class Blackhole {
 public:
  Blackhole() {
    fd_ = listenOn(0, 0);
    port_ = boundPort(fd_);
    // Fill the queue until a connect no longer completes.
    for (int i = 0; i < 8; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      sockaddr_in address = loopback(port_);
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
      fillers_.push_back(fd);
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 100) == 0) {
        hanging_ = true;
        break;
      }
    }
  }
  ~Blackhole() {
    for (int fd : fillers_) close(fd);
    close(fd_);
  }
  Blackhole(const Blackhole&) = delete;
  Blackhole& operator=(const Blackhole&) = delete;

  uint16_t port() const { return port_; }
  bool works() const { return hanging_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  bool hanging_ = false;
  std::vector<int> fillers_;
};

inline ListenerConfig makeListener(const std::string& name, uint16_t port,
                                   const std::string& cluster) {
  ListenerConfig listener;
  listener.name = name;
  listener.address = {"127.0.0.1", port};
  listener.cluster = cluster;
  listener.statPrefix = cluster;
  return listener;
}

inline ClusterConfig makeCluster(const std::string& name, const std::vector<uint16_t>& ports,
                                 LbPolicy policy = LbPolicy::kRoundRobin,
                                 const std::vector<uint32_t>& weights = {}) {
  ClusterConfig cluster;
  cluster.name = name;
  cluster.service = name;
  cluster.lbPolicy = policy;
  cluster.connectTimeout = std::chrono::milliseconds(1000);
  for (size_t i = 0; i < ports.size(); ++i) {
    EndpointConfig endpoint;
    endpoint.address = {"127.0.0.1", ports[i]};
    endpoint.weight = i < weights.size() ? weights[i] : 1;
    endpoint.origin = "default/" + name + "-" + std::to_string(i);
    cluster.endpoints.push_back(endpoint);
  }
  return cluster;
}

inline SnapshotPtr makeSnapshot(const std::string& version,
                                const std::vector<ListenerConfig>& listeners,
                                const std::vector<ClusterConfig>& clusters) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = version;
  snapshot->listeners = listeners;
  for (const auto& cluster : clusters) snapshot->clusters[cluster.name] = cluster;
  return snapshot;
}

}  // namespace braid::dataplane::test_support
