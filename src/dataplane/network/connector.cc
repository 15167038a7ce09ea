#include "dataplane/network/connector.h"

#include <event2/event.h>

#include <cerrno>

#include "dataplane/network/socket_ops.h"

namespace braid::dataplane::network {

Connector::Connector(event_base* base, Handler& handler) : base_(base), handler_(handler) {}

Connector::~Connector() {
  if (event_ != nullptr) event_free(event_);
}

int Connector::start(const ResolvedAddress& address, std::chrono::milliseconds timeout) {
  if (event_ != nullptr) {
    event_free(event_);
    event_ = nullptr;
  }
  socket_.reset();
  UniqueFd socket;
  if (int error = startConnect(address, socket); error != 0) return error;
  event_ = event_new(base_, socket.get(), EV_WRITE, &Connector::onEvent, this);
  if (event_ == nullptr) return ENOMEM;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  if (event_add(event_, &tv) != 0) return ENOMEM;
  socket_ = std::move(socket);
  return 0;
}

void Connector::onEvent(int fd, short what, void* arg) {
  auto* self = static_cast<Connector*>(arg);
  UniqueFd socket = std::move(self->socket_);
  // The handler may destroy this Connector: touch nothing after the call.
  if ((what & EV_TIMEOUT) != 0) {
    self->handler_.onConnectResult(Result::kTimedOut, UniqueFd(), ETIMEDOUT);
    return;
  }
  int error = socketError(fd);
  if (error != 0) {
    self->handler_.onConnectResult(Result::kFailed, UniqueFd(), error);
    return;
  }
  self->handler_.onConnectResult(Result::kConnected, std::move(socket), 0);
}

}  // namespace braid::dataplane::network
