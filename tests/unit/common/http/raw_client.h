#pragma once

// A blocking TCP client for the server tests: sends exact bytes and reads raw responses, so tests
// see precisely what the server put on the wire.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace braid::http::testing {

struct RawResponse {
  bool ok = false;  // a complete response was read
  int status = 0;
  std::string head;  // status line and headers, up to and including the blank line
  std::string body;

  // The first value of a header (case-insensitive name), or "".
  std::string header(std::string_view name) const {
    size_t lineStart = head.find("\r\n") + 2;
    while (lineStart < head.size()) {
      const size_t lineEnd = head.find("\r\n", lineStart);
      const std::string_view line = std::string_view(head).substr(lineStart, lineEnd - lineStart);
      const size_t colon = line.find(':');
      if (colon == name.size()) {
        bool same = true;
        for (size_t i = 0; i < colon; ++i) {
          same = same && std::tolower(static_cast<unsigned char>(line[i])) ==
                             std::tolower(static_cast<unsigned char>(name[i]));
        }
        if (same) {
          std::string_view value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
          return std::string(value);
        }
      }
      lineStart = lineEnd + 2;
    }
    return "";
  }
};

class RawClient {
 public:
  RawClient() = default;
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  ~RawClient() { close(); }

  bool connect(uint16_t port, const char* address = "127.0.0.1") {
    const bool v6 = std::string_view(address).find(':') != std::string_view::npos;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (v6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(port);
      inet_pton(AF_INET6, address, &in6->sin6_addr);
      length = sizeof(sockaddr_in6);
    } else {
      auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
      in4->sin_family = AF_INET;
      in4->sin_port = htons(port);
      inet_pton(AF_INET, address, &in4->sin_addr);
      length = sizeof(sockaddr_in);
    }
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&storage), length) == 0;
  }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until the server closes (true) or `timeout` passes (false). Everything read is returned
  // in `out`, including bytes buffered by earlier readResponse() calls.
  bool readUntilClosed(std::string& out, std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const int status = fill(deadline);
      if (status == 0) {
        out = std::move(buffer_);
        buffer_.clear();
        return true;
      }
      if (status < 0) {
        out = std::move(buffer_);
        buffer_.clear();
        return false;
      }
    }
  }

  // Reads one response; a HEAD response (or 1xx/204/304) has no body whatever it announces.
  RawResponse readResponse(bool headRequest = false, std::chrono::milliseconds timeout = kTimeout) {
    RawResponse response;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (fill(deadline) <= 0) return response;
    }
    response.head = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    if (response.head.size() < 12 || response.head.compare(0, 9, "HTTP/1.1 ") != 0) return response;
    response.status = std::stoi(response.head.substr(9, 3));
    const bool bodiless =
        headRequest || response.status < 200 || response.status == 204 || response.status == 304;
    const std::string length = response.header("Content-Length");
    const size_t size = bodiless || length.empty() ? 0 : std::stoul(length);
    while (buffer_.size() < size) {
      if (fill(deadline) <= 0) return response;
    }
    response.body = buffer_.substr(0, size);
    buffer_.erase(0, size);
    response.ok = true;
    return response;
  }

  // True if the server closed the connection (after whatever is already buffered) within `timeout`.
  bool closedByPeer(std::chrono::milliseconds timeout = kTimeout) {
    std::string rest;
    return readUntilClosed(rest, timeout) && rest.empty();
  }

  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  static constexpr std::chrono::milliseconds kTimeout{5000};

 private:
  // 1: read some bytes; 0: peer closed; -1: timeout or error.
  int fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return -1;
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0) return -1;
    if (n == 0) return 0;
    buffer_.append(chunk, static_cast<size_t>(n));
    return 1;
  }

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace braid::http::testing
