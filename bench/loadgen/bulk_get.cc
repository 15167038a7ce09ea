// braid-bulk-get: bulk TCP throughput of one large HTTP response. Fetches the URL REPEAT times,
// each on a new connection, reading the body into a 1 MiB buffer and dropping it; prints MB/s
// (10^6 bytes) of body from sending the request to the last byte, each run and the best.
//   braid-bulk-get --url http://127.0.0.1:8080/big [--repeat 3]
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "http_client.h"

namespace {

// Body bytes per second of one fetch; throws std::runtime_error on any failure.
double fetchOnce(const braid::bench::Url& url, uint64_t& bodyBytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = braid::bench::socketAddress(url);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot connect");
  }
  std::string request = braid::bench::getRequest(url);
  auto start = std::chrono::steady_clock::now();
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    throw std::runtime_error("cannot send the request");
  }
  std::vector<char> buffer(1 << 20);
  braid::bench::ResponseReader reader;
  while (true) {
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("connection ended before the body did");
    }
    size_t used = 0;
    auto step = reader.feed(std::string_view(buffer.data(), static_cast<size_t>(n)), used);
    if (step == braid::bench::ResponseReader::Step::kError) {
      ::close(fd);
      throw std::runtime_error(reader.error());
    }
    if (step == braid::bench::ResponseReader::Step::kDone) break;
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  if (reader.head().status != 200) {
    throw std::runtime_error("status " + std::to_string(reader.head().status));
  }
  bodyBytes = reader.bodyBytes();
  return static_cast<double>(bodyBytes) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"braid-bulk-get: throughput of one large HTTP response"};
  std::string url;
  int repeat = 3;
  app.add_option("--url", url, "http://IPV4:PORT/PATH")->required();
  app.add_option("--repeat", repeat, "fetches, each on a new connection")
      ->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  auto parsed = braid::bench::parseUrl(url);
  if (!parsed) {
    std::fprintf(stderr, "braid-bulk-get: --url must be http://IPV4:PORT/PATH\n");
    return 2;
  }
  double best = 0;
  for (int i = 0; i < repeat; ++i) {
    uint64_t bytes = 0;
    double rate = 0;
    try {
      rate = fetchOnce(*parsed, bytes);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "braid-bulk-get: %s: %s\n", url.c_str(), e.what());
      return 1;
    }
    std::printf("  fetch %d: %llu bytes at %.0f MB/s\n", i + 1,
                static_cast<unsigned long long>(bytes), rate / 1e6);
    best = std::max(best, rate);
  }
  std::printf("RESULT best_mbps=%.0f\n", best / 1e6);
  return 0;
}
