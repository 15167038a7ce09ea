#include "dataplane/network/listener.h"

#include <event2/event.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/log.h"
#include "dataplane/network/socket_ops.h"

namespace braid::dataplane::network {
namespace {

// Connections accepted per wake-up, so that one busy listener cannot starve the worker's other
// sockets; the level-triggered event brings us back for the rest.
constexpr int kAcceptBatch = 64;
// Out of file descriptors: the pending connection stays readable, so accepting again at once
// would spin. Pause instead.
constexpr timeval kResumeDelay{0, 100 * 1000};

}  // namespace

Listener::Listener(event_base* base, UniqueFd socket, AcceptHandler handler)
    : socket_(std::move(socket)), handler_(std::move(handler)) {
  acceptEvent_ = event_new(base, socket_.get(), EV_READ | EV_PERSIST, &Listener::onReadable, this);
  resumeTimer_ = evtimer_new(base, &Listener::onResume, this);
  if (acceptEvent_ == nullptr || resumeTimer_ == nullptr || event_add(acceptEvent_, nullptr) != 0) {
    if (acceptEvent_ != nullptr) event_free(acceptEvent_);
    if (resumeTimer_ != nullptr) event_free(resumeTimer_);
    throw std::runtime_error("cannot register a listening socket");
  }
}

Listener::~Listener() {
  event_free(acceptEvent_);
  event_free(resumeTimer_);
}

void Listener::onReadable(int, short, void* arg) { static_cast<Listener*>(arg)->acceptBatch(); }

void Listener::onResume(int, short, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  event_add(self->acceptEvent_, nullptr);
}

void Listener::acceptBatch() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    int fd = ::accept4(socket_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        log::warn("accept paused", {{"error", std::strerror(errno)}});
        event_del(acceptEvent_);
        evtimer_add(resumeTimer_, &kResumeDelay);
        return;
      }
      log::warn("accept failed", {{"error", std::strerror(errno)}});
      return;
    }
    setNoDelay(fd);
    setKeepAlive(fd);
    handler_(UniqueFd(fd));
  }
}

}  // namespace braid::dataplane::network
