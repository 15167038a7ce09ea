#include "common/http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>

#include "common/http/request_parser.h"
#include "common/http/response_writer.h"
#include "common/http/url.h"
#include "common/log.h"

namespace braid::http {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 16 * 1024;
// After an error or "Connection: close" we stop writing and drain what the client still sends for
// a moment, so that closing with unread bytes does not reset the connection and destroy the
// response before the client has read it.
constexpr auto kLingerTime = std::chrono::milliseconds(1000);
constexpr size_t kLingerBytes = 256 * 1024;
// Once stop() has begun, a response still being written gets this long to drain.
constexpr auto kStopWriteTime = std::chrono::milliseconds(1000);

int millisUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

std::string addressText(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
  }
  return text;
}

void drainAndForget(int fd) {
  char sink[4096];
  while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
  }
}

// Half-closes, then reads and discards until the peer closes too (or a short time passes).
void lingeringClose(int fd) {
  shutdown(fd, SHUT_WR);
  const auto deadline = Clock::now() + kLingerTime;
  size_t drained = 0;
  char sink[4096];
  while (drained < kLingerBytes) {
    const ssize_t n = recv(fd, sink, sizeof(sink), 0);
    if (n > 0) {
      drained += static_cast<size_t>(n);
      continue;
    }
    if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return;
    const int wait = millisUntil(deadline);
    if (wait == 0) return;
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, wait);
  }
}

}  // namespace

struct Server::Impl {
  struct Connection {
    int fd = -1;
    std::string remoteAddress;
    std::thread thread;
    std::atomic<bool> finished{false};
  };

  enum class ReadStatus { kData, kClosed, kTimeout, kStopped };

  explicit Impl(ServerOptions o) : options(std::move(o)) {}

  bool bindAndListen(std::string& error);
  void acceptLoop();
  void admit(int fd, const sockaddr_storage& peer);
  void reapFinished();
  void serve(Connection& connection);
  ReadStatus readSome(int fd, Clock::time_point deadline, std::string& out) const;
  bool writeAll(int fd, std::string_view data) const;
  Response dispatch(ParsedRequest&& parsed, const std::string& remoteAddress) const;
  std::optional<Response> screen(const ParsedRequest& head, const std::string& remoteAddress) const;

  ServerOptions options;
  int listenFd = -1;
  int wakeRead = -1;  // readable (forever) once stop() has begun: wakes every poll()
  int wakeWrite = -1;
  uint16_t boundPort = 0;
  std::atomic<bool> stopping{false};
  std::mutex controlMutex;  // start() / stop()
  bool started = false;
  bool stopped = false;
  std::thread acceptThread;
  std::mutex mutex;  // guards connections
  std::list<Connection> connections;
};

bool Server::Impl::bindAndListen(std::string& error) {
  std::string host;
  uint16_t port = 0;
  if (!splitHostPort(options.address, host, port)) {
    error = "invalid address \"" + options.address + "\": want HOST:PORT";
    return false;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* results = nullptr;
  const std::string service = std::to_string(port);
  const int rc =
      getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &results);
  if (rc != 0) {
    error = "cannot resolve \"" + host + "\": " + gai_strerror(rc);
    return false;
  }
  error = "no usable address for \"" + options.address + "\"";
  for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
      error = "cannot listen on " + options.address + ": " + std::strerror(errno);
      close(fd);
      continue;
    }
    listenFd = fd;
    break;
  }
  freeaddrinfo(results);
  if (listenFd < 0) return false;

  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(listenFd, reinterpret_cast<sockaddr*>(&bound), &length);
  boundPort = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    close(listenFd);
    listenFd = -1;
    return false;
  }
  wakeRead = pipeFds[0];
  wakeWrite = pipeFds[1];
  error.clear();
  return true;
}

void Server::Impl::acceptLoop() {
  while (!stopping.load()) {
    pollfd fds[2] = {{listenFd, POLLIN, 0}, {wakeRead, POLLIN, 0}};
    // The timeout only paces the reaping of finished connection threads.
    const int ready = poll(fds, 2, 1000);
    if (stopping.load()) return;
    reapFinished();
    if (ready <= 0 || (fds[0].revents & POLLIN) == 0) continue;
    sockaddr_storage peer{};
    socklen_t length = sizeof(peer);
    const int fd = accept4(listenFd, reinterpret_cast<sockaddr*>(&peer), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors (or memory): back off instead of spinning on a ready listener.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        log::warn("http accept failed", {{"error", std::strerror(errno)}});
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      continue;
    }
    admit(fd, peer);
  }
}

void Server::Impl::admit(int fd, const sockaddr_storage& peer) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (connections.size() < static_cast<size_t>(std::max(options.maxConnections, 0))) {
      Connection& connection = connections.emplace_back();
      connection.fd = fd;
      connection.remoteAddress = addressText(peer);
      try {
        connection.thread = std::thread([this, &connection] {
          serve(connection);
          close(connection.fd);
          connection.finished.store(true);
        });
        return;
      } catch (const std::system_error& e) {
        // No thread to be had (e.g. a pids limit): refuse this connection, keep serving others.
        log::warn("http: cannot start a connection thread", {{"error", e.what()}});
        connections.pop_back();
      }
    }
  }
  // Over the limit: a fresh socket's send buffer is empty, so this short write cannot block.
  const std::string busy = serializeResponse(errorResponse(503, "too many connections"),
                                             ResponseFraming{false, true, false});
  const ssize_t sent = send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)sent;
  shutdown(fd, SHUT_WR);
  drainAndForget(fd);
  close(fd);
}

void Server::Impl::reapFinished() {
  std::list<Connection> done;
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = connections.begin(); it != connections.end();) {
      auto current = it++;
      if (current->finished.load()) done.splice(done.end(), connections, current);
    }
  }
  for (Connection& connection : done) connection.thread.join();
}

Server::Impl::ReadStatus Server::Impl::readSome(int fd, Clock::time_point deadline,
                                                std::string& out) const {
  char chunk[kReadChunk];
  while (true) {
    const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      out.assign(chunk, static_cast<size_t>(n));
      return ReadStatus::kData;
    }
    if (n == 0) return ReadStatus::kClosed;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return ReadStatus::kClosed;
    const int wait = millisUntil(deadline);
    if (wait == 0) return ReadStatus::kTimeout;
    pollfd fds[2] = {{fd, POLLIN, 0}, {wakeRead, POLLIN, 0}};
    if (poll(fds, 2, wait) < 0 && errno != EINTR) return ReadStatus::kClosed;
    if (fds[1].revents != 0) return ReadStatus::kStopped;
  }
}

bool Server::Impl::writeAll(int fd, std::string_view data) const {
  Clock::time_point stopDeadline{};
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    int wait = std::clamp(options.idleTimeoutSeconds, 1, 86400) * 1000;
    nfds_t count = 2;
    if (stopping.load()) {
      // A client that does not read must not hold up stop(): give it a bounded grace period.
      if (stopDeadline == Clock::time_point{}) stopDeadline = Clock::now() + kStopWriteTime;
      wait = millisUntil(stopDeadline);
      count = 1;
      if (wait == 0) return false;
    }
    pollfd fds[2] = {{fd, POLLOUT, 0}, {wakeRead, POLLIN, 0}};
    const int ready = poll(fds, count, wait);
    if (ready == 0) return false;
    if (ready < 0 && errno != EINTR) return false;
  }
  return true;
}

std::optional<Response> Server::Impl::screen(const ParsedRequest& head,
                                             const std::string& remoteAddress) const {
  if (!options.screenHead) return std::nullopt;
  Request request;
  request.method = head.method;
  request.target = head.target;
  request.headers = head.headers;
  request.remoteAddress = remoteAddress;
  request.fromLoopback = isLoopbackAddress(remoteAddress);
  try {
    return options.screenHead(request);
  } catch (const std::exception& e) {
    log::error("http head screen threw", {{"error", e.what()}});
    return errorResponse(500, "internal error");
  }
}

Response Server::Impl::dispatch(ParsedRequest&& parsed, const std::string& remoteAddress) const {
  Request request;
  request.method = std::move(parsed.method);
  request.target = std::move(parsed.target);
  const size_t question = request.target.find('?');
  const std::string_view rawPath = std::string_view(request.target).substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  // The router splits the decoded path on '/': an encoded slash or NUL would change its meaning.
  std::string escapes(rawPath);
  std::transform(escapes.begin(), escapes.end(), escapes.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  if (escapes.find("%2f") != std::string::npos || escapes.find("%00") != std::string::npos ||
      !percentDecode(rawPath, request.path)) {
    return errorResponse(400, "invalid escape in path");
  }
  request.headers = std::move(parsed.headers);
  request.body = std::move(parsed.body);
  request.remoteAddress = remoteAddress;
  request.fromLoopback = isLoopbackAddress(remoteAddress);
  if (!options.handler) return errorResponse(404, "no handler");
  try {
    Response response = options.handler(request);
    if (response.status < 200 || response.status > 599 || !hasValidHeaders(response)) {
      log::error("http handler returned an invalid response",
                 {{"method", request.method},
                  {"path", request.path},
                  {"status", std::to_string(response.status)}});
      return errorResponse(500, "internal error");
    }
    return response;
  } catch (const std::exception& e) {
    log::error("http handler threw",
               {{"method", request.method}, {"path", request.path}, {"error", e.what()}});
  } catch (...) {
    log::error("http handler threw", {{"method", request.method}, {"path", request.path}});
  }
  return errorResponse(500, "internal error");
}

void Server::Impl::serve(Connection& connection) {
  const int fd = connection.fd;
  RequestParser parser(
      ParserLimits{options.maxHeaderBytes, options.maxHeaders, options.maxBodyBytes});
  const auto idle = std::chrono::seconds(std::clamp(options.idleTimeoutSeconds, 1, 86400));
  // A request's head must arrive within one idle period of its first byte, however slowly it
  // trickles in; bodies only need to keep moving.
  Clock::time_point headDeadline{};
  std::string chunk;
  while (true) {
    switch (parser.next()) {
      case RequestParser::Event::kNeedMore: {
        if (stopping.load()) return;  // idle, or a request not yet complete: nothing to finish
        auto deadline = Clock::now() + idle;
        if (parser.readingHead()) {
          if (headDeadline == Clock::time_point{}) headDeadline = deadline;
          deadline = std::min(deadline, headDeadline);
        }
        switch (readSome(fd, deadline, chunk)) {
          case ReadStatus::kData:
            parser.feed(chunk);
            break;
          case ReadStatus::kTimeout:
            if (!parser.idle()) {
              const std::string out =
                  serializeResponse(errorResponse(408, "request not received in time"),
                                    ResponseFraming{false, true, false});
              if (writeAll(fd, out)) lingeringClose(fd);
            }
            return;
          case ReadStatus::kClosed:
          case ReadStatus::kStopped:
            return;
        }
        break;
      }
      case RequestParser::Event::kHead:
        headDeadline = Clock::time_point{};
        if (auto refusal = screen(parser.request(), connection.remoteAddress)) {
          const std::string out = serializeResponse(
              *refusal, ResponseFraming{parser.request().method == "HEAD", true, false});
          if (writeAll(fd, out)) lingeringClose(fd);
          return;
        }
        if (parser.request().expectContinue && parser.request().expectsBody() &&
            !writeAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
          return;
        }
        break;
      case RequestParser::Event::kRequest: {
        ParsedRequest parsed = parser.takeRequest();
        const bool head = parsed.method == "HEAD";
        const bool http10 = parsed.minorVersion == 0;
        const bool keepAlive = parsed.keepAlive;
        Response response = dispatch(std::move(parsed), connection.remoteAddress);
        const bool close = !keepAlive || stopping.load();
        const std::string out =
            serializeResponse(response, ResponseFraming{head, close, !close && http10});
        if (!writeAll(fd, out)) return;
        if (close) {
          lingeringClose(fd);
          return;
        }
        break;
      }
      case RequestParser::Event::kError: {
        const ParseError& error = parser.error();
        log::debug("http request refused", {{"remote", connection.remoteAddress},
                                            {"status", std::to_string(error.status)},
                                            {"reason", error.reason}});
        const std::string out = serializeResponse(errorResponse(error.status, error.reason),
                                                  ResponseFraming{false, true, false});
        if (writeAll(fd, out)) lingeringClose(fd);
        return;
      }
    }
  }
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { stop(); }

bool Server::start(std::string& error) {
  std::lock_guard<std::mutex> lock(impl_->controlMutex);
  if (impl_->started) {
    error = "server already started";
    return false;
  }
  if (!impl_->bindAndListen(error)) return false;
  impl_->started = true;
  impl_->acceptThread = std::thread([impl = impl_.get()] { impl->acceptLoop(); });
  return true;
}

uint16_t Server::port() const { return impl_->boundPort; }

void Server::stop() {
  std::lock_guard<std::mutex> lock(impl_->controlMutex);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping.store(true);
  const char wake = 1;
  const ssize_t written = write(impl_->wakeWrite, &wake, 1);
  (void)written;
  impl_->acceptThread.join();
  close(impl_->listenFd);
  impl_->listenFd = -1;
  // No thread adds connections any more; each one left finishes its request and exits.
  std::list<Impl::Connection> remaining;
  {
    std::lock_guard<std::mutex> connectionsLock(impl_->mutex);
    remaining.splice(remaining.end(), impl_->connections);
  }
  for (auto& connection : remaining) connection.thread.join();
  close(impl_->wakeRead);
  close(impl_->wakeWrite);
  impl_->wakeRead = impl_->wakeWrite = -1;
}

}  // namespace braid::http
