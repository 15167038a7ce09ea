#pragma once

#include <functional>

#include "dataplane/network/unique_fd.h"

struct event;
struct event_base;

namespace braid::dataplane::network {

// Accepts connections on one listening socket of one worker. Destroying it closes the socket
// (connections already accepted are not affected). Loop thread only.
class Listener {
 public:
  // Receives each accepted socket: non-blocking, close-on-exec, TCP_NODELAY set.
  using AcceptHandler = std::function<void(UniqueFd)>;

  Listener(event_base* base, UniqueFd socket, AcceptHandler handler);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

 private:
  static void onReadable(int fd, short what, void* arg);
  static void onResume(int fd, short what, void* arg);
  void acceptBatch();

  UniqueFd socket_;
  AcceptHandler handler_;
  struct event* acceptEvent_ = nullptr;
  struct event* resumeTimer_ = nullptr;  // re-enables accepting after running out of fds
};

}  // namespace braid::dataplane::network
