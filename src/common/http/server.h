#pragma once

// A small, strict HTTP/1.1 server for the control plane's REST API. Requests are parsed by
// http/request_parser.h (strict: smuggling vectors are refused with 400 and the connection is
// closed). Handlers run on the connection's thread and may block (store calls).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/http/headers.h"

namespace braid::http {

struct Request {
  std::string method;  // "GET"
  std::string target;  // "/meshes/default/dataplanes?offset=0&size=10" as sent
  std::string path;    // "/meshes/default/dataplanes", percent-decoded
  std::string query;   // "offset=0&size=10", raw
  Headers headers;     // names lowercased, in order received
  std::string body;
  std::string remoteAddress;  // "127.0.0.1"
  bool fromLoopback = false;

  // The first header of that (lowercase) name, or "".
  std::string header(const std::string& name) const;
  // The first query parameter of that name, percent-decoded, or `fallback`.
  std::string queryParam(const std::string& name, const std::string& fallback = "") const;
  bool hasQueryParam(const std::string& name) const;
};

struct Response {
  int status = 200;
  Headers headers;  // Content-Length and Connection are added by the server
  std::string body;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body);
};

using Handler = std::function<Response(const Request&)>;

// Called once a request's head has arrived, before its body is read (and before any
// `100 Continue`), with method, target, headers and the peer set (no path, query or body).
// Returning a response refuses the request with it and closes the connection: so that, for
// example, an unauthenticated client cannot make the server buffer a large body.
using HeadScreen = std::function<std::optional<Response>(const Request&)>;

struct ServerOptions {
  std::string address = "127.0.0.1:0";  // HOST:PORT; port 0 picks a free port
  Handler handler;
  HeadScreen screenHead = nullptr;  // optional
  size_t maxHeaderBytes = 60 * 1024;
  size_t maxHeaders = 100;
  size_t maxBodyBytes = 8 * 1024 * 1024;
  int idleTimeoutSeconds = 60;
  int maxConnections = 512;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting; false with `error` set if the address cannot be bound.
  bool start(std::string& error);
  uint16_t port() const;  // the bound port (after start)
  // Stops accepting, closes idle connections, waits for in-flight requests to finish.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace braid::http
