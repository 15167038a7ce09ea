// Load tool for bench/cp_store: writes N policies through braid-cp's REST API over keep-alive
// connections from several threads, then lists them all page by page, and prints the figures.
//   cp_store_load --port P [--count 10000] [--connections 4] [--mesh default]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// A minimal keep-alive HTTP/1.1 client: enough for a benchmark against our own server.
class Connection {
 public:
  explicit Connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() { ::close(fd_); }

  // Sends one request and returns the status; the body goes to `body`.
  int request(const std::string& method, const std::string& path, const std::string& payload,
              std::string& body) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!payload.empty() || method == "PUT") {
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(payload.size()) +
             "\r\n";
    }
    req += "\r\n" + payload;
    for (size_t sent = 0; sent < req.size();) {
      ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return -1;
      sent += static_cast<size_t>(n);
    }
    // Read the head, then Content-Length bytes.
    size_t headEnd;
    while ((headEnd = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return -1;
    }
    int status = std::atoi(buffer_.c_str() + 9);
    size_t length = 0;
    std::string head = buffer_.substr(0, headEnd);
    for (char& c : head) c = static_cast<char>(std::tolower(c));
    if (auto p = head.find("content-length:"); p != std::string::npos) {
      length = std::strtoul(head.c_str() + p + 15, nullptr, 10);
    }
    while (buffer_.size() < headEnd + 4 + length) {
      if (!fill()) return -1;
    }
    body = buffer_.substr(headEnd + 4, length);
    buffer_.erase(0, headEnd + 4 + length);
    return status;
  }

 private:
  bool fill() {
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int fd_;
  std::string buffer_;
};

std::string policy(const std::string& mesh, int i) {
  return R"({"type":"MeshTimeout","mesh":")" + mesh + R"(","name":"timeout-)" + std::to_string(i) +
         R"(","spec":{"targetRef":{"kind":"MeshService","name":"svc-)" + std::to_string(i % 100) +
         R"("},"to":[{"targetRef":{"kind":"Mesh"},"default":{"connectionTimeout":"2s","http":{"requestTimeout":"5s"}}}]}})";
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, count = 10000, connections = 4;
  std::string mesh = "default";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port")
      port = std::atoi(argv[i + 1]);
    else if (flag == "--count")
      count = std::atoi(argv[i + 1]);
    else if (flag == "--connections")
      connections = std::atoi(argv[i + 1]);
    else if (flag == "--mesh")
      mesh = argv[i + 1];
  }
  if (port == 0) {
    std::fprintf(stderr, "usage: cp_store_load --port P [--count N] [--connections C]\n");
    return 2;
  }
  std::string body;
  {
    Connection c(port);
    int s = c.request("PUT", "/meshes/" + mesh, R"({"type":"Mesh","name":")" + mesh + "\"}", body);
    if (s != 200 && s != 201) {
      std::fprintf(stderr, "creating the mesh failed: %d %s\n", s, body.c_str());
      return 1;
    }
  }

  std::atomic<int> next{0}, failures{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&] {
      Connection c(port);
      std::string b;
      for (int i = next++; i < count; i = next++) {
        int s = c.request("PUT", "/meshes/" + mesh + "/meshtimeouts/timeout-" + std::to_string(i),
                          policy(mesh, i), b);
        if (s != 201 && s != 200) {
          if (failures++ == 0) std::fprintf(stderr, "write failed: %d %s\n", s, b.c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double writeSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // List everything, following pages of the API's maximum size.
  Connection c(port);
  auto listStart = std::chrono::steady_clock::now();
  int listed = 0, pages = 0;
  for (int offset = 0;; offset += 1000) {
    int s = c.request(
        "GET", "/meshes/" + mesh + "/meshtimeouts?size=1000&offset=" + std::to_string(offset), "",
        body);
    if (s != 200) {
      std::fprintf(stderr, "list failed: %d\n", s);
      return 1;
    }
    ++pages;
    size_t pos = 0;
    int items = 0;
    while ((pos = body.find("\"type\":\"MeshTimeout\"", pos)) != std::string::npos) {
      ++items;
      ++pos;
    }
    listed += items;
    if (body.find("\"next\":null") != std::string::npos) break;
  }
  double listSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - listStart).count();

  std::printf("writes=%d failures=%d connections=%d write_seconds=%.3f writes_per_second=%.0f\n",
              count, failures.load(), connections, writeSeconds, count / writeSeconds);
  std::printf("listed=%d pages=%d list_ms=%.1f\n", listed, pages, listSeconds * 1000);
  return failures.load() == 0 && listed >= count ? 0 : 1;
}
