// The HTTP/2 connection manager end to end: real sockets on 127.0.0.1 through a WorkerPool whose
// snapshot has a grpc listener with a route table; an h2c client (H2ClientSession over a blocking
// socket) in front and small h2c backends (H2ServerSession, one thread per connection) behind.
// Also gRPC's local-reply mapping.

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "dataplane/filters/http/header_rules.h"
#include "dataplane/filters/http2/h2_local_reply.h"
#include "dataplane/http2/h2_client_session.h"
#include "dataplane/http2/h2_server_session.h"
#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"
#include "http_test_server.h"
#include "test_support.h"

namespace braid::dataplane {
namespace {

using namespace test_support;  // NOLINT: the test helpers
using braid::http::Headers;
using hcm::headerValue;

const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

// Reads what is there (up to 64 KiB), waiting at most `ms`: "" on timeout, nullopt on EOF/error.
std::optional<std::string> readSome(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return std::string();
  char buf[65536];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  if (n <= 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

// ---- an h2c backend: each request is answered by its :path ----
//   /slow         after 1 s
//   /status/503   503, no body
//   /refuse-once  the first such stream is refused (RST_STREAM REFUSED_STREAM), later ones answered
//   /big          2 MiB of body in 16 KiB pieces (/huge: 16 MiB)
//   /goaway       answered, then the connection is closed gracefully (GOAWAY)
//   /fail-once... the first request whose path starts so gets 503 as soon as its head arrives
//                 (before its body); later ones are answered by the rest of these rules
//   .../early     answered as soon as its head arrives, before the request ends
//   .../stream    the response head at once; the body when the request ends
//   /short-length a head saying content-length 100, then 10 bytes, then nothing
//   anything else 200, body "NAME:PATH body=N" (N request-body bytes); gRPC requests get
//                 grpc-status 0 in trailers
class H2Backend {
 public:
  explicit H2Backend(std::string name, http2::H2Options options = {})
      : name_(std::move(name)), options_(options) {
    port_ = freePort();
    listenFd_ = listenOn(port_, 64);
    thread_ = std::thread([this] { acceptLoop(); });
  }
  ~H2Backend() {
    stop_ = true;
    ::shutdown(listenFd_, SHUT_RDWR);
    ::close(listenFd_);
    thread_.join();
    for (auto& t : connections_) t.join();
  }
  uint16_t port() const { return port_; }
  int connectionsAccepted() const { return accepted_.load(); }
  int connectionsClosed() const { return closed_.load(); }
  int requests() const { return requests_.load(); }
  Headers lastRequest() {
    std::lock_guard lock(mutex_);
    return last_;
  }

 private:
  struct Connection : http2::H2ServerSession::Handler {
    H2Backend& backend;
    http2::H2ServerSession session;
    struct Stream {
      Headers headers;
      size_t bodyBytes = 0;
      std::chrono::steady_clock::time_point due{};
      bool ready = false;
      bool headSent = false;
    };
    std::map<int32_t, Stream> streams;
    explicit Connection(H2Backend& b) : backend(b), session(*this, b.options_) {}

    void onRequestHeaders(int32_t id, Headers&& headers, bool endStream) override {
      backend.requests_++;
      {
        std::lock_guard lock(backend.mutex_);
        backend.last_ = headers;
      }
      const std::string path(headerValue(headers, ":path"));
      if (path == "/refuse-once" && !backend.refused_.exchange(true)) {
        session.resetStream(id, http2::h2_error::kRefusedStream);
        return;
      }
      if (path.starts_with("/fail-once") && !backend.failed_.exchange(true)) {
        session.submitResponse(id, 503, {}, true);
        return;
      }
      Stream& s = streams[id];
      s.headers = std::move(headers);
      if (path.ends_with("/early")) {
        schedule(id);
      } else if (path.ends_with("/stream")) {
        session.submitResponse(id, 200, responseHead(s.headers), false);
        s.headSent = true;
      }
      if (endStream) schedule(id);
    }
    Headers responseHead(const Headers& request) const {
      Headers head{{"x-backend", backend.name_}};
      if (dataplane::h2::isGrpcRequest(request))
        head.emplace_back("content-type", "application/grpc");
      return head;
    }
    void onRequestData(int32_t id, std::string_view data, bool endStream) override {
      session.consumed(id, data.size());
      auto it = streams.find(id);
      if (it == streams.end()) return;
      it->second.bodyBytes += data.size();
      if (endStream) schedule(id);
    }
    void onRequestTrailers(int32_t id, Headers&&) override { schedule(id); }
    void onStreamReset(int32_t id, uint32_t) override { streams.erase(id); }
    void onStreamClosed(int32_t id, uint32_t) override { streams.erase(id); }
    void schedule(int32_t id) {
      Stream& s = streams[id];
      s.ready = true;
      s.due = std::chrono::steady_clock::now() +
              (headerValue(s.headers, ":path") == "/slow" ? 1000ms : 0ms);
    }
    void answerDue() {
      auto now = std::chrono::steady_clock::now();
      for (auto& [id, s] : streams) {
        if (!s.ready || s.due > now) continue;
        s.ready = false;
        std::string path(headerValue(s.headers, ":path"));
        const bool grpc = dataplane::h2::isGrpcRequest(s.headers);
        if (path == "/status/503") {
          session.submitResponse(id, 503, {}, true);
          continue;
        }
        if (path == "/short-length") {
          Headers head = responseHead(s.headers);
          head.emplace_back("content-length", "100");
          session.submitResponse(id, 200, head, false);
          session.sendData(id, std::string(10, 'p'), false);
          continue;
        }
        if (headerValue(s.headers, ":method") == "HEAD") {
          session.submitResponse(id, 200, responseHead(s.headers), true);  // no body, ever
          continue;
        }
        if (!s.headSent) session.submitResponse(id, 200, responseHead(s.headers), false);
        if (path == "/big" || path == "/huge") {
          const int pieces = path == "/big" ? 128 : 1024;
          std::string piece(16384, 'b');
          for (int i = 0; i < pieces; ++i) session.sendData(id, piece, i == pieces - 1);
          continue;
        }
        if (path == "/goaway") session.goAway(http2::h2_error::kNoError);
        std::string body = backend.name_ + ":" + path + " body=" + std::to_string(s.bodyBytes);
        if (grpc) {
          session.sendData(id, body, false);
          session.submitTrailers(id, {{"grpc-status", "0"}});
        } else {
          session.sendData(id, body, true);
        }
      }
    }
  };

  void acceptLoop() {
    while (!stop_) {
      int fd = ::accept(listenFd_, nullptr, nullptr);
      if (fd < 0) return;
      accepted_++;
      connections_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    Connection c(*this);
    while (!stop_) {
      std::string out;
      c.answerDue();
      c.session.pendingOutput(out);
      if (!out.empty() && !sendAll(fd, out)) break;
      auto in = readSome(fd, 10);
      if (!in) break;
      if (!in->empty() && !c.session.receive(*in)) break;
    }
    ::close(fd);
    closed_++;
  }

  std::string name_;
  http2::H2Options options_;
  uint16_t port_ = 0;
  int listenFd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> refused_{false};
  std::atomic<bool> failed_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> closed_{0};  // by the proxy (or at shutdown)
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  Headers last_;
  std::thread thread_;
  std::vector<std::thread> connections_;
};

// ---- an h2c client with prior knowledge over a blocking socket ----
struct H2Result {
  int status = 0;
  Headers headers;
  std::string body;
  Headers trailers;
  bool closed = false;
  uint32_t error = 0;
};

class H2Client : http2::H2ClientSession::Handler {
 public:
  explicit H2Client(uint16_t port) : fd_(connectTo(port)) {}
  ~H2Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return fd_ >= 0; }

  int32_t start(const std::string& path, Headers extra = {}, const std::string& body = "") {
    Headers h{{":method", body.empty() ? "GET" : "POST"},
              {":scheme", "http"},
              {":authority", "backend"},
              {":path", path}};
    h.insert(h.end(), extra.begin(), extra.end());
    int32_t id = session_.submitRequest(h, body.empty());
    if (id > 0 && !body.empty()) session_.sendData(id, body, true);
    results_[id];
    return id;
  }
  // A POST whose body the test sends piece by piece (send()).
  int32_t open(const std::string& path, Headers extra = {}) {
    Headers h{{":method", "POST"}, {":scheme", "http"}, {":authority", "backend"}, {":path", path}};
    h.insert(h.end(), extra.begin(), extra.end());
    int32_t id = session_.submitRequest(h, false);
    results_[id];
    return id;
  }
  bool send(int32_t id, const std::string& data, bool endStream) {
    return session_.sendData(id, data, endStream);
  }
  // Runs the connection until every started stream closed (or `limit` passed).
  bool run(std::chrono::milliseconds limit = 5000ms) {
    return runUntil(
        [&] {
          bool all = true;
          for (auto& [id, r] : results_) all = all && r.closed;
          return all;
        },
        limit);
  }
  // Runs the connection until `done()` (true) or `limit` passed (false).
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string out;
      session_.pendingOutput(out);
      if (!out.empty() && !sendAll(fd_, out)) return false;
      if (done()) return true;
      auto in = readSome(fd_, 10);
      if (!in) return false;
      if (!in->empty() && !session_.receive(*in)) return false;
    }
    return false;
  }
  H2Result& result(int32_t id) { return results_[id]; }
  // Stops (false) or resumes reading response bodies: a caller that does not keep up.
  void setConsuming(bool consume) {
    consume_ = consume;
    if (!consume) return;
    for (auto& [id, n] : held_) session_.consumed(id, n);
    held_.clear();
  }

 private:
  void onResponseHeaders(int32_t id, Headers&& headers, bool) override {
    results_[id].status = std::atoi(std::string(headerValue(headers, ":status")).c_str());
    results_[id].headers = std::move(headers);
  }
  void onResponseData(int32_t id, std::string_view data, bool) override {
    results_[id].body.append(data);
    if (consume_) {
      session_.consumed(id, data.size());
    } else {
      held_[id] += data.size();
    }
  }
  void onResponseTrailers(int32_t id, Headers&& trailers) override {
    results_[id].trailers = std::move(trailers);
  }
  void onStreamReset(int32_t, uint32_t) override {}
  void onStreamClosed(int32_t id, uint32_t error) override {
    results_[id].closed = true;
    results_[id].error = error;
  }
  void onGoAway(int32_t, uint32_t) override {}

  int fd_;
  http2::H2ClientSession session_{*this};
  std::map<int32_t, H2Result> results_;
  bool consume_ = true;
  std::map<int32_t, size_t> held_;
};

Route catchAll(std::vector<WeightedCluster> clusters) {
  Route route;
  route.name = "default";
  route.match.path = RouteMatch::Path::kPrefix;
  route.match.pathValue = "/";
  route.action.clusters = std::move(clusters);
  for (const auto& cluster : route.action.clusters) route.action.totalWeight += cluster.weight;
  return route;
}

class H2ProxyTest : public ::testing::Test {
 protected:
  void apply(std::vector<Route> routes, std::vector<ClusterConfig> clusters,
             const std::string& protocol = "grpc") {
    if (port_ == 0) port_ = freePort();
    ListenerConfig listener = makeListener("outbound:echo", port_, "echo");
    listener.protocol = protocol;
    listener.http = HttpConnectionManagerConfig{};
    listener.http->statPrefix = "echo";
    listener.http->routes.routes = std::move(routes);
    ASSERT_EQ(pool_.apply(makeSnapshot(std::to_string(++version_), {listener}, clusters)), "");
  }

  Stats stats_;
  WorkerPool pool_{2, stats_};
  uint16_t port_ = 0;
  int version_ = 0;
};

const Headers kGrpc{{"content-type", "application/grpc"}, {"te", "trailers"}};

TEST_F(H2ProxyTest, StreamsAreRoutedAndMultiplexedOnOneUpstreamConnection) {
  H2Backend v1("v1");
  H2Backend v2("v2");
  Route canary = catchAll({{"v2", 1}});
  canary.match.headers.push_back({"x-version", HeaderMatcher::Kind::kExact, "v2", {}});
  canary.requestHeaders.set.push_back({"x-routed", "canary"});
  apply({canary, catchAll({{"v1", 1}})},
        {makeCluster("echo", {v1.port()}), makeCluster("v1", {v1.port()}),
         makeCluster("v2", {v2.port()})});
  H2Client client(port_);
  ASSERT_TRUE(client.connected());
  std::vector<int32_t> plain;
  std::vector<int32_t> tagged;
  for (int i = 0; i < 20; ++i) {
    plain.push_back(client.start("/a/../call", kGrpc, "hello"));
    Headers h = kGrpc;
    h.emplace_back("x-version", "v2");
    tagged.push_back(client.start("/call", h));
  }
  ASSERT_TRUE(client.run());
  for (int32_t id : plain) {
    H2Result& r = client.result(id);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "v1:/call body=5");  // the path normalised, the body passed
    EXPECT_EQ(headerValue(r.trailers, "grpc-status"), "0");
  }
  for (int32_t id : tagged) EXPECT_EQ(client.result(id).body, "v2:/call body=0");
  // 20 concurrent streams per version, each version's on one HTTP/2 connection.
  EXPECT_EQ(v1.connectionsAccepted(), 1);
  EXPECT_EQ(v2.connectionsAccepted(), 1);
  Headers seen = v2.lastRequest();
  EXPECT_EQ(headerValue(seen, "x-routed"), "canary");
  EXPECT_EQ(headerValue(seen, "te"), "trailers");
  EXPECT_FALSE(headerValue(seen, "x-request-id").empty());
  EXPECT_TRUE(waitFor([&] { return stats_.cluster("v1")->upstreamRq2xx.load() == 20; }));
  EXPECT_EQ(stats_.listener("outbound:echo")->downstreamRq2xx.load(), 40u);
}

TEST_F(H2ProxyTest, LocalRepliesToGrpcAreTrailersOnlyWithTheMappedStatus) {
  Route only = catchAll({{"echo", 1}});
  only.match.pathValue = "/known";
  apply({only}, {makeCluster("echo", {freePort()})});  // nothing listens there
  H2Client client(port_);
  int32_t noRoute = client.start("/unknown", kGrpc);
  int32_t noRouteHttp = client.start("/unknown");
  int32_t unreachable = client.start("/known", kGrpc);
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(noRoute).status, 200);
  EXPECT_EQ(headerValue(client.result(noRoute).headers, "grpc-status"), "12");  // UNIMPLEMENTED
  EXPECT_EQ(client.result(noRoute).body, "");
  EXPECT_EQ(client.result(noRouteHttp).status, 404);
  EXPECT_EQ(client.result(noRouteHttp).body, "no route");
  EXPECT_EQ(headerValue(client.result(unreachable).headers, "grpc-status"), "14");  // UNAVAILABLE
}

TEST_F(H2ProxyTest, RouteTimeoutIsDeadlineExceededForGrpcAnd504Otherwise) {
  H2Backend slow("slow");
  Route route = catchAll({{"echo", 1}});
  route.action.timeout = 300ms;
  apply({route}, {makeCluster("echo", {slow.port()})});
  H2Client client(port_);
  auto start = std::chrono::steady_clock::now();
  int32_t grpc = client.start("/slow", kGrpc);
  int32_t http = client.start("/slow");
  ASSERT_TRUE(client.run());
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  EXPECT_EQ(headerValue(client.result(grpc).headers, "grpc-status"), "4");
  EXPECT_EQ(client.result(http).status, 504);
  EXPECT_NEAR(static_cast<double>(elapsed), 300.0, 60.0);
  EXPECT_TRUE(waitFor([&] { return stats_.cluster("echo")->upstreamRqTimeout.load() == 2; }));
}

TEST_F(H2ProxyTest, RefusedStreamsAreSentAgainAndRetriesFollowTheirPolicy) {
  H2Backend backend("b");
  Route route = catchAll({{"echo", 1}});
  route.action.retry.enabled = true;
  route.action.retry.numRetries = 2;
  route.action.retry.retryOn = RetryPolicy::k5xx;
  apply({route}, {makeCluster("echo", {backend.port()})});
  H2Client client(port_);
  int32_t refused = client.start("/refuse-once", kGrpc, "payload");
  int32_t failing = client.start("/status/503");
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(refused).body, "b:/refuse-once body=7");  // sent again, body and all
  EXPECT_EQ(client.result(failing).status, 503);  // out of retries: the last answer's status
  EXPECT_EQ(stats_.cluster("echo")->upstreamRqRetry.load(), 2u);  // the 503's, not the refusal
  EXPECT_EQ(backend.requests(), 2 + 3);
}

TEST_F(H2ProxyTest, LargeResponsesStreamThroughTheWindows) {
  H2Backend backend("b");
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})});
  H2Client client(port_);
  std::vector<int32_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(client.start("/big"));
  int32_t upload = client.start("/up", {}, pattern(1 << 20));
  ASSERT_TRUE(client.run(10000ms));
  for (int32_t id : ids) EXPECT_EQ(client.result(id).body.size(), 2u << 20);
  EXPECT_EQ(client.result(upload).body, "b:/up body=1048576");
}

// A caller that stops reading holds the response back through the windows: the proxy buffers a
// bounded amount, not the 16 MiB the backend has ready.
TEST_F(H2ProxyTest, ASlowCallerHoldsTheResponseBackWithBoundedBuffering) {
  H2Backend backend("b");
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})});
  H2Client client(port_);
  client.setConsuming(false);
  int32_t id = client.start("/huge");
  std::atomic<bool> sampling{true};
  std::atomic<size_t> peak{0};
  std::thread sampler([&] {
    while (sampling) {
      peak = std::max(peak.load(), pool_.bufferedBytes());
      std::this_thread::sleep_for(5ms);
    }
  });
  client.run(500ms);  // the caller's window fills and stays closed
  const size_t received = client.result(id).body.size();
  client.setConsuming(true);
  EXPECT_TRUE(client.run(10000ms));
  sampling = false;
  sampler.join();
  EXPECT_LT(received, 1u << 20);
  EXPECT_EQ(client.result(id).body.size(), 16u << 20);
  EXPECT_LT(peak.load(), 2u << 20);
  std::printf("held back at %zu bytes; proxy buffered at most %zu bytes\n", received, peak.load());
}

// The backend ends its connection with GOAWAY: later streams go on a new connection.
TEST_F(H2ProxyTest, AGoAwayEndsTheConnectionAndTheNextStreamTakesANewOne) {
  H2Backend backend("b");
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})});
  H2Client client(port_);
  int32_t last = client.start("/goaway");
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(last).body, "b:/goaway body=0");
  std::this_thread::sleep_for(50ms);
  int32_t next = client.start("/after");
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(next).body, "b:/after body=0");
  EXPECT_EQ(backend.connectionsAccepted(), 2);
}

// A server allowing 2 concurrent streams: the pool opens more connections rather than queueing.
TEST_F(H2ProxyTest, MoreConnectionsOpenAtTheServersStreamLimit) {
  http2::H2Options two;
  two.maxConcurrentStreams = 2;
  H2Backend backend("b", two);
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})});
  H2Client client(port_);
  int32_t first = client.start("/warm");  // the connection is up and has the server's SETTINGS
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(first).status, 200);
  std::vector<int32_t> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(client.start("/slow"));
  ASSERT_TRUE(client.run());
  for (int32_t id : ids) EXPECT_EQ(client.result(id).body, "b:/slow body=0");
  EXPECT_EQ(backend.connectionsAccepted(), 4);
}

// gRPC channels live long: a route change applies to the next stream on an open connection.
TEST_F(H2ProxyTest, NewRoutesApplyToNewStreamsOnAnOpenConnection) {
  H2Backend v1("v1");
  H2Backend v2("v2");
  std::vector<ClusterConfig> clusters{makeCluster("echo", {v1.port()}),
                                      makeCluster("v1", {v1.port()}),
                                      makeCluster("v2", {v2.port()})};
  apply({catchAll({{"v1", 1}})}, clusters);
  H2Client client(port_);
  int32_t before = client.start("/call", kGrpc);
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(before).body, "v1:/call body=0");
  apply({catchAll({{"v2", 1}})}, clusters);
  std::this_thread::sleep_for(50ms);  // the workers take the snapshot on their loops
  int32_t after = client.start("/call", kGrpc);
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(after).body, "v2:/call body=0");
}

// An `http` outbound: the app behind the peer speaks HTTP/1.1, so an h2c caller's streams go as
// HTTP/1.1 requests on the worker's keep-alive pool, framed and answered back as HTTP/2.
TEST_F(H2ProxyTest, HttpOutboundsCarryTheStreamsAsHttp11) {
  http_test::Upstream backend("h1", [](const http_test::Request& r, int) {
    http_test::Reply reply;
    reply.body = r.head.method + " " + r.head.target + " host=" + r.header("host") +
                 " te=" + r.header("transfer-encoding") + " body=" + std::to_string(r.bodyBytes);
    reply.chunked = r.head.target == "/chunked";  // two chunks and a trailer
    reply.status = r.head.target == "/missing" ? 404 : 200;
    return reply;
  });
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})}, "http");
  H2Client client(port_);
  for (int i = 0; i < 5; ++i) {  // one after the other: one pooled connection carries them
    int32_t id = client.start("/a/./b?x=1");
    ASSERT_TRUE(client.run());
    EXPECT_EQ(client.result(id).status, 200);
    EXPECT_EQ(client.result(id).body, "GET /a/b?x=1 host=backend te= body=0");
    EXPECT_EQ(headerValue(client.result(id).headers, "x-upstream"), "h1");
  }
  EXPECT_EQ(backend.accepted(), 1);
  int32_t upload = client.start("/up", {}, pattern(100000));
  int32_t chunked = client.start("/chunked");
  int32_t missing = client.start("/missing");
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(upload).body, "POST /up host=backend te=chunked body=100000");
  EXPECT_EQ(client.result(chunked).body, "GET /chunked host=backend te= body=0");
  EXPECT_EQ(headerValue(client.result(chunked).trailers, "x-checksum"), "42");
  EXPECT_EQ(client.result(missing).status, 404);
}

// A retry whose body copy overflowed while it waited (review finding 1): the later try must not
// go with only the bytes that arrived since, which the server would take for the whole body.
TEST_F(H2ProxyTest, ARetryNeverSendsATruncatedBody) {
  H2Backend backend("b");
  Route route = catchAll({{"echo", 1}});
  route.action.retry.enabled = true;
  route.action.retry.numRetries = 1;
  route.action.retry.retryOn = RetryPolicy::k5xx;
  route.action.retry.backoffBase = 1000ms;  // the rest of the body arrives during the back-off
  route.action.retry.backoffMax = 1000ms;
  apply({route}, {makeCluster("echo", {backend.port()})}, "http2");
  H2Client client(port_);
  int32_t id = client.open("/fail-once");
  client.send(id, pattern(1000), false);
  // The first try took the 1000 bytes and got its 503: the retry waits out its back-off.
  ASSERT_TRUE(waitFor([&] {
    client.runUntil([] { return false; }, 10ms);
    return stats_.cluster("echo")->upstreamRqRetry.load() == 1;
  }));
  client.send(id, pattern(100000), true);  // past the 64 KiB copy kept for a retry
  ASSERT_TRUE(client.run());
  const H2Result& r = client.result(id);
  if (r.status != 503) {
    EXPECT_EQ(r.body, "b:/fail-once body=101000");
  }
  EXPECT_TRUE(r.status == 503 || r.status == 200) << r.status;
}

// A response that ended before its request (review finding 2): the request leaves the cluster's
// gauges at once, and the app's stream is ended (RST_STREAM NO_ERROR after the response).
TEST_F(H2ProxyTest, AResponseEndingBeforeTheRequestEndsTheStreamAndFreesItsGauges) {
  H2Backend backend("b");
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})}, "http2");
  H2Client client(port_);
  int32_t id = client.open("/early");  // never ended by the app
  ASSERT_TRUE(client.run(3000ms));
  const H2Result& r = client.result(id);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "b:/early body=0");
  EXPECT_EQ(r.error, http2::h2_error::kNoError);
  EXPECT_TRUE(waitFor([&] { return stats_.cluster("echo")->upstreamRqActive.load() == 0; }));
}

// A long gRPC stream that retried at its start (review finding 3): the retry leaves the cluster's
// retry budget once the retried try has its response head, not when the stream ends.
TEST_F(H2ProxyTest, ARetryLeavesTheRetryBudgetOnceItsTryIsAnswered) {
  H2Backend backend("b");
  Route route = catchAll({{"echo", 1}});
  route.action.retry.enabled = true;
  route.action.retry.numRetries = 1;
  route.action.retry.retryOn = RetryPolicy::k5xx;
  route.action.retry.backoffBase = 5ms;
  route.action.retry.backoffMax = 5ms;
  apply({route}, {makeCluster("echo", {backend.port()})});
  H2Client client(port_);
  int32_t id = client.open("/fail-once/stream", kGrpc);
  ASSERT_TRUE(client.runUntil([&] { return client.result(id).status == 200; }));
  ClusterCounters& c = *stats_.cluster("echo");
  EXPECT_EQ(c.upstreamRqRetry.load(), 1u);
  EXPECT_EQ(c.upstreamRqActive.load(), 1u);  // the stream goes on
  EXPECT_TRUE(waitFor([&] { return c.upstreamRqRetryActive.load() == 0; }));
  client.send(id, "hello", true);
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(id).body, "b:/fail-once/stream body=5");
  EXPECT_EQ(headerValue(client.result(id).trailers, "grpc-status"), "0");
  EXPECT_TRUE(waitFor([&] { return c.upstreamRqActive.load() == 0; }));
  EXPECT_EQ(c.upstreamRqRetryActive.load(), 0u);
}

// A server allowing no stream at all (review finding 4): a bounded number of connections, then
// an answer, instead of a new connection after every SETTINGS frame.
TEST_F(H2ProxyTest, AServerAllowingNoStreamsIsNotAConnectionStorm) {
  http2::H2Options none;
  none.maxConcurrentStreams = 0;
  H2Backend backend("b", none);
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})}, "http2");
  H2Client client(port_);
  int32_t id = client.start("/x");
  ASSERT_TRUE(client.run(1500ms));
  EXPECT_EQ(client.result(id).status, 503);
  EXPECT_LE(backend.connectionsAccepted(), 6);
  EXPECT_EQ(backend.requests(), 0);
  // Useless to anyone, they are not kept open.
  EXPECT_TRUE(waitFor([&] { return backend.connectionsClosed() == backend.connectionsAccepted(); },
                      1000ms));
}

// HTTP/2 may split `cookie` into several fields (RFC 9113 §8.2.3): HTTP/1.1 gets one, joined.
TEST_F(H2ProxyTest, SplitCookiesReachAnHttp11AppAsOneField) {
  http_test::Upstream backend("h1", [](const http_test::Request& r, int) {
    http_test::Reply reply;
    for (const auto& [name, value] : r.head.headers) {
      if (name == "cookie") reply.body += "[" + value + "]";
    }
    return reply;
  });
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})}, "http");
  H2Client client(port_);
  int32_t id = client.start("/c", {{"cookie", "a=1"}, {"x-other", "y"}, {"cookie", "b=2"}});
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(id).status, 200);
  EXPECT_EQ(client.result(id).body, "[a=1; b=2]");
}

TEST(H2LocalReply, FollowsGrpcsHttpStatusTable) {
  using h2::grpcStatusForHttp;
  EXPECT_EQ(grpcStatusForHttp(400), 13);
  EXPECT_EQ(grpcStatusForHttp(401), 16);
  EXPECT_EQ(grpcStatusForHttp(403), 7);
  EXPECT_EQ(grpcStatusForHttp(404), 12);
  for (int status : {429, 502, 503, 504}) EXPECT_EQ(grpcStatusForHttp(status), 14);
  EXPECT_EQ(grpcStatusForHttp(500), 2);
  auto reply = h2::makeLocalReply(true, 504, "timed out 100%", true);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(headerValue(reply.headers, "grpc-status"), "4");
  EXPECT_EQ(headerValue(reply.headers, "grpc-message"), "timed out 100%25");
  EXPECT_TRUE(reply.body.empty());
  auto plain = h2::makeLocalReply(false, 503, "no healthy upstream", false);
  EXPECT_EQ(plain.status, 503);
  EXPECT_EQ(plain.body, "no healthy upstream");
}

// RequestMirror on HTTP/2: each call is copied to the mirror cluster (its :authority suffixed
// "-shadow", the body included) while the caller's answers come from the route's cluster alone;
// a body over 64 KiB is not mirrored.
TEST_F(H2ProxyTest, RequestMirrorCopiesCallsToTheShadowCluster) {
  H2Backend main("main");
  H2Backend shadow("shadow");
  Route route = catchAll({{"echo", 1}});
  route.action.mirrors.push_back({"shadow", 1000000});
  apply({route}, {makeCluster("echo", {main.port()}), makeCluster("shadow", {shadow.port()})});
  H2Client client(port_);
  ASSERT_TRUE(client.connected());
  std::vector<int32_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(client.start("/call", kGrpc, "hello"));
  ASSERT_TRUE(client.run());
  for (int32_t id : ids) EXPECT_EQ(client.result(id).body, "main:/call body=5");
  ASSERT_TRUE(waitFor([&] { return shadow.requests() == 5; }));
  Headers copy = shadow.lastRequest();
  EXPECT_EQ(headerValue(copy, ":authority"), "backend-shadow");
  EXPECT_EQ(headerValue(main.lastRequest(), ":authority"), "backend");
  EXPECT_EQ(headerValue(copy, ":path"), "/call");
  EXPECT_EQ(main.requests(), 5);
  // Too large to copy: sent to main only.
  int32_t big = client.start("/big-call", kGrpc, std::string(70000, 'x'));
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(big).body, "main:/big-call body=70000");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(shadow.requests(), 5);
}

// An h2c caller of an `http` outbound: the mirror speaks HTTP/1.1, so the copy is an HTTP/1.1
// request (Host suffixed "-shadow", the body with its Content-Length).
TEST_F(H2ProxyTest, RequestMirrorOfAnHttpOutboundSendsHttp11Copies) {
  http_test::Upstream main("main"), shadow("shadow");
  Route route = catchAll({{"echo", 1}});
  route.action.mirrors.push_back({"shadow", 1000000});
  apply({route}, {makeCluster("echo", {main.port()}), makeCluster("shadow", {shadow.port()})},
        "http");
  H2Client client(port_);
  int32_t id = client.start("/post", {}, "hello");
  ASSERT_TRUE(client.run());
  EXPECT_EQ(client.result(id).status, 200);
  ASSERT_TRUE(waitFor([&] { return shadow.seen().size() == 1; }));
  auto copy = shadow.seen().front();
  EXPECT_EQ(copy.head.method, "POST");
  EXPECT_EQ(copy.head.target, "/post");
  EXPECT_EQ(copy.header("host"), "backend-shadow");
  EXPECT_EQ(copy.body, "hello");
  EXPECT_EQ(main.seen().size(), 1u);
}

// ---- HTTP/1.1 callers of an http2/grpc outbound (filters/http/h2_bridge.h) ----

// Everything the proxy sends until it closes the connection (or `ms` pass).
std::string readUntilClose(int fd, int ms, bool& closed) {
  std::string all;
  closed = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto piece = readSome(fd, 50);
    if (!piece) {
      closed = true;
      break;
    }
    all += *piece;
  }
  return all;
}

TEST_F(H2ProxyTest, Http11CallersGoAsStreamsAndGetChunkedHttp11Back) {
  H2Backend backend("h2");
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})});
  http_test::Client client(port_);
  ASSERT_TRUE(client.connected());
  // Two requests on one kept-alive connection, one with a body: each is one stream upstream.
  ASSERT_TRUE(client.send(http_test::get("/a")));
  auto first = client.read();
  ASSERT_TRUE(first.ok);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "h2:/a body=0");
  EXPECT_EQ(first.header("transfer-encoding"), "chunked");  // no length from the backend
  EXPECT_EQ(first.header("x-backend"), "h2");
  ASSERT_TRUE(client.send("POST /b HTTP/1.1\r\nHost: svc\r\nContent-Length: 5000\r\n\r\n" +
                          std::string(5000, 'x')));
  auto second = client.read();
  ASSERT_TRUE(second.ok);
  EXPECT_EQ(second.body, "h2:/b body=5000");
  EXPECT_EQ(headerValue(backend.lastRequest(), ":authority"), "svc");
  EXPECT_EQ(headerValue(backend.lastRequest(), ":method"), "POST");
  // A HEAD gets its head only, and the connection goes on.
  ASSERT_TRUE(client.send("HEAD /c HTTP/1.1\r\nHost: svc\r\n\r\n"));
  auto head = client.read("HEAD");
  ASSERT_TRUE(head.ok);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  ASSERT_TRUE(client.send(http_test::get("/d")));
  auto last = client.read();
  EXPECT_EQ(last.body, "h2:/d body=0") << last.ok << " " << last.status;
  EXPECT_EQ(backend.connectionsAccepted(), 1);
}

TEST_F(H2ProxyTest, AnHttp10CallerGetsACloseDelimitedBody) {
  H2Backend backend("h2");
  apply({catchAll({{"echo", 1}})}, {makeCluster("echo", {backend.port()})});
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "GET /old HTTP/1.0\r\nHost: svc\r\n\r\n"));
  bool closed = false;
  std::string all = readUntilClose(fd, 3000, closed);
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(all.find("transfer-encoding"), std::string::npos) << all;
  EXPECT_NE(all.find("connection: close"), std::string::npos) << all;
  EXPECT_TRUE(all.ends_with("h2:/old body=0")) << all;
}

// A response whose body ends short of its Content-Length (here: the route timeout cuts it and
// ends the gRPC call with trailers) must not leave the caller's connection open: the caller
// would read the next response as the rest of this one.
TEST_F(H2ProxyTest, AContentLengthResponseCutShortClosesTheCallersConnection) {
  H2Backend backend("h2");
  Route route = catchAll({{"echo", 1}});
  route.action.timeout = 300ms;
  apply({route}, {makeCluster("echo", {backend.port()})});
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(
      sendAll(fd,
              "POST /short-length HTTP/1.1\r\nHost: svc\r\nContent-Type: application/grpc\r\n"
              "TE: trailers\r\nContent-Length: 5\r\n\r\nhello"));
  bool closed = false;
  std::string all = readUntilClose(fd, 3000, closed);
  ::close(fd);
  EXPECT_NE(all.find("content-length: 100"), std::string::npos) << all;
  EXPECT_TRUE(closed) << "the connection stayed open after a short body: " << all;
}

}  // namespace
}  // namespace braid::dataplane
