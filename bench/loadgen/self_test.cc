#include "self_test.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "open_loop.h"

namespace braid::bench {
namespace {

using std::chrono::milliseconds;

// A thread-per-connection keep-alive HTTP server. Request number `stallAt` (counted over all
// connections from 1) makes every connection wait `stall` before answering, like a process
// pause; every `failEvery`-th request is answered 503.
class TestServer {
 public:
  TestServer(uint64_t stallAt, milliseconds stall, uint64_t failEvery)
      : stallAt_(stallAt), stall_(stall), failEvery_(failEvery) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("test server: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~TestServer() {
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& thread : threads_) thread.join();
    for (int fd : connections_) ::close(fd);
    ::close(listener_);
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  void acceptLoop() {
    while (true) {
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string pending;
    char buffer[4096];
    while (true) {
      size_t end;
      while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return;
        pending.append(buffer, static_cast<size_t>(n));
      }
      pending.erase(0, end + 4);
      uint64_t number = ++requests_;
      auto now = std::chrono::steady_clock::now();
      if (number == stallAt_) stallUntil_ = (now + stall_).time_since_epoch().count();
      auto until = std::chrono::steady_clock::time_point(
          std::chrono::steady_clock::duration(stallUntil_.load()));
      if (until > now) std::this_thread::sleep_until(until);
      bool fail = failEvery_ != 0 && number % failEvery_ == 0;
      std::string response = fail ? "HTTP/1.1 503 Busy\r\nContent-Length: 5\r\n\r\nbusy\n"
                                  : "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
      if (::send(fd, response.data(), response.size(), MSG_NOSIGNAL) < 0) return;
    }
  }

  const uint64_t stallAt_;
  const milliseconds stall_;
  const uint64_t failEvery_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<uint64_t> requests_{0};
  std::atomic<std::chrono::steady_clock::rep> stallUntil_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
};

int passes = 0;
int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
  ++(ok ? passes : failures);
}

OpenLoopResult runAgainst(const TestServer& server, double rate) {
  OpenLoopOptions options;
  options.url = *parseUrl("http://127.0.0.1:" + std::to_string(server.port()) + "/");
  options.rate = rate;
  options.duration = std::chrono::seconds(1);
  options.warmup = std::chrono::nanoseconds(0);
  options.connections = 4;
  return runOpenLoop(options);
}

}  // namespace

int runSelfTest() {
  passes = failures = 0;
  {
    TestServer server(0, milliseconds(0), 0);
    auto r = runAgainst(server, 2000);
    check(r.scheduled == 2000 && r.completed == 2000,
          "2,000 req/s for 1 s: 2,000 answered (got " + std::to_string(r.completed) + ")");
    check(r.errors() == 0 && r.unfinished == 0, "... with no error");
    check(r.latencyNs.size() == 2000, "... each one measured");
    check(r.achievedRate() > 1900 && r.achievedRate() < 2100,
          "... at 2,000 req/s (got " + std::to_string(r.achievedRate()) + ")");
  }
  {
    TestServer server(0, milliseconds(0), 10);
    auto r = runAgainst(server, 2000);
    check(
        r.statusErrors == 200 && r.completed == 1800,
        "every 10th answered 503: 200 status errors (got " + std::to_string(r.statusErrors) + ")");
  }
  {
    // 100 ms stall at 2,000 req/s: the ~200 requests intended during it all wait, about half
    // of them 50 ms or more. A generator that timed from the actual send would see only the
    // 4 in flight.
    TestServer server(500, milliseconds(100), 0);
    auto r = runAgainst(server, 2000);
    size_t slow = 0;
    for (int64_t ns : r.latencyNs) slow += ns >= 50'000'000;
    check(slow >= 80 && slow <= 120, "a 100 ms stall delays ~100 requests by 50 ms or more (got " +
                                         std::to_string(slow) + ")");
    check(percentile(r.latencyNs, 99) >= 50'000'000, "... and shows in the p99");
    check(r.largestBacklog >= 150,
          "... as a backlog of ~200 requests (got " + std::to_string(r.largestBacklog) + ")");
    check(r.completed == 2000 && r.errors() == 0, "... all answered in the end");
  }
  {
    std::vector<int64_t> samples{5, 1, 4, 2, 3};
    std::sort(samples.begin(), samples.end());
    check(percentile(samples, 50) == 3 && percentile(samples, 99) == 5 &&
              percentile(samples, 20) == 1 && percentile(samples, 21) == 2,
          "nearest-rank percentiles");
  }
  std::printf("%d passed, %d failed\n", passes, failures);
  return failures;
}

}  // namespace braid::bench
