#pragma once

// HTTP/1.1 on 127.0.0.1 for the HTTP connection manager's tests: a small threaded upstream
// server whose answers a test scripts (slow, failing, big, saying who it is), and a blocking
// client that reads responses with the codec.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/http/http1_codec.h"
#include "test_support.h"

namespace braid::dataplane::http_test {

using namespace std::chrono_literals;

struct Request {
  http1::MessageHead head;
  uint64_t bodyBytes = 0;
  std::string body;  // the first 64 KiB
  std::string header(const std::string& name) const {
    for (const auto& [key, value] : head.headers) {
      if (key == name) return value;
    }
    return "";
  }
};

struct Reply {
  int status = 200;
  std::string body;
  braid::http::Headers headers;
  std::chrono::milliseconds delay{0};  // before the head is written
  uint64_t generatedBody = 0;          // instead of `body`: this many pattern bytes, streamed
  bool close = false;                  // close the connection after the response
  bool reset = false;                  // close the connection instead of answering
  // Keep-alive in name only: the connection closes when the next request's first bytes arrive
  // (an idle timeout crossing a reused connection's request, made deterministic).
  bool closeOnNextRequest = false;
  // Framing of `body`: chunked (with a trailer), or delimited by the connection's close.
  bool chunked = false;
  bool closeDelimited = false;
};

// One thread per connection; requests on a connection are answered in order.
class Upstream {
 public:
  using Handler = std::function<Reply(const Request&, int index)>;

  // `name` goes into an "x-upstream" header of every answer.
  Upstream(std::string name, Handler handler = {})
      : name_(std::move(name)), handler_(std::move(handler)) {
    fd_ = test_support::listenOn(0, 256);
    port_ = test_support::boundPort(fd_);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~Upstream() {
    stopping_ = true;
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : connections_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& thread : threads_) thread.join();
    for (int fd : connections_) close(fd);
    close(fd_);
  }
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  int requests() const { return requests_.load(); }
  // A slow reader: sleeps this long after each 64 KiB of a request body.
  void setReadPause(std::chrono::milliseconds pause) { readPause_ = pause; }
  std::vector<Request> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  void acceptLoop() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int fd = accept(fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++accepted_;
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    http1::Parser parser(http1::Parser::Kind::kRequest);
    std::string input;
    char buffer[65536];
    Request request;
    size_t consumed = 0;
    while (!stopping_) {
      input.erase(0, consumed);  // after the last event's body() was used
      std::string_view view(input);
      auto event = parser.next(view);
      consumed = input.size() - view.size();
      switch (event) {
        case http1::Parser::Event::kNeedMore: {
          ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
          if (n <= 0) return;
          input.append(buffer, static_cast<size_t>(n));
          continue;
        }
        case http1::Parser::Event::kHead:
          request = Request{};
          request.head = parser.head();
          continue;
        case http1::Parser::Event::kBody: {
          request.bodyBytes += parser.body().size();
          if (request.body.size() < 65536) request.body.append(parser.body());
          if (readPause_.count() > 0 && request.bodyBytes % 65536 < parser.body().size()) {
            std::this_thread::sleep_for(readPause_);
          }
          continue;
        }
        case http1::Parser::Event::kTrailers:
          continue;
        case http1::Parser::Event::kComplete:
          if (!answer(fd, request)) return;
          continue;
        default:
          return;
      }
    }
  }

  bool answer(int fd, const Request& request) {
    int index = requests_++;
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(request);
    }
    Reply reply = handler_ ? handler_(request, index) : Reply{};
    if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
    if (reply.reset) {
      shutdown(fd, SHUT_RDWR);
      return false;
    }
    http1::MessageHead head;
    head.status = reply.status;
    head.reason = "X";
    head.headers = reply.headers;
    head.headers.emplace_back("x-upstream", name_);
    uint64_t size = reply.generatedBody > 0 ? reply.generatedBody : reply.body.size();
    if (reply.chunked || reply.closeDelimited) {
      if (reply.chunked) head.headers.emplace_back("transfer-encoding", "chunked");
      std::string out;
      http1::appendResponseHead(head, out);
      if (reply.chunked) {
        http1::appendChunk(reply.body.substr(0, reply.body.size() / 2), out);
        http1::appendChunk(reply.body.substr(reply.body.size() / 2), out);
        http1::appendLastChunk({{"x-checksum", "42"}}, out);
      } else {
        out += reply.body;
      }
      if (!test_support::sendAll(fd, out)) return false;
      if (!reply.closeDelimited) return true;
      shutdown(fd, SHUT_WR);
      return false;
    }
    head.headers.emplace_back("content-length", std::to_string(size));
    if (reply.close) head.headers.emplace_back("connection", "close");
    std::string out;
    http1::appendResponseHead(head, out);
    if (request.head.method == "HEAD") size = 0;
    if (reply.generatedBody == 0) {
      if (request.head.method != "HEAD") out += reply.body;
      if (!test_support::sendAll(fd, out)) return false;
    } else {
      if (!test_support::sendAll(fd, out)) return false;
      const std::string piece = test_support::pattern(65536);
      for (uint64_t sent = 0; sent < size;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(piece.size(), size - sent));
        if (!test_support::sendAll(fd, piece.substr(0, n))) return false;
        sent += n;
      }
    }
    if (reply.close) {
      shutdown(fd, SHUT_WR);
      return false;
    }
    if (reply.closeOnNextRequest) {
      char byte;
      recv(fd, &byte, 1, 0);
      shutdown(fd, SHUT_RDWR);
      return false;
    }
    return true;
  }

  std::string name_;
  Handler handler_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  std::chrono::milliseconds readPause_{0};
  mutable std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
  std::vector<Request> seen_;
  std::thread acceptor_;
};

struct Response {
  bool ok = false;  // a complete response was read
  int status = 0;
  braid::http::Headers headers;
  std::string body;
  uint64_t bodyBytes = 0;
  std::string header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return "";
  }
};

// A blocking client connection (5 s timeouts).
class Client {
 public:
  explicit Client(uint16_t port) : fd_(test_support::connectTo(port)) {}
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool send(const std::string& data) { return test_support::sendAll(fd_, data); }

  // Reads one response to a request with `method` (1xx answers are skipped). Bodies beyond
  // `keep` bytes are counted, not kept.
  Response read(const std::string& method = "GET", size_t keep = 1 << 20) {
    Response response;
    http1::Parser parser(http1::Parser::Kind::kResponse);
    parser.expectResponseTo(method);
    char buffer[65536];
    bool eof = false;
    size_t consumed = 0;
    while (true) {
      input_.erase(0, consumed);  // after the last event's body() was used
      std::string_view view(input_);
      auto event = parser.next(view);
      consumed = input_.size() - view.size();
      switch (event) {
        case http1::Parser::Event::kNeedMore: {
          if (eof) return response;
          ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
          if (n < 0) return response;
          if (n == 0) {
            eof = true;
            parser.noteEof();
            continue;
          }
          input_.append(buffer, static_cast<size_t>(n));
          continue;
        }
        case http1::Parser::Event::kHead:
          response.status = parser.head().status;
          response.headers = parser.head().headers;
          continue;
        case http1::Parser::Event::kBody:
          response.bodyBytes += parser.body().size();
          if (response.body.size() < keep) response.body.append(parser.body());
          continue;
        case http1::Parser::Event::kTrailers:
          continue;
        case http1::Parser::Event::kComplete:
          if (response.status < 200) {
            response = Response{};
            continue;
          }
          response.ok = true;
          input_.erase(0, consumed);
          return response;
        default:
          return response;
      }
    }
  }

  // True when the proxy closed the connection (EOF, nothing more) within 5 s.
  bool closedByPeer() {
    if (!input_.empty()) return false;
    char byte;
    return recv(fd_, &byte, 1, 0) == 0;
  }

 private:
  int fd_;
  std::string input_;
};

inline std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: svc\r\n" + extra + "\r\n";
}

}  // namespace braid::dataplane::http_test
