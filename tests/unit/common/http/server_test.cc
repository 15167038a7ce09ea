#include "common/http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/golden.h"
#include "unit/common/http/raw_client.h"

namespace braid::http {
namespace {

using testing::RawClient;
using testing::RawResponse;
using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void startServer(ServerOptions options = {}) {
    if (!options.handler) {
      options.handler = [this](const Request& request) { return record(request); };
    }
    server_ = std::make_unique<Server>(std::move(options));
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
    ASSERT_NE(server_->port(), 0);
  }

  Response record(const Request& request) {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
    if (request.path == "/boom") throw std::runtime_error("boom");
    if (request.path == "/boom-int") throw 42;
    if (request.path == "/split") {
      Response bad = Response::text(200, "x");
      bad.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: b");
      return bad;
    }
    if (request.path == "/empty") return Response{204, {}, ""};
    Response response =
        Response::text(200, request.method + " " + request.path + " " + request.body);
    response.headers.emplace_back("X-Request-Count", std::to_string(requests_.size()));
    return response;
  }

  size_t handled() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.size();
  }

  Request lastRequest() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.back();
  }

  bool connect(RawClient& client) { return client.connect(server_->port()); }

  std::unique_ptr<Server> server_;
  std::mutex mutex_;
  std::vector<Request> requests_;
};

constexpr const char* kGet = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";

TEST_F(ServerTest, RefusesBadAddresses) {
  std::string error;
  Server noPort(ServerOptions{"127.0.0.1", nullptr});
  EXPECT_FALSE(noPort.start(error));
  EXPECT_NE(error.find("HOST:PORT"), std::string::npos) << error;

  startServer();
  Server taken(ServerOptions{"127.0.0.1:" + std::to_string(server_->port()), nullptr});
  EXPECT_FALSE(taken.start(error));
  EXPECT_NE(error.find("cannot listen"), std::string::npos) << error;
  std::string again;
  EXPECT_FALSE(server_->start(again));
}

TEST_F(ServerTest, KeepAliveServesSeveralRequests) {
  startServer();
  RawClient client;
  ASSERT_TRUE(connect(client));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(client.send(kGet));
    const RawResponse response = client.readResponse();
    ASSERT_TRUE(response.ok) << response.head;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "GET /hello ");
    EXPECT_EQ(response.header("X-Request-Count"), std::to_string(i));
    EXPECT_EQ(response.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(response.header("Content-Length"), "11");
    EXPECT_EQ(response.header("Connection"), "");
    EXPECT_NE(response.header("Date"), "");
  }
  EXPECT_EQ(handled(), 3u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  startServer();
  RawClient client;
  ASSERT_TRUE(connect(client));
  ASSERT_TRUE(
      client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                  "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody"
                  "HEAD /3 HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /4 HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(client.readResponse().body, "GET /1 ");
  EXPECT_EQ(client.readResponse().body, "POST /2 body");
  const RawResponse head = client.readResponse(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "8");
  const RawResponse last = client.readResponse();
  EXPECT_EQ(last.body, "GET /4 ");
  EXPECT_EQ(handled(), 4u);
}

TEST_F(ServerTest, ChunkedBodyWithTrailers) {
  startServer();
  RawClient client;
  ASSERT_TRUE(connect(client));
  ASSERT_TRUE(
      client.send("PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "6\r\nhello \r\n5;note=x\r\nworld\r\n0\r\nX-Digest: 123\r\n\r\n"));
  const RawResponse response = client.readResponse();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "PUT /c hello world");
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  startServer();
  RawClient client;
  ASSERT_TRUE(connect(client));
  ASSERT_TRUE(client.send(
      "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
  const RawResponse interim = client.readResponse();
  ASSERT_TRUE(interim.ok);
  EXPECT_EQ(interim.status, 100);
  EXPECT_EQ(handled(), 0u);
  ASSERT_TRUE(client.send("abc"));
  const RawResponse final = client.readResponse();
  EXPECT_EQ(final.status, 200);
  EXPECT_EQ(final.body, "PUT /x abc");

  // A body that is too large is refused before the client sends it: no 100 first.
  RawClient big;
  ASSERT_TRUE(connect(big));
  ASSERT_TRUE(big.send(
      "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 999999999\r\n\r\n"));
  const RawResponse refused = big.readResponse();
  EXPECT_EQ(refused.status, 413);
  EXPECT_TRUE(big.closedByPeer());
}

TEST_F(ServerTest, ScreenedHeadsAreRefusedBeforeTheirBody) {
  ServerOptions options;
  options.screenHead = [](const Request& head) -> std::optional<Response> {
    if (head.header("authorization") == "Bearer ok") return std::nullopt;
    return Response::text(401, "no");
  };
  startServer(std::move(options));
  // The body is announced but never sent: the refusal must not wait for it (nor send 100).
  RawClient client;
  ASSERT_TRUE(connect(client));
  ASSERT_TRUE(client.send(
      "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 8000000\r\n\r\n"));
  const RawResponse refused = client.readResponse();
  EXPECT_EQ(refused.status, 401);
  EXPECT_TRUE(client.closedByPeer());
  EXPECT_EQ(handled(), 0u);

  RawClient allowed;
  ASSERT_TRUE(connect(allowed));
  ASSERT_TRUE(allowed.send(
      "PUT /x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ok\r\nContent-Length: 2\r\n\r\nhi"));
  const RawResponse ok = allowed.readResponse();
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "PUT /x hi");
}

TEST_F(ServerTest, HeadHasLengthButNoBody) {
  startServer();
  RawClient client;
  ASSERT_TRUE(connect(client));
  ASSERT_TRUE(client.send("HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"));
  const RawResponse head = client.readResponse(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "12");
  // Had a body been sent, it would now be read in place of the next response.
  ASSERT_TRUE(client.send(kGet));
  const RawResponse get = client.readResponse();
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "GET /hello ");
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  startServer();
  RawClient client;
  ASSERT_TRUE(connect(client));
  ASSERT_TRUE(
      client.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + std::string(kGet)));
  const RawResponse response = client.readResponse();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Connection"), "close");
  EXPECT_TRUE(client.closedByPeer());
  EXPECT_EQ(handled(), 1u);  // the request after "close" is never served
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAlive) {
  startServer();
  RawClient plain;
  ASSERT_TRUE(connect(plain));
  ASSERT_TRUE(plain.send("GET / HTTP/1.0\r\n\r\n"));
  const RawResponse first = plain.readResponse();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("Connection"), "close");
  EXPECT_TRUE(plain.closedByPeer());

  RawClient keep;
  ASSERT_TRUE(connect(keep));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(keep.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const RawResponse response = keep.readResponse();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Connection"), "keep-alive");
  }
}

TEST_F(ServerTest, RequestCarriesPathQueryHeadersAndPeer) {
  startServer();
  RawClient client;
  ASSERT_TRUE(connect(client));
  ASSERT_TRUE(
      client.send("GET /meshes/my%20mesh/dataplanes?offset=10&size=&name=a+b%26c HTTP/1.1\r\n"
                  "Host: a\r\nX-Token: T1\r\nx-token: T2\r\n\r\n"));
  ASSERT_EQ(client.readResponse().status, 200);
  const Request r = lastRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/meshes/my%20mesh/dataplanes?offset=10&size=&name=a+b%26c");
  EXPECT_EQ(r.path, "/meshes/my mesh/dataplanes");
  EXPECT_EQ(r.query, "offset=10&size=&name=a+b%26c");
  EXPECT_EQ(r.queryParam("offset"), "10");
  EXPECT_EQ(r.queryParam("size", "100"), "");
  EXPECT_EQ(r.queryParam("missing", "100"), "100");
  EXPECT_EQ(r.queryParam("name"), "a b&c");
  EXPECT_TRUE(r.hasQueryParam("size"));
  EXPECT_FALSE(r.hasQueryParam("missing"));
  EXPECT_EQ(r.header("x-token"), "T1");
  EXPECT_EQ(r.header("X-Token"), "T1");
  EXPECT_EQ(r.header("absent"), "");
  EXPECT_EQ(r.remoteAddress, "127.0.0.1");
  EXPECT_TRUE(r.fromLoopback);
}

TEST_F(ServerTest, EncodedSlashOrNulInPathIsRefused) {
  startServer();
  for (const char* target : {"/meshes/a%2Fb", "/meshes/a%2fb", "/a%00b"}) {
    RawClient client;
    ASSERT_TRUE(connect(client));
    ASSERT_TRUE(client.send(std::string("GET ") + target + " HTTP/1.1\r\nHost: a\r\n\r\n"));
    EXPECT_EQ(client.readResponse().status, 400) << target;
  }
  EXPECT_EQ(handled(), 0u);
}

TEST_F(ServerTest, HandlerFailuresBecome500AndTheServerGoesOn) {
  startServer();
  RawClient client;
  ASSERT_TRUE(connect(client));
  for (const char* path : {"/boom", "/boom-int", "/split"}) {
    ASSERT_TRUE(client.send(std::string("GET ") + path + " HTTP/1.1\r\nHost: a\r\n\r\n"));
    const RawResponse response = client.readResponse();
    EXPECT_EQ(response.status, 500) << path;
    EXPECT_EQ(response.header("Content-Type"), "application/json");
    EXPECT_EQ(response.body, R"({"title":"Internal Server Error","details":"internal error"})");
    EXPECT_EQ(response.head.find("Set-Cookie"), std::string::npos);
  }
  ASSERT_TRUE(client.send(kGet));
  EXPECT_EQ(client.readResponse().status, 200);
}

TEST_F(ServerTest, NoContentHasNoLength) {
  startServer();
  RawClient client;
  ASSERT_TRUE(connect(client));
  ASSERT_TRUE(client.send("DELETE /empty HTTP/1.1\r\nHost: a\r\n\r\n"));
  const RawResponse response = client.readResponse();
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.header("Content-Length"), "");
  ASSERT_TRUE(client.send(kGet));
  EXPECT_EQ(client.readResponse().status, 200);
}

// The smuggling corpus through the real server: each file gets its status, the connection is
// closed (cleanly: no reset), and the handler never runs.
TEST_F(ServerTest, SmugglingCorpusIsRefusedAndClosed) {
  startServer();
  const auto dir = braid::testing::sourceDir() / "tests/golden/http/smuggling";
  const auto files = braid::testing::filesIn(dir, ".http");
  ASSERT_GE(files.size(), 40u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    auto statusFile = file;
    statusFile.replace_extension(".status");
    const int expected = std::stoi(braid::testing::readFile(statusFile));
    RawClient client;
    ASSERT_TRUE(connect(client));
    ASSERT_TRUE(client.send(braid::testing::readFile(file)));
    const RawResponse response = client.readResponse();
    ASSERT_TRUE(response.ok) << response.head;
    EXPECT_EQ(response.status, expected) << response.body;
    EXPECT_EQ(response.header("Connection"), "close");
    EXPECT_EQ(response.header("Content-Type"), "application/json");
    EXPECT_TRUE(client.closedByPeer());
  }
  EXPECT_EQ(handled(), 0u);
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitGet503) {
  ServerOptions options;
  options.maxConnections = 1;
  startServer(options);
  RawClient first;
  ASSERT_TRUE(connect(first));
  ASSERT_TRUE(first.send(kGet));
  ASSERT_EQ(first.readResponse().status, 200);

  RawClient second;
  ASSERT_TRUE(connect(second));
  const RawResponse busy = second.readResponse();
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.header("Connection"), "close");
  EXPECT_TRUE(second.closedByPeer());

  // Once the first connection is gone its slot is free again.
  first.close();
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
    RawClient third;
    ASSERT_TRUE(connect(third));
    ASSERT_TRUE(third.send(kGet));
    status = third.readResponse().status;
    if (status != 200) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 200);
}

TEST_F(ServerTest, IdleConnectionsTimeOut) {
  ServerOptions options;
  options.idleTimeoutSeconds = 1;
  startServer(options);
  RawClient idle;
  ASSERT_TRUE(connect(idle));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.closedByPeer(4000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);

  // Half a request, then silence: 408.
  RawClient partial;
  ASSERT_TRUE(connect(partial));
  ASSERT_TRUE(partial.send("GET / HTTP/1.1\r\nHost"));
  const RawResponse response = partial.readResponse(false, 4000ms);
  EXPECT_EQ(response.status, 408);
  EXPECT_TRUE(partial.closedByPeer());
}

TEST_F(ServerTest, ATricklingHeadIsCutOff) {
  ServerOptions options;
  options.idleTimeoutSeconds = 1;
  startServer(options);
  RawClient client;
  ASSERT_TRUE(connect(client));
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa";
  const auto start = std::chrono::steady_clock::now();
  // One byte every 200 ms never trips the idle timer, but the head as a whole takes too long.
  for (const char c : head) {
    if (!client.send(std::string(1, c))) break;
    std::this_thread::sleep_for(200ms);
    if (std::chrono::steady_clock::now() - start > 3s) break;
  }
  std::string received;
  client.readUntilClosed(received, 2000ms);
  EXPECT_EQ(received.compare(0, 12, "HTTP/1.1 408"), 0) << received;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_EQ(handled(), 0u);
}

TEST_F(ServerTest, StopFinishesInFlightRequestsAndClosesIdleOnes) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ServerOptions options;
  options.handler = [&](const Request& request) {
    if (request.path == "/slow") {
      entered.set_value();
      released.wait();
    }
    return Response::text(200, "done " + request.path);
  };
  startServer(options);

  RawClient idle;
  ASSERT_TRUE(connect(idle));
  ASSERT_TRUE(idle.send(kGet));
  ASSERT_EQ(idle.readResponse().status, 200);

  RawClient busy;
  ASSERT_TRUE(connect(busy));
  ASSERT_TRUE(busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"));
  entered.get_future().wait();

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server_->stop();
    stopped = true;
  });
  EXPECT_TRUE(idle.closedByPeer(2000ms));
  EXPECT_FALSE(stopped.load());  // still waiting for /slow
  release.set_value();
  const RawResponse response = busy.readResponse();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "done /slow");
  EXPECT_EQ(response.header("Connection"), "close");
  EXPECT_TRUE(busy.closedByPeer());
  stopper.join();
  EXPECT_TRUE(stopped.load());

  // The listener is gone.
  RawClient late;
  EXPECT_FALSE(connect(late));
  server_->stop();  // a second stop is harmless
}

TEST_F(ServerTest, StopIsPromptWithManyIdleConnections) {
  startServer();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<RawClient>());
    ASSERT_TRUE(connect(*clients.back()));
    ASSERT_TRUE(clients.back()->send(kGet));
    ASSERT_EQ(clients.back()->readResponse().status, 200);
  }
  RawClient silent;  // connected, never sent a byte
  ASSERT_TRUE(connect(silent));
  const auto start = std::chrono::steady_clock::now();
  server_.reset();  // the destructor stops
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  for (auto& client : clients) EXPECT_TRUE(client->closedByPeer(1000ms));
}

TEST_F(ServerTest, Ipv6Loopback) {
  ServerOptions options;
  options.address = "[::1]:0";
  options.handler = [this](const Request& request) { return record(request); };
  server_ = std::make_unique<Server>(options);
  std::string error;
  if (!server_->start(error)) GTEST_SKIP() << "no IPv6 loopback here: " << error;
  RawClient client;
  ASSERT_TRUE(client.connect(server_->port(), "::1"));
  ASSERT_TRUE(client.send(kGet));
  ASSERT_EQ(client.readResponse().status, 200);
  EXPECT_EQ(lastRequest().remoteAddress, "::1");
  EXPECT_TRUE(lastRequest().fromLoopback);
}

TEST(ResponseTest, HelpersSetContentType) {
  const Response json = Response::json(201, "{}");
  EXPECT_EQ(json.status, 201);
  ASSERT_EQ(json.headers.size(), 1u);
  EXPECT_EQ(json.headers[0].second, "application/json");
  EXPECT_EQ(json.body, "{}");
  const Response text = Response::text(404, "no");
  EXPECT_EQ(text.headers[0].first, "Content-Type");
  EXPECT_EQ(text.headers[0].second, "text/plain; charset=utf-8");
}

}  // namespace
}  // namespace braid::http
