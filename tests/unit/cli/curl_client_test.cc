// The libcurl client against a one-shot HTTP server on loopback: method, path, bearer token and
// body go out as given; status and body come back; an unreachable address is a clear error.
#include "cli/curl_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "cli/cli_error.h"

namespace braid::cli {
namespace {

// Accepts one connection, records the raw request, answers with `response`.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void serve() {
    int conn = ::accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    char buf[4096];
    size_t want = std::string::npos;
    while (request_.size() < want) {
      ssize_t n = ::read(conn, buf, sizeof buf);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
      size_t end = request_.find("\r\n\r\n");
      if (end != std::string::npos && want == std::string::npos) {
        size_t length = 0;
        auto cl = request_.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(request_.substr(cl + 16));
        want = end + 4 + length;
      }
    }
    // The client reports whatever arrives; a short write shows up as a failed expectation.
    if (::write(conn, response_.data(), response_.size()) < 0) response_.clear();
    ::close(conn);
  }

  std::string response_;
  std::string request_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(CurlClient, SendsMethodPathTokenAndBody) {
  OneShotServer server(
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
      "Connection: close\r\n\r\n{\"ok\":true}");
  auto client = makeCurlClient(server.url() + "/", "secret");
  HttpResponse response = client->put("/meshes/default", R"({"type":"Mesh"})");
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, "{\"ok\":true}");
  std::string request = server.request();
  EXPECT_EQ(request.rfind("PUT /meshes/default HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nAuthorization: Bearer secret\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_EQ(request.substr(request.size() - 15), R"({"type":"Mesh"})");
}

TEST(CurlClient, NoTokenNoAuthorizationHeaderAndErrorsAreResponses) {
  OneShotServer server(
      "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  auto client = makeCurlClient(server.url(), "");
  HttpResponse response = client->del("/meshes/x");
  EXPECT_EQ(response.status, 404);
  EXPECT_FALSE(response.ok());
  std::string request = server.request();
  EXPECT_EQ(request.rfind("DELETE /meshes/x HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_EQ(request.find("Authorization"), std::string::npos);
}

TEST(CurlClient, UnreachableControlPlane) {
  // A port that was just free: bind, read the port, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto client = makeCurlClient(url, "");
  try {
    client->get("/meshes");
    FAIL() << "no error";
  } catch (const CliError& e) {
    std::string message = e.what();
    EXPECT_EQ(message.rfind("cannot reach the control plane at " + url + ": ", 0), 0u) << message;
    EXPECT_GT(message.size(), ("cannot reach the control plane at " + url + ": ").size());
  }
}

}  // namespace
}  // namespace braid::cli
