#include "open_loop.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace braid::bench {
namespace {

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// After a refused or failed connect, the next attempt waits this long.
constexpr int64_t kReconnectDelayNs = 50'000'000;

struct Connection {
  enum class State { kClosed, kConnecting, kIdle, kBusy };
  int fd = -1;
  State state = State::kClosed;
  int64_t retryAt = 0;
  int64_t intended = 0;  // of the request in flight
  int64_t sentAt = 0;
  bool measured = false;
  size_t unsent = 0;  // bytes of the request not yet written (the socket was full)
  ResponseReader reader;
};

class Runner {
 public:
  explicit Runner(const OpenLoopOptions& options)
      : options_(options),
        request_(getRequest(options.url)),
        address_(socketAddress(options.url)),
        connections_(static_cast<size_t>(std::max(1, options.connections))),
        buffer_(64 * 1024) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + strerror(errno));
    // Wake-ups on time: the default 50 µs timer slack would show up in every latency.
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  }
  ~Runner() {
    for (auto& connection : connections_) {
      if (connection.fd >= 0) ::close(connection.fd);
    }
    ::close(epoll_);
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  OpenLoopResult run() {
    connectAll();
    const int64_t start = nowNs();
    const auto total = static_cast<uint64_t>(
        std::floor(options_.rate * std::chrono::duration<double>(options_.duration).count()));
    const double spacingNs = 1e9 / options_.rate;
    auto intendedAt = [&](uint64_t k) {
      return start + static_cast<int64_t>(std::llround(static_cast<double>(k) * spacingNs));
    };
    const int64_t warmupEnd = start + options_.warmup.count();
    const int64_t giveUpAt = start + options_.duration.count() + options_.timeout.count();
    result_.scheduled = total;
    result_.latencyNs.reserve(total);
    result_.sendLagNs.reserve(total);
    uint64_t next = 0;
    int64_t lastCompletion = start;
    epoll_event events[64];
    while (true) {
      int64_t now = nowNs();
      for (size_t i = 0; i < connections_.size(); ++i) {
        Connection& c = connections_[i];
        if (c.state == Connection::State::kClosed && c.retryAt <= now) open(i);
        if (c.state == Connection::State::kBusy && now - c.sentAt > options_.timeout.count()) {
          ++result_.timeouts;
          reset(i, 0);
        }
      }
      while (next < total && intendedAt(next) <= now) {
        if (idle_.empty()) {
          auto due = static_cast<uint64_t>(static_cast<double>(now - start) / spacingNs) + 1;
          result_.largestBacklog = std::max(result_.largestBacklog, std::min(due, total) - next);
          break;
        }
        size_t i = idle_.back();
        idle_.pop_back();
        int64_t intended = intendedAt(next++);
        send(i, intended, intended >= warmupEnd, now);
      }
      if (next == total && busy_ == 0) break;
      if (now >= giveUpAt) break;

      int64_t wake = giveUpAt;
      if (next < total && !idle_.empty()) wake = std::min(wake, intendedAt(next));
      for (const auto& c : connections_) {
        if (c.state == Connection::State::kBusy) {
          wake = std::min(wake, c.sentAt + options_.timeout.count());
        }
        if (c.state == Connection::State::kClosed) wake = std::min(wake, c.retryAt);
      }
      int64_t waitNs = std::max<int64_t>(0, wake - now);
      timespec timeout{waitNs / 1'000'000'000, waitNs % 1'000'000'000};
      int n = epoll_pwait2(epoll_, events, 64, &timeout, nullptr);
      if (n < 0 && errno != EINTR) {
        throw std::runtime_error(std::string("epoll_pwait2: ") + strerror(errno));
      }
      now = nowNs();
      for (int e = 0; e < n; ++e) {
        if (onEvent(events[e].data.u32, events[e].events, now)) lastCompletion = now;
      }
    }
    result_.unfinished = (total - next) + busy_;
    result_.seconds = static_cast<double>(lastCompletion - start) / 1e9;
    std::sort(result_.latencyNs.begin(), result_.latencyNs.end());
    std::sort(result_.sendLagNs.begin(), result_.sendLagNs.end());
    return std::move(result_);
  }

 private:
  void connectAll() {
    for (size_t i = 0; i < connections_.size(); ++i) open(i);
    const int64_t deadline = nowNs() + options_.timeout.count();
    epoll_event events[64];
    while (idle_.size() < connections_.size()) {
      int64_t now = nowNs();
      if (now >= deadline) {
        throw std::runtime_error("could not open " + std::to_string(connections_.size()) +
                                 " connections to " + options_.url.host + ":" +
                                 std::to_string(options_.url.port));
      }
      for (size_t i = 0; i < connections_.size(); ++i) {
        if (connections_[i].state == Connection::State::kClosed && connections_[i].retryAt <= now) {
          open(i);
        }
      }
      int n = epoll_wait(epoll_, events, 64, 10);
      for (int e = 0; e < n; ++e) onEvent(events[e].data.u32, events[e].events, nowNs());
    }
    // Connection errors while setting up are not part of the measurement.
    result_.connectErrors = 0;
  }

  void watch(size_t i, int op, uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epoll_, op, connections_[i].fd, &event);
  }

  // Starts a non-blocking connect; the connection becomes idle when it completes.
  void open(size_t i) {
    Connection& c = connections_[i];
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      ++result_.connectErrors;
      c.retryAt = nowNs() + kReconnectDelayNs;
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.reader.reset();
    int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_);
    if (rc != 0 && errno != EINPROGRESS) {
      ++result_.connectErrors;
      ::close(c.fd);
      c.fd = -1;
      c.retryAt = nowNs() + kReconnectDelayNs;
      return;
    }
    c.state = Connection::State::kConnecting;
    watch(i, EPOLL_CTL_ADD, EPOLLOUT);
  }

  // Closes the connection (dropping the request in flight, already counted by the caller) and
  // opens it again after `delayNs`.
  void reset(size_t i, int64_t delayNs) {
    Connection& c = connections_[i];
    if (c.state == Connection::State::kBusy) --busy_;
    if (c.state == Connection::State::kIdle) {
      if (auto it = std::find(idle_.begin(), idle_.end(), i); it != idle_.end()) idle_.erase(it);
    }
    if (c.fd >= 0) ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    c.state = Connection::State::kClosed;
    c.retryAt = nowNs() + delayNs;
    if (delayNs == 0) open(i);
  }

  void send(size_t i, int64_t intended, bool measured, int64_t now) {
    Connection& c = connections_[i];
    c.state = Connection::State::kBusy;
    ++busy_;
    c.intended = intended;
    c.sentAt = now;
    c.measured = measured;
    if (measured) result_.sendLagNs.push_back(now - intended);
    c.unsent = request_.size();
    write(i);
  }

  // Writes what is left of the request; arms EPOLLOUT while some remains.
  void write(size_t i) {
    Connection& c = connections_[i];
    ssize_t n = ::send(c.fd, request_.data() + (request_.size() - c.unsent), c.unsent,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      ++result_.ioErrors;
      reset(i, 0);
      return;
    }
    bool wasPending = c.unsent < request_.size();
    if (n > 0) c.unsent -= static_cast<size_t>(n);
    if (c.unsent > 0 && !wasPending) watch(i, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
    if (c.unsent == 0 && wasPending) watch(i, EPOLL_CTL_MOD, EPOLLIN);
  }

  // Returns true when a response completed.
  bool onEvent(uint32_t index, uint32_t events, int64_t now) {
    size_t i = index;
    Connection& c = connections_[i];
    if (c.state == Connection::State::kConnecting) {
      int error = 0;
      socklen_t length = sizeof error;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) {
        ++result_.connectErrors;
        reset(i, kReconnectDelayNs);
        return false;
      }
      c.state = Connection::State::kIdle;
      idle_.push_back(i);
      watch(i, EPOLL_CTL_MOD, EPOLLIN);
      return false;
    }
    if ((events & EPOLLOUT) != 0 && c.state == Connection::State::kBusy && c.unsent > 0) {
      write(i);
      if (c.state != Connection::State::kBusy) return false;
    }
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) == 0) return false;
    return onReadable(i, now);
  }

  bool onReadable(size_t i, int64_t now) {
    Connection& c = connections_[i];
    ssize_t n = ::recv(c.fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
    if (c.state != Connection::State::kBusy) {
      // An idle keep-alive connection the server closed; anything else it sent is a fault.
      if (n != 0) ++result_.protocolErrors;
      reset(i, 0);
      return false;
    }
    if (n <= 0) {
      ++result_.ioErrors;
      reset(i, 0);
      return false;
    }
    size_t used = 0;
    auto step = c.reader.feed(std::string_view(buffer_.data(), static_cast<size_t>(n)), used);
    if (step == ResponseReader::Step::kNeedMore) return false;
    if (step == ResponseReader::Step::kError || used != static_cast<size_t>(n) || c.unsent > 0) {
      ++result_.protocolErrors;  // unreadable, or bytes beyond the response we asked for
      reset(i, 0);
      return false;
    }
    const ResponseHead& head = c.reader.head();
    if (head.status >= 400) {
      ++result_.statusErrors;
    } else {
      ++result_.completed;
      if (c.measured) result_.latencyNs.push_back(now - c.intended);
    }
    if (head.close) {
      reset(i, 0);  // the server ends the connection: open the next one now
    } else {
      --busy_;
      c.state = Connection::State::kIdle;
      idle_.push_back(i);
    }
    return true;
  }

  const OpenLoopOptions& options_;
  const std::string request_;
  const sockaddr_in address_;
  std::vector<Connection> connections_;
  std::vector<size_t> idle_;
  uint64_t busy_ = 0;
  std::vector<char> buffer_;
  int epoll_ = -1;
  OpenLoopResult result_;
};

}  // namespace

int64_t percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

OpenLoopResult runOpenLoop(const OpenLoopOptions& options) {
  Runner runner(options);
  return runner.run();
}

}  // namespace braid::bench
