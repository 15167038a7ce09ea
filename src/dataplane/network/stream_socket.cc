#include "dataplane/network/stream_socket.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace braid::dataplane::network {
namespace {

// Chains handed to one sendmsg(); the output rarely holds more than a few.
constexpr int kMaxWriteChains = 16;

}  // namespace

StreamSocket::StreamSocket(event_base* base, UniqueFd fd, Handler& handler)
    : fd_(std::move(fd)), handler_(handler) {
  readEvent_ = event_new(base, fd_.get(), EV_READ | EV_PERSIST, &StreamSocket::onRead, this);
  writeEvent_ = event_new(base, fd_.get(), EV_WRITE | EV_PERSIST, &StreamSocket::onWrite, this);
  output_ = evbuffer_new();
  if (readEvent_ == nullptr || writeEvent_ == nullptr || output_ == nullptr) {
    if (readEvent_ != nullptr) event_free(readEvent_);
    if (writeEvent_ != nullptr) event_free(writeEvent_);
    if (output_ != nullptr) evbuffer_free(output_);
    throw std::runtime_error("cannot set up a connection's events");
  }
}

StreamSocket::~StreamSocket() {
  event_free(readEvent_);
  event_free(writeEvent_);
  evbuffer_free(output_);
}

void StreamSocket::onRead(int, short, void* arg) {
  auto* self = static_cast<StreamSocket*>(arg);
  self->handler_.onReadable(*self);
}

void StreamSocket::onWrite(int, short, void* arg) {
  auto* self = static_cast<StreamSocket*>(arg);
  self->handler_.onWritable(*self);
}

StreamSocket::Io StreamSocket::readInto(evbuffer* into, size_t max, size_t& count) {
  count = 0;
  // Reserve the space in the destination and let the kernel fill it: one buffer allocation at
  // most, no copy. (evbuffer_read would also ask FIONREAD first and cap reads at 4 KiB.)
  evbuffer_iovec space[2];
  int chunks = evbuffer_reserve_space(into, static_cast<ev_ssize_t>(max), space, 2);
  if (chunks <= 0) {
    error_ = ENOMEM;
    return Io::kError;
  }
  iovec vectors[2];
  for (int i = 0; i < chunks; ++i) {
    vectors[i].iov_base = space[i].iov_base;
    vectors[i].iov_len = std::min(space[i].iov_len, max);
    max -= vectors[i].iov_len;
  }
  ssize_t n;
  do {
    // One vector is the usual case: recv() skips readv's iovec import.
    n = chunks == 1 ? ::recv(fd_.get(), vectors[0].iov_base, vectors[0].iov_len, 0)
                    : ::readv(fd_.get(), vectors, chunks);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    evbuffer_commit_space(into, space, 0);
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWouldBlock;
    error_ = errno;
    return Io::kError;
  }
  if (n == 0) {
    evbuffer_commit_space(into, space, 0);
    readClosed_ = true;
    setReadEnabled(false);
    return Io::kEof;
  }
  size_t left = static_cast<size_t>(n);
  int used = 0;
  for (; used < chunks && left > 0; ++used) {
    space[used].iov_len = std::min(vectors[used].iov_len, left);
    left -= space[used].iov_len;
  }
  evbuffer_commit_space(into, space, used);
  count = static_cast<size_t>(n);
  return Io::kOk;
}

StreamSocket::Io StreamSocket::spliceInto(StreamSocket& to, size_t& count) {
  count = 0;
  size_t room = to.pipe_->capacity() - std::min(to.pipe_->capacity(), to.pipeBytes_);
  if (room == 0) return Io::kOutputFull;
  ssize_t n;
  do {
    n = ::splice(fd_.get(), nullptr, to.pipe_->writeFd(), nullptr, room,
                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    // With bytes already in the pipe, EAGAIN means the pipe is full (its slots hold socket
    // buffers of any size, so the byte count cannot tell).
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return to.pipeBytes_ > 0 ? Io::kOutputFull : Io::kWouldBlock;
    }
    error_ = errno;
    return Io::kError;
  }
  if (n == 0) {
    readClosed_ = true;
    setReadEnabled(false);
    return Io::kEof;
  }
  to.pipeBytes_ += static_cast<size_t>(n);
  count = static_cast<size_t>(n);
  return Io::kOk;
}

std::unique_ptr<Pipe> StreamSocket::detachOutputPipe(bool& empty) {
  empty = pipeBytes_ == 0;
  pipeBytes_ = 0;
  return std::move(pipe_);
}

StreamSocket::Io StreamSocket::flushPipe(size_t& count) {
  while (pipeBytes_ > 0) {
    // Worker threads block SIGPIPE: splice() has no MSG_NOSIGNAL.
    ssize_t n = ::splice(pipe_->readFd(), nullptr, fd_.get(), nullptr, pipeBytes_,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWouldBlock;
      error_ = errno;
      return Io::kError;
    }
    pipeBytes_ -= static_cast<size_t>(n);
    count += static_cast<size_t>(n);
  }
  return Io::kOk;
}

StreamSocket::Io StreamSocket::flush(size_t& count) {
  count = 0;
  while (evbuffer_get_length(output_) > 0) {
    evbuffer_iovec chains[kMaxWriteChains];
    int n = evbuffer_peek(output_, -1, nullptr, chains, kMaxWriteChains);
    n = std::min(n, kMaxWriteChains);
    iovec vectors[kMaxWriteChains];
    size_t offered = 0;
    for (int i = 0; i < n; ++i) {
      vectors[i].iov_base = chains[i].iov_base;
      vectors[i].iov_len = chains[i].iov_len;
      offered += chains[i].iov_len;
    }
    // MSG_NOSIGNAL: a peer that went away is an error to handle, not a SIGPIPE. One chain is
    // the usual case: send() skips sendmsg's header and iovec import.
    ssize_t written;
    if (n == 1) {
      written =
          ::send(fd_.get(), vectors[0].iov_base, vectors[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      msghdr message{};
      message.msg_iov = vectors;
      message.msg_iovlen = static_cast<size_t>(n);
      written = ::sendmsg(fd_.get(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      error_ = errno;
      setWriteArmed(false);
      return Io::kError;
    }
    evbuffer_drain(output_, static_cast<size_t>(written));
    count += static_cast<size_t>(written);
    if (static_cast<size_t>(written) < offered) break;  // the socket is full
  }
  if (evbuffer_get_length(output_) == 0 && pipeBytes_ > 0 && flushPipe(count) == Io::kError) {
    setWriteArmed(false);
    return Io::kError;
  }
  bool remaining = outputLength() > 0;
  setWriteArmed(remaining);
  return remaining ? Io::kWouldBlock : Io::kOk;
}

bool StreamSocket::shutdownWrite() {
  writeClosed_ = true;
  if (::shutdown(fd_.get(), SHUT_WR) != 0) {
    error_ = errno;
    return false;
  }
  return true;
}

void StreamSocket::setReadEnabled(bool enabled) {
  if (enabled == readEnabled_ || (enabled && readClosed_)) return;
  readEnabled_ = enabled;
  if (enabled) {
    event_add(readEvent_, nullptr);
  } else {
    event_del(readEvent_);
  }
}

void StreamSocket::setWriteArmed(bool armed) {
  if (armed == writeArmed_) return;
  writeArmed_ = armed;
  if (armed) {
    event_add(writeEvent_, nullptr);
  } else {
    event_del(writeEvent_);
  }
}

size_t StreamSocket::inputAvailable() const {
  int available = 0;
  if (::ioctl(fd_.get(), FIONREAD, &available) != 0 || available < 0) return 0;
  return static_cast<size_t>(available);
}

size_t StreamSocket::outputLength() const { return evbuffer_get_length(output_) + pipeBytes_; }

}  // namespace braid::dataplane::network
