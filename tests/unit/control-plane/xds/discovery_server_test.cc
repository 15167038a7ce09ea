// The dataplane server end to end over real gRPC with TLS on loopback: registration, ACK/NACK
// bookkeeping in the insights, pushes only when a proxy's configuration changes, deregistration.
#include "control-plane/xds/discovery_server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include "braid/discovery/v1/admin.grpc.pb.h"
#include "braid/discovery/v1/discovery.grpc.pb.h"
#include "braid/discovery/v1/identity.grpc.pb.h"
#include "braid/proxy/v1/config.pb.h"
#include "control-plane/ca/cp_tls.h"

namespace braid::xds {
namespace {
namespace dpb = braid::discovery::v1;
using namespace std::chrono_literals;

constexpr const char* kTypeUrl = "type.googleapis.com/braid.proxy.v1.ProxyConfig";

std::string dataplaneYaml(const std::string& name, int inboundPort, const std::string& service,
                          const std::string& outboundService = "") {
  std::string yaml =
      "type: Dataplane\nmesh: default\nname: " + name +
      "\nnetworking:\n  address: 127.0.0.1\n  inbound:\n  - port: " + std::to_string(inboundPort) +
      "\n    servicePort: " + std::to_string(inboundPort + 1000) +
      "\n    tags: {braid.io/service: " + service + "}\n";
  if (!outboundService.empty()) {
    yaml += "  outbound:\n  - port: 20001\n    tags: {braid.io/service: " + outboundService + "}\n";
  }
  return yaml;
}

// A proxy's end of the stream, reading responses on its own thread.
class FakeProxy {
 public:
  FakeProxy(const std::string& target, const std::string& caPem, const std::string& token = "") {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = caPem;
    stub_ = dpb::DiscoveryService::NewStub(grpc::CreateChannel(target, grpc::SslCredentials(tls)));
    if (!token.empty()) context_.AddMetadata("authorization", "Bearer " + token);
    stream_ = stub_->StreamResources(&context_);
    reader_ = std::thread([this] {
      dpb::DiscoveryResponse r;
      while (stream_->Read(&r)) {
        std::lock_guard lock(mutex_);
        responses_.push_back(r);
        cv_.notify_all();
      }
      std::lock_guard lock(mutex_);
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~FakeProxy() {
    context_.TryCancel();
    reader_.join();
  }

  void hello(const std::string& dataplane) { ASSERT_TRUE(tryHello(dataplane)); }
  bool tryHello(const std::string& dataplane) {
    dpb::DiscoveryRequest r;
    r.mutable_node()->set_dataplane(dataplane);
    r.set_type_url(kTypeUrl);
    return stream_->Write(r);
  }
  void answer(const dpb::DiscoveryResponse& response, const std::string& appliedVersion,
              const std::string& error = "") {
    dpb::DiscoveryRequest r;
    r.set_type_url(kTypeUrl);
    r.set_response_nonce(response.nonce());
    r.set_version_info(appliedVersion);
    if (!error.empty()) r.mutable_error_detail()->set_message(error);
    ASSERT_TRUE(stream_->Write(r));
  }
  std::optional<dpb::DiscoveryResponse> next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return !responses_.empty() || ended_; })) {
      return std::nullopt;
    }
    if (responses_.empty()) return std::nullopt;
    auto r = responses_.front();
    responses_.pop_front();
    return r;
  }
  grpc::Status finish() {
    stream_->WritesDone();
    reader_.join();
    reader_ = std::thread([] {});
    return stream_->Finish();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<dpb::DiscoveryService::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<dpb::DiscoveryRequest, dpb::DiscoveryResponse>> stream_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<dpb::DiscoveryResponse> responses_;
  bool ended_ = false;
};

// A proxy's end of the admin stream: sends its hello, then answers each request with what
// `answer` returns (nothing when it returns nullopt), on its own thread.
class FakeAdminProxy {
 public:
  using Answer = std::function<std::optional<dpb::AdminResponse>(const dpb::AdminRequest&)>;

  FakeAdminProxy(const std::string& target, const std::string& caPem, const std::string& token,
                 const std::string& dataplane, Answer answer) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = caPem;
    stub_ = dpb::ProxyAdminService::NewStub(grpc::CreateChannel(target, grpc::SslCredentials(tls)));
    if (!token.empty()) context_.AddMetadata("authorization", "Bearer " + token);
    stream_ = stub_->StreamAdmin(&context_);
    dpb::AdminResponse hello;
    hello.mutable_node()->set_dataplane(dataplane);
    stream_->Write(hello);
    reader_ = std::thread([this, answer = std::move(answer)] {
      dpb::AdminRequest request;
      while (stream_->Read(&request)) {
        if (auto response = answer(request)) {
          response->set_request_id(request.request_id());
          stream_->Write(*response);
        }
      }
      grpc::Status status = stream_->Finish();
      std::lock_guard lock(mutex_);
      status_ = status;
      cv_.notify_all();
    });
  }
  ~FakeAdminProxy() {
    context_.TryCancel();
    reader_.join();
  }
  // How the CP ended the stream, once it has.
  std::optional<grpc::Status> ended(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return status_.has_value(); });
    return status_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<dpb::ProxyAdminService::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<dpb::AdminResponse, dpb::AdminRequest>> stream_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<grpc::Status> status_;
};

std::optional<dpb::AdminResponse> answerWith(const std::string& body) {
  dpb::AdminResponse response;
  response.set_body(body);
  return response;
}

class DiscoveryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("braid-xds-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    std::string error;
    ASSERT_TRUE(ca::loadOrCreateCpTls(dir_.string(), {"localhost", "127.0.0.1"}, tls_, error))
        << error;
    store_ = store::openStore("memory").store;
    ASSERT_FALSE(store_->put({"Mesh", "", "default"}, "{}", std::nullopt).error);
    DiscoveryServerOptions options;
    options.address = "127.0.0.1:0";
    options.serverCertPem = tls_.serverCertPem;
    options.serverKeyPem = tls_.serverKeyPem;
    options.startupGraceMs = 300;
    options.adminTimeoutMs = 300;
    server_ = std::make_unique<DiscoveryServer>(*store_, insights_, options);
    ASSERT_TRUE(server_->start(error)) << error;
    target_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<FakeProxy> connect() {
    return std::make_unique<FakeProxy>(target_, tls_.caCertPem);
  }
  static proxy::v1::ProxyConfig unpack(const dpb::DiscoveryResponse& r) {
    proxy::v1::ProxyConfig config;
    EXPECT_TRUE(r.resources(0).UnpackTo(&config));
    return config;
  }
  // Restarts the server requiring tokens; "token-of-<name>" is a valid token for <name> in mesh
  // default, anything else is refused as "bad signature". Returns the new target.
  std::string restartWithTokens() {
    server_.reset();
    DiscoveryServerOptions options;
    options.address = "127.0.0.1:0";
    options.serverCertPem = tls_.serverCertPem;
    options.serverKeyPem = tls_.serverKeyPem;
    options.requireToken = true;
    options.authenticate = [](const std::string& token, TokenGrant& grant, std::string& error) {
      if (token.rfind("token-of-", 0) != 0) {
        error = "bad signature";
        return false;
      }
      grant.mesh = "default";
      grant.name = token.substr(9);
      // "token-of-<name>@<service>": bound to braid.io/service=<service>.
      if (auto at = grant.name.find('@'); at != std::string::npos) {
        grant.tags["braid.io/service"] = grant.name.substr(at + 1);
        grant.name.resize(at);
      }
      return true;
    };
    server_ = std::make_unique<DiscoveryServer>(*store_, insights_, options);
    std::string error;
    EXPECT_TRUE(server_->start(error)) << error;
    return "127.0.0.1:" + std::to_string(server_->port());
  }
  bool waitFor(const std::function<bool()>& condition) {
    for (int i = 0; i < 200 && !condition(); ++i) std::this_thread::sleep_for(10ms);
    return condition();
  }

  std::filesystem::path dir_;
  ca::CpTlsMaterial tls_;
  std::unique_ptr<store::Store> store_;
  DataplaneInsights insights_;
  std::unique_ptr<DiscoveryServer> server_;
  std::string target_;
};

TEST_F(DiscoveryServerTest, RegistersTheProxyAndRecordsItsAck) {
  auto proxy = connect();
  proxy->hello(dataplaneYaml("web-1", 10001, "web"));
  auto first = proxy->next(5s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type_url(), kTypeUrl);
  EXPECT_EQ(unpack(*first).dataplane(), "web-1");
  EXPECT_TRUE(store_->get({"Dataplane", "default", "web-1"}).record);
  auto insight = insights_.get("default", "web-1");
  EXPECT_TRUE(insight.online);
  EXPECT_EQ(insight.configVersionSent, first->version_info());

  proxy->answer(*first, first->version_info());
  ASSERT_TRUE(
      waitFor([&] { return insights_.get("default", "web-1").responsesAcknowledged == 1; }));
  EXPECT_EQ(insights_.get("default", "web-1").configVersionAcked, first->version_info());
}

TEST_F(DiscoveryServerTest, ANackIsRecordedWithItsError) {
  auto proxy = connect();
  proxy->hello(dataplaneYaml("web-1", 10001, "web"));
  auto first = proxy->next(5s);
  ASSERT_TRUE(first);
  proxy->answer(*first, "", "listener inbound:127.0.0.1:10001: bind: Address already in use");
  ASSERT_TRUE(waitFor([&] { return insights_.get("default", "web-1").responsesRejected == 1; }));
  auto insight = insights_.get("default", "web-1");
  ASSERT_TRUE(insight.lastRejection);
  EXPECT_EQ(insight.lastRejection->version, first->version_info());
  EXPECT_NE(insight.lastRejection->error.find("Address already in use"), std::string::npos);
  EXPECT_EQ(insight.configVersionAcked, "");
}

TEST_F(DiscoveryServerTest, PushesOnlyWhenTheProxysConfigurationChanges) {
  auto web = connect();
  web->hello(dataplaneYaml("web-1", 10001, "web", "backend"));
  auto first = web->next(5s);
  ASSERT_TRUE(first);
  EXPECT_EQ(unpack(*first).clusters(1).endpoints_size(), 0);
  web->answer(*first, first->version_info());

  // Changes that cannot alter web-1's configuration: an unrelated dataplane, a policy.
  auto other = connect();
  other->hello(dataplaneYaml("db-1", 10002, "db"));
  ASSERT_TRUE(other->next(5s));
  ASSERT_FALSE(store_->put({"MeshTimeout", "default", "t1"}, R"({"spec":{}})", std::nullopt).error);
  EXPECT_FALSE(web->next(500ms)) << "pushed a configuration that did not change";
  EXPECT_EQ(insights_.get("default", "web-1").responsesSent, 1u);

  // A backend instance appears: web-1 gets it.
  auto backend = connect();
  backend->hello(dataplaneYaml("backend-1", 10003, "backend"));
  auto second = web->next(2s);
  ASSERT_TRUE(second);
  auto config = unpack(*second);
  ASSERT_EQ(config.clusters(1).endpoints_size(), 1);
  EXPECT_EQ(config.clusters(1).endpoints(0).address().port(), 10003u);
  EXPECT_NE(second->version_info(), first->version_info());

  // A MeshTimeout that changes web-1's connect timeout to backend is pushed.
  web->answer(*second, second->version_info());
  ASSERT_FALSE(
      store_
          ->put(
              {"MeshTimeout", "default", "t2"},
              R"({"spec":{"targetRef":{"kind":"Mesh"},"to":[{"targetRef":{"kind":"Mesh"},"default":{"connectionTimeout":"2s"}}]}})",
              std::nullopt)
          .error);
  auto timeout = web->next(2s);
  ASSERT_TRUE(timeout);
  EXPECT_EQ(unpack(*timeout).clusters(1).connect_timeout_ms(), 2000u);
  ASSERT_FALSE(store_->remove({"MeshTimeout", "default", "t2"}, std::nullopt).error);
  auto reverted = web->next(2s);
  ASSERT_TRUE(reverted);
  EXPECT_EQ(reverted->version_info(), second->version_info());

  // It leaves: marked offline, its endpoint unhealthy for web-1; the Dataplane stays.
  EXPECT_TRUE(backend->finish().ok());
  auto third = web->next(2s);
  ASSERT_TRUE(third);
  ASSERT_EQ(unpack(*third).clusters(1).endpoints_size(), 1);
  EXPECT_FALSE(unpack(*third).clusters(1).endpoints(0).healthy());
  EXPECT_TRUE(store_->get({"Dataplane", "default", "backend-1"}).record);
  EXPECT_FALSE(insights_.get("default", "backend-1").online);

  // It comes back: healthy again.
  auto again = connect();
  again->hello(dataplaneYaml("backend-1", 10003, "backend"));
  auto fourth = web->next(2s);
  ASSERT_TRUE(fourth);
  EXPECT_TRUE(unpack(*fourth).clusters(1).endpoints(0).healthy());
  EXPECT_EQ(fourth->version_info(), second->version_info());
}

TEST_F(DiscoveryServerTest, AnInvalidDataplaneIsRefusedWithEveryField) {
  auto proxy = connect();
  proxy->hello("type: Dataplane\nmesh: default\nname: bad\nnetworking:\n  inbound:\n  - port: 0\n");
  EXPECT_FALSE(proxy->next(5s));
  auto status = proxy->finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("networking.address"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("networking.inbound[0].port"), std::string::npos)
      << status.error_message();
  EXPECT_FALSE(store_->get({"Dataplane", "default", "bad"}).record);
}

TEST_F(DiscoveryServerTest, AMissingMeshIsRefused) {
  auto proxy = connect();
  std::string yaml = dataplaneYaml("web-1", 10001, "web");
  yaml.replace(yaml.find("mesh: default"), 13, "mesh: nowhere");
  proxy->hello(yaml);
  EXPECT_FALSE(proxy->next(5s));
  auto status = proxy->finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("mesh 'nowhere' does not exist"), std::string::npos);
}

// --dp-auth token: a stream needs a token the authenticator accepts, for the dataplane it
// registers. (The authenticator here accepts "token-of-<name>" for mesh default.)
TEST_F(DiscoveryServerTest, TokenModePinsTheStreamToTheTokensDataplane) {
  std::string target = restartWithTokens();
  auto attempt = [&](const std::string& token, const std::string& name) {
    FakeProxy proxy(target, tls_.caCertPem, token);
    proxy.hello(dataplaneYaml(name, 10001, "web"));
    bool configured = proxy.next(5s).has_value();
    auto status = proxy.finish();
    return std::make_pair(configured, status);
  };
  auto [noToken, noTokenStatus] = attempt("", "web-1");
  EXPECT_FALSE(noToken);
  EXPECT_EQ(noTokenStatus.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(noTokenStatus.error_message().find("no dataplane token"), std::string::npos);
  auto [forged, forgedStatus] = attempt("forged", "web-1");
  EXPECT_FALSE(forged);
  EXPECT_EQ(forgedStatus.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(forgedStatus.error_message().find("bad signature"), std::string::npos);
  auto [other, otherStatus] = attempt("token-of-web-2", "web-1");
  EXPECT_FALSE(other);
  EXPECT_EQ(otherStatus.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_FALSE(store_->get({"Dataplane", "default", "web-1"}).record);
  // A token bound to another service cannot register inbounds of this one.
  auto [bound, boundStatus] = attempt("token-of-web-1@payments", "web-1");
  EXPECT_FALSE(bound);
  EXPECT_EQ(boundStatus.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(boundStatus.error_message().find(
                "inbound[0] has braid.io/service=web, the token allows braid.io/service=payments"),
            std::string::npos)
      << boundStatus.error_message();
  EXPECT_FALSE(store_->get({"Dataplane", "default", "web-1"}).record);
  auto [boundOwn, boundOwnStatus] = attempt("token-of-web-1@web", "web-1");
  EXPECT_TRUE(boundOwn) << boundOwnStatus.error_message();
  auto [own, ownStatus] = attempt("token-of-web-1", "web-1");
  EXPECT_TRUE(own);
  EXPECT_TRUE(store_->get({"Dataplane", "default", "web-1"}).record);
}

// The CP asks a proxy for its admin text over the stream the proxy opened, and relays the
// answer, the proxy's error, or its silence; the newest stream of a dataplane wins.
TEST_F(DiscoveryServerTest, AsksTheProxyOverItsAdminStream) {
  using Outcome = api::ProxyAdminReply::Outcome;
  EXPECT_EQ(server_->askProxy("default", "web-1", "stats").outcome, Outcome::kNotConnected);
  FakeAdminProxy first(target_, tls_.caCertPem, "", dataplaneYaml("web-1", 10001, "web"),
                       [](const dpb::AdminRequest& request) {
                         if (request.kind() == dpb::AdminRequest::STATS) {
                           return answerWith("braid_dp_up 1\n");
                         }
                         dpb::AdminResponse failed;
                         failed.set_error("/clusters answered 500: boom");
                         return std::optional(failed);
                       });
  ASSERT_TRUE(waitFor([&] {
    return server_->askProxy("default", "web-1", "stats").outcome == Outcome::kAnswered;
  }));
  auto stats = server_->askProxy("default", "web-1", "stats");
  EXPECT_EQ(stats.body, "braid_dp_up 1\n");
  auto clusters = server_->askProxy("default", "web-1", "clusters");
  EXPECT_EQ(clusters.outcome, Outcome::kFailed);
  EXPECT_EQ(clusters.error, "/clusters answered 500: boom");
  EXPECT_EQ(server_->askProxy("default", "web-2", "stats").outcome, Outcome::kNotConnected);
  EXPECT_EQ(server_->askProxy("other", "web-1", "stats").outcome, Outcome::kNotConnected);

  FakeAdminProxy second(target_, tls_.caCertPem, "", dataplaneYaml("web-1", 10001, "web"),
                        [](const dpb::AdminRequest&) { return answerWith("second\n"); });
  auto replaced = first.ended(5s);
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(server_->askProxy("default", "web-1", "clusters").body, "second\n");
}

TEST_F(DiscoveryServerTest, AProxyThatDoesNotAnswerTimesOut) {
  using Outcome = api::ProxyAdminReply::Outcome;
  FakeAdminProxy silent(target_, tls_.caCertPem, "", dataplaneYaml("web-1", 10001, "web"),
                        [](const dpb::AdminRequest&) { return std::nullopt; });
  ASSERT_TRUE(waitFor([&] {
    return server_->askProxy("default", "web-1", "stats").outcome != Outcome::kNotConnected;
  }));
  auto start = std::chrono::steady_clock::now();
  auto reply = server_->askProxy("default", "web-1", "stats");
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(reply.outcome, Outcome::kTimedOut);
  EXPECT_EQ(reply.error, "no answer within 300 ms");
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 2s);
}

// The admin stream is admitted like the discovery stream: with tokens required, only for the
// dataplane (and the services) the token names.
TEST_F(DiscoveryServerTest, TokenModePinsTheAdminStreamToTheTokensDataplane) {
  using Outcome = api::ProxyAdminReply::Outcome;
  std::string target = restartWithTokens();
  auto refusal = [&](const std::string& token) {
    FakeAdminProxy proxy(target, tls_.caCertPem, token, dataplaneYaml("web-1", 10001, "web"),
                         [](const dpb::AdminRequest&) { return answerWith("intruder\n"); });
    return proxy.ended(5s).value_or(grpc::Status(grpc::StatusCode::UNKNOWN, "still open"));
  };
  auto none = refusal("");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED) << none.error_message();
  auto forged = refusal("forged");
  EXPECT_EQ(forged.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(forged.error_message().find("bad signature"), std::string::npos);
  auto other = refusal("token-of-web-2");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(other.error_message().find("the token is for dataplane 'web-2'"), std::string::npos)
      << other.error_message();
  auto bound = refusal("token-of-web-1@payments");
  EXPECT_EQ(bound.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(server_->askProxy("default", "web-1", "stats").outcome, Outcome::kNotConnected);

  FakeAdminProxy own(target, tls_.caCertPem, "token-of-web-1@web",
                     dataplaneYaml("web-1", 10001, "web"),
                     [](const dpb::AdminRequest&) { return answerWith("own\n"); });
  ASSERT_TRUE(
      waitFor([&] { return server_->askProxy("default", "web-1", "stats").body == "own\n"; }));
}

TEST_F(DiscoveryServerTest, StoppingTheServerDoesNotDeregisterProxies) {
  auto proxy = connect();
  proxy->hello(dataplaneYaml("web-1", 10001, "web"));
  ASSERT_TRUE(proxy->next(5s));
  server_->stop();
  EXPECT_TRUE(store_->get({"Dataplane", "default", "web-1"}).record);
  EXPECT_FALSE(insights_.get("default", "web-1").online);
}

TEST_F(DiscoveryServerTest, AfterTheStartupGraceSilentDataplanesAreUnhealthy) {
  // backend-1 is in the store (from before a CP restart) but its proxy never reconnects.
  ASSERT_FALSE(
      store_
          ->put(
              {"Dataplane", "default", "backend-1"},
              R"({"networking":{"address":"127.0.0.1","inbound":[{"port":10003,"servicePort":11003,"tags":{"braid.io/service":"backend"}}]}})",
              std::nullopt)
          .error);
  auto web = connect();
  web->hello(dataplaneYaml("web-1", 10001, "web", "backend"));
  auto first = web->next(5s);
  ASSERT_TRUE(first);
  ASSERT_EQ(unpack(*first).clusters(1).endpoints_size(), 1);
  EXPECT_TRUE(unpack(*first).clusters(1).endpoints(0).healthy()) << "within the grace";
  auto second = web->next(3s);
  ASSERT_TRUE(second) << "no push when the grace ended";
  EXPECT_FALSE(unpack(*second).clusters(1).endpoints(0).healthy());
}

// A renewed server certificate (the files rewritten) is served without a restart.
TEST_F(DiscoveryServerTest, ServesARenewedCertificateFromItsFiles) {
  server_.reset();
  DiscoveryServerOptions options;
  options.address = "127.0.0.1:0";
  options.serverCertFile = (dir_ / "cp-server.pem").string();
  options.serverKeyFile = (dir_ / "cp-server-key.pem").string();
  options.certificateRefreshSeconds = 1;
  server_ = std::make_unique<DiscoveryServer>(*store_, insights_, options);
  std::string error;
  ASSERT_TRUE(server_->start(error)) << error;
  std::string target = "127.0.0.1:" + std::to_string(server_->port());
  auto registers = [&](const std::string& caPem, const std::string& name) {
    FakeProxy proxy(target, caPem);
    return proxy.tryHello(dataplaneYaml(name, 10001, "web")) && proxy.next(2s).has_value();
  };
  EXPECT_TRUE(registers(tls_.caCertPem, "web-1"));

  // Another CA's certificate replaces the files: clients that trust that CA get in.
  auto other = dir_ / "other";
  std::filesystem::create_directories(other);
  ca::CpTlsMaterial renewed;
  ASSERT_TRUE(ca::loadOrCreateCpTls(other.string(), {"localhost", "127.0.0.1"}, renewed, error));
  EXPECT_FALSE(registers(renewed.caCertPem, "web-2"));
  for (const char* file : {"cp-server-key.pem", "cp-server.pem"}) {
    std::filesystem::copy_file(other / file, dir_ / (std::string(file) + ".new"));
    std::filesystem::rename(dir_ / (std::string(file) + ".new"), dir_ / file);
  }
  bool served = false;
  for (int i = 0; i < 10 && !served; ++i) {
    std::this_thread::sleep_for(500ms);
    served = registers(renewed.caCertPem, "web-3");
  }
  EXPECT_TRUE(served);
}

TEST_F(DiscoveryServerTest, ConfigJsonForGeneratesFromTheStore) {
  ASSERT_FALSE(
      store_
          ->put(
              {"Dataplane", "default", "x"},
              R"({"networking":{"address":"127.0.0.1","inbound":[{"port":1,"tags":{"braid.io/service":"s"}}]}})",
              std::nullopt)
          .error);
  auto json = server_->configJsonFor("default", "x");
  ASSERT_TRUE(json);
  EXPECT_NE(json->find("\"inbound:127.0.0.1:1\""), std::string::npos) << *json;
  EXPECT_FALSE(server_->configJsonFor("default", "absent"));
}

}  // namespace
}  // namespace braid::xds

namespace braid::xds {
namespace {

// A P-256 CSR that asks for `uriSan` (and a DNS name): the CP must ignore both.
std::string csrAskingFor(const std::string& uriSan) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_pubkey(req, key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, nullptr, nullptr, req, nullptr, 0);
  std::string sans = "URI:" + uriSan + ",DNS:admin.example.com";
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, sans.c_str());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, ext);
  X509_REQ_add_extensions(req, exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, req);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  X509_REQ_free(req);
  EVP_PKEY_free(key);
  return pem;
}

std::vector<std::string> uriSans(const std::string& certPem) {
  BIO* bio = BIO_new_mem_buf(certPem.data(), static_cast<int>(certPem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  std::vector<std::string> out;
  if (!cert) return out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);
  X509_free(cert);
  return out;
}

TEST_F(DiscoveryServerTest, IssuesTheCallersOwnIdentityWhateverTheCsrAsksFor) {
  ASSERT_FALSE(store_
                   ->put({"Mesh", "", "default"},
                         R"({"mtls":{"enabledBackend":"ca-1","backends":[{"name":"ca-1",)"
                         R"("type":"builtin","dpCert":{"rotation":{"expiration":"1h"}}}]}})",
                         std::nullopt)
                   .error);
  std::string target = restartWithTokens();
  FakeProxy proxy(target, tls_.caCertPem, "token-of-web-1");
  proxy.hello(dataplaneYaml("web-1", 10001, "web", "backend"));
  auto first = proxy.next(5s);
  ASSERT_TRUE(first);
  auto config = unpack(*first);
  ASSERT_TRUE(config.has_mtls());
  EXPECT_EQ(config.mtls().backend(), "ca-1");
  EXPECT_EQ(config.mtls().trusted_roots_pem_size(), 1);
  ASSERT_EQ(config.identities_size(), 1);
  EXPECT_EQ(config.identities(0), "web");
  EXPECT_EQ(config.listeners(0).security().mode(), proxy::v1::STRICT);
  EXPECT_EQ(config.listeners(0).security().permissions_size(), 0);  // no permission: deny all
  EXPECT_EQ(config.clusters(1).tls().expected_san(), "spiffe://default/backend");

  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = tls_.caCertPem;
  auto stub = dpb::IdentityService::NewStub(grpc::CreateChannel(target, grpc::SslCredentials(tls)));
  auto issue = [&](const std::string& token, const std::string& name,
                   dpb::CertificateResponse& response) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    dpb::CertificateRequest request;
    request.set_mesh("default");
    request.set_dataplane(name);
    request.set_csr_pem(csrAskingFor("spiffe://default/admin"));
    return stub->IssueCertificates(&context, request, &response);
  };
  dpb::CertificateResponse response;
  auto status = issue("token-of-web-1", "web-1", response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.backend(), "ca-1");
  ASSERT_EQ(response.certificates_size(), 1);
  EXPECT_EQ(response.certificates(0).service(), "web");
  EXPECT_EQ(uriSans(response.certificates(0).cert_chain_pem()),
            (std::vector<std::string>{"spiffe://default/web"}));
  EXPECT_NEAR(static_cast<double>(response.not_after_unix() - response.not_before_unix()),
              3600 + 60, 5);
  auto insight = insights_.get("default", "web-1");
  EXPECT_EQ(insight.certificateBackend, "ca-1");
  EXPECT_EQ(insight.certificateRegenerations, 1u);
  EXPECT_TRUE(insight.certificateExpiry.has_value());

  dpb::CertificateResponse refused;
  status = issue("token-of-web-2", "web-1", refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refused.certificates_size(), 0);
  status = issue("", "web-1", refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  status = issue("token-of-web-1@payments", "web-1", refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("the token allows braid.io/service=payments"),
            std::string::npos);
  status = issue("token-of-web-3", "web-3", refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("not registered"), std::string::npos);
  EXPECT_EQ(insights_.get("default", "web-1").certificateRegenerations, 1u);

  // A proxy asking in a loop is stopped: at most 20 requests a minute per dataplane.
  int exhausted = 0;
  for (int i = 0; i < 25; ++i) {
    dpb::CertificateResponse again;
    if (issue("token-of-web-1", "web-1", again).error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
    }
  }
  EXPECT_GE(exhausted, 5);
}

}  // namespace
}  // namespace braid::xds

namespace braid::xds {
namespace {

TEST_F(DiscoveryServerTest, ABrokenCaBackendDoesNotTakeTheOthersRootsWithIt) {
  ASSERT_FALSE(
      store_
          ->put({"Mesh", "", "default"},
                R"({"mtls":{"enabledBackend":"ca-1","backends":[)"
                R"({"name":"ca-1","type":"builtin"},)"
                R"({"name":"ca-2","type":"provided","conf":{)"
                R"("cert":{"file":"/nonexistent/ca.pem"},"key":{"file":"/nonexistent/k.pem"}}}]}})",
                std::nullopt)
          .error);
  auto proxy = connect();
  proxy->hello(dataplaneYaml("web-1", 10001, "web"));
  auto first = proxy->next(5s);
  ASSERT_TRUE(first);
  auto config = unpack(*first);
  ASSERT_TRUE(config.has_mtls());
  EXPECT_EQ(config.mtls().backend(), "ca-1");
  EXPECT_EQ(config.mtls().trusted_roots_pem_size(), 1);  // ca-1's; ca-2 is logged and left out
}

}  // namespace
}  // namespace braid::xds
