// How long the worker's pooled upstream connections live (MeshTimeout idleTimeout and
// http.maxConnectionDuration, and a configuration that drops their endpoint), seen from real
// upstream servers on 127.0.0.1: an HTTP/1.1 one and an h2c one that record, per connection,
// when they answered, when a GOAWAY came and when the proxy closed it. One worker, so every
// request shares its pools.

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dataplane/http2/h2_server_session.h"
#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"
#include "http_test_server.h"
#include "test_support.h"

namespace braid::dataplane {
namespace {

using namespace test_support;  // NOLINT: the test helpers
using Clock = std::chrono::steady_clock;
using http_test::Client;
using http_test::get;

const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

int64_t millis(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// What an upstream server saw of one connection from the proxy.
struct Seen {
  Clock::time_point accepted;
  Clock::time_point answered;  // its last response sent
  std::optional<Clock::time_point> goAway;
  std::optional<Clock::time_point> closed;  // EOF from the proxy
};

// Accepts on 127.0.0.1:<ephemeral>, one thread per connection running `serve`.
class RecordingServer {
 public:
  RecordingServer() {
    fd_ = listenOn(0, 64);
    port_ = boundPort(fd_);
  }
  virtual ~RecordingServer() = default;
  uint16_t port() const { return port_; }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  size_t accepted() const { return seen().size(); }

 protected:
  void start() {
    acceptor_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = ::accept(fd_, nullptr, nullptr);
        if (fd < 0) continue;
        size_t index = 0;
        {
          std::lock_guard lock(mutex_);
          index = seen_.size();
          seen_.push_back(Seen{Clock::now(), {}, {}, {}});
        }
        threads_.emplace_back([this, fd, index] {
          serve(fd, index);
          ::close(fd);
        });
      }
    });
  }
  // Subclasses' destructors call this first: no thread may run serve() once they are gone.
  void stop() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    ::close(fd_);
  }
  virtual void serve(int fd, size_t index) = 0;
  void record(size_t index, const std::function<void(Seen&)>& change) {
    std::lock_guard lock(mutex_);
    change(seen_[index]);
  }
  // Waits up to 20 ms for bytes: "" none yet, nullopt EOF or error.
  static std::optional<std::string> readSome(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) return std::string();
    char buffer[65536];
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(n));
  }

  std::atomic<bool> stop_{false};

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
  std::thread acceptor_;
  std::vector<std::thread> threads_;
};

// HTTP/1.1, keep-alive: every request (no body) gets 200 "ok".
class H1Server final : public RecordingServer {
 public:
  H1Server() { start(); }
  ~H1Server() override { stop(); }

 private:
  void serve(int fd, size_t index) override {
    std::string input;
    while (!stop_) {
      auto bytes = readSome(fd);
      if (!bytes) {
        record(index, [](Seen& seen) { seen.closed = Clock::now(); });
        return;
      }
      input += *bytes;
      for (size_t end; (end = input.find("\r\n\r\n")) != std::string::npos;) {
        input.erase(0, end + 4);
        if (!sendAll(fd, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")) return;
        record(index, [](Seen& seen) { seen.answered = Clock::now(); });
      }
    }
  }
};

// h2c: every stream gets 200 "ok" once its request ended; /slow 800 ms later.
class H2Server final : public RecordingServer {
 public:
  H2Server() { start(); }
  ~H2Server() override { stop(); }

 private:
  struct Connection : http2::H2ServerSession::Handler {
    http2::H2ServerSession session{*this};
    std::map<int32_t, std::pair<std::string, std::optional<Clock::time_point>>> streams;

    void onRequestHeaders(int32_t id, braid::http::Headers&& headers, bool endStream) override {
      for (const auto& [name, value] : headers) {
        if (name == ":path") streams[id].first = value;
      }
      if (endStream) due(id);
    }
    void onRequestData(int32_t id, std::string_view data, bool endStream) override {
      session.consumed(id, data.size());
      if (endStream) due(id);
    }
    void onRequestTrailers(int32_t id, braid::http::Headers&&) override { due(id); }
    void onStreamReset(int32_t id, uint32_t) override { streams.erase(id); }
    void onStreamClosed(int32_t id, uint32_t) override { streams.erase(id); }
    void due(int32_t id) {
      auto& [path, at] = streams[id];
      at = Clock::now() + (path == "/slow" ? 800ms : 0ms);
    }
    // True when it answered something.
    bool answerDue() {
      bool answered = false;
      for (auto& [id, stream] : streams) {
        auto& [path, at] = stream;
        if (!at || *at > Clock::now()) continue;
        at.reset();
        session.submitResponse(id, 200, {}, false);
        session.sendData(id, "ok", true);
        answered = true;
      }
      return answered;
    }
  };

  void serve(int fd, size_t index) override {
    Connection connection;
    bool goAwaySeen = false;
    while (!stop_) {
      const bool answered = connection.answerDue();
      std::string out;
      connection.session.pendingOutput(out);
      if (!out.empty() && !sendAll(fd, out)) return;
      if (answered) record(index, [](Seen& seen) { seen.answered = Clock::now(); });
      auto bytes = readSome(fd);
      if (!bytes) {
        record(index, [](Seen& seen) { seen.closed = Clock::now(); });
        return;
      }
      if (!bytes->empty() && !connection.session.receive(*bytes)) return;
      if (!goAwaySeen && connection.session.clientWentAway()) {
        goAwaySeen = true;
        record(index, [](Seen& seen) { seen.goAway = Clock::now(); });
      }
    }
  }
};

Route catchAll() {
  Route route;
  route.name = "default";
  route.match.path = RouteMatch::Path::kPrefix;
  route.match.pathValue = "/";
  route.action.clusters = {{"web", 1}};
  route.action.totalWeight = 1;
  return route;
}

class UpstreamPoolLifetimeTest : public ::testing::Test {
 protected:
  // An outbound listener of protocol `protocol` (http: HTTP/1.1 upstreams; http2: HTTP/2
  // upstreams through the bridge) routing everything to `web`.
  void apply(const std::string& protocol, const ClusterConfig& web) {
    if (port_ == 0) port_ = freePort();
    ListenerConfig listener = makeListener("outbound:web", port_, "web");
    listener.protocol = protocol;
    listener.http = HttpConnectionManagerConfig{};
    listener.http->statPrefix = "web";
    listener.http->routes.routes = {catchAll()};
    ASSERT_EQ(pool_.apply(makeSnapshot(std::to_string(++version_), {listener}, {web})), "");
  }
  // One GET on a new connection to the proxy: its status.
  int request(const std::string& path = "/") {
    Client client(port_);
    if (!client.connected() || !client.send(get(path))) return 0;
    return client.read().status;
  }

  Stats stats_;
  WorkerPool pool_{1, stats_};
  uint16_t port_ = 0;
  int version_ = 0;
};

// Envoy's cluster idle_timeout: the idle pooled connection is closed by the proxy, not merely
// skipped by the next request.
TEST_F(UpstreamPoolLifetimeTest, IdleHttp1ConnectionIsClosedAfterIdleTimeout) {
  H1Server server;
  ClusterConfig web = makeCluster("web", {server.port()});
  web.idleTimeout = 200ms;
  apply("http", web);
  ASSERT_EQ(request(), 200);
  ASSERT_TRUE(waitFor([&] { return server.seen().at(0).closed.has_value(); }, 2000ms));
  const Seen seen = server.seen().at(0);
  EXPECT_GE(millis(*seen.closed - seen.answered), 150);
  EXPECT_LE(millis(*seen.closed - seen.answered), 1000);
}

TEST_F(UpstreamPoolLifetimeTest, IdleHttp1ConnectionIsClosedAtMaxConnectionDuration) {
  H1Server server;
  ClusterConfig web = makeCluster("web", {server.port()});
  web.maxConnectionDuration = 400ms;  // the idle timeout stays at its hour
  apply("http", web);
  ASSERT_EQ(request(), 200);
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(request(), 200);
  EXPECT_EQ(server.accepted(), 1u);  // reused
  ASSERT_TRUE(waitFor([&] { return server.seen().at(0).closed.has_value(); }, 2000ms));
  const Seen seen = server.seen().at(0);
  EXPECT_GE(millis(*seen.closed - seen.accepted), 350);
  EXPECT_LE(millis(*seen.closed - seen.accepted), 1200);
}

TEST_F(UpstreamPoolLifetimeTest, IdleHttp2ConnectionGetsGoAwayThenCloseAfterIdleTimeout) {
  H2Server server;
  ClusterConfig web = makeCluster("web", {server.port()});
  web.idleTimeout = 200ms;
  apply("http2", web);
  ASSERT_EQ(request(), 200);
  ASSERT_EQ(request(), 200);
  EXPECT_EQ(server.accepted(), 1u);  // both streams on one connection
  ASSERT_TRUE(waitFor([&] { return server.seen().at(0).closed.has_value(); }, 2000ms));
  const Seen seen = server.seen().at(0);
  ASSERT_TRUE(seen.goAway.has_value());
  EXPECT_LE(*seen.goAway, *seen.closed);
  EXPECT_GE(millis(*seen.closed - seen.answered), 150);
  EXPECT_LE(millis(*seen.closed - seen.answered), 1000);
}

// Past maxConnectionDuration an HTTP/2 connection takes no new stream (GOAWAY; a new connection
// carries the next request) and closes once its last stream is answered.
TEST_F(UpstreamPoolLifetimeTest, Http2ConnectionDrainsAtMaxConnectionDuration) {
  H2Server server;
  ClusterConfig web = makeCluster("web", {server.port()});
  web.maxConnectionDuration = 300ms;
  apply("http2", web);
  Client slow(port_);
  ASSERT_TRUE(slow.send(get("/slow")));  // answered 800 ms after it arrives
  ASSERT_TRUE(waitFor([&] { return server.seen().size() == 1 && server.seen()[0].goAway; }));
  Seen first = server.seen()[0];
  EXPECT_GE(millis(*first.goAway - first.accepted), 250);
  EXPECT_FALSE(first.closed.has_value());  // its stream is still open
  ASSERT_EQ(request(), 200);
  EXPECT_EQ(server.accepted(), 2u);  // the new stream went to a new connection
  EXPECT_EQ(slow.read().status, 200);
  ASSERT_TRUE(waitFor([&] { return server.seen()[0].closed.has_value(); }, 2000ms));
  first = server.seen()[0];
  EXPECT_GE(*first.closed, first.answered);
  EXPECT_LE(millis(*first.closed - first.answered), 500);
}

// Envoy drains the connection pools of hosts removed from a cluster: an idle connection to an
// endpoint the new configuration lacks closes at once.
TEST_F(UpstreamPoolLifetimeTest, ConfigWithoutTheEndpointClosesItsIdleHttp1Connection) {
  H1Server gone, kept;
  apply("http", makeCluster("web", {gone.port()}));
  ASSERT_EQ(request(), 200);
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(gone.seen().at(0).closed.has_value());
  const auto applied = Clock::now();
  apply("http", makeCluster("web", {kept.port()}));
  ASSERT_TRUE(waitFor([&] { return gone.seen().at(0).closed.has_value(); }, 2000ms));
  EXPECT_LE(millis(*gone.seen().at(0).closed - applied), 500);
  EXPECT_EQ(request(), 200);
  EXPECT_EQ(kept.accepted(), 1u);
}

// A busy HTTP/2 connection to a removed endpoint gets a GOAWAY at once, finishes its stream,
// then closes.
TEST_F(UpstreamPoolLifetimeTest, ConfigWithoutTheEndpointDrainsItsBusyHttp2Connection) {
  H2Server gone, kept;
  apply("http2", makeCluster("web", {gone.port()}));
  Client slow(port_);
  ASSERT_TRUE(slow.send(get("/slow")));
  ASSERT_TRUE(waitFor([&] { return gone.accepted() == 1; }));
  std::this_thread::sleep_for(100ms);  // the stream is open at the server
  const auto applied = Clock::now();
  apply("http2", makeCluster("web", {kept.port()}));
  ASSERT_TRUE(waitFor([&] { return gone.seen().at(0).goAway.has_value(); }, 2000ms));
  EXPECT_LE(millis(*gone.seen().at(0).goAway - applied), 300);
  EXPECT_FALSE(gone.seen().at(0).closed.has_value());
  EXPECT_EQ(slow.read().status, 200);  // the stream finished on the draining connection
  ASSERT_TRUE(waitFor([&] { return gone.seen().at(0).closed.has_value(); }, 2000ms));
  EXPECT_EQ(request(), 200);
  EXPECT_EQ(kept.accepted(), 1u);
}

// A MeshTimeout changed while an HTTP/2 connection is open applies to it: an idle connection
// opened under the hour-long default closes at the new, shorter idle timeout.
TEST_F(UpstreamPoolLifetimeTest, NewIdleTimeoutAppliesToAnOpenHttp2Connection) {
  H2Server server;
  ClusterConfig web = makeCluster("web", {server.port()});
  apply("http2", web);  // idleTimeout: the 1 h default
  ASSERT_EQ(request(), 200);
  std::this_thread::sleep_for(50ms);
  web.idleTimeout = 200ms;
  const auto applied = Clock::now();
  apply("http2", web);
  ASSERT_TRUE(waitFor([&] { return server.seen().at(0).closed.has_value(); }, 2000ms));
  const Seen seen = server.seen().at(0);
  EXPECT_TRUE(seen.goAway.has_value());
  EXPECT_LE(millis(*seen.closed - applied), 1000);
  EXPECT_EQ(server.accepted(), 1u);
}

}  // namespace
}  // namespace braid::dataplane
