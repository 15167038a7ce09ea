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

#include "dataplane/network/tls_transport.h"

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
  tls_.reset();  // before the descriptor closes
}

void StreamSocket::onRead(int, short, void* arg) {
  auto* self = static_cast<StreamSocket*>(arg);
  if (self->tls_) [[unlikely]] {
    self->onTlsEvent(true);
    return;
  }
  self->handler_.onReadable(*self);
}

void StreamSocket::onWrite(int, short, void* arg) {
  auto* self = static_cast<StreamSocket*>(arg);
  if (self->tls_) [[unlikely]] {
    self->onTlsEvent(false);
    return;
  }
  self->handler_.onWritable(*self);
}

StreamSocket::Io StreamSocket::readInto(evbuffer* into, size_t max, size_t& count) {
  if (tls_) [[unlikely]]
    return readTls(into, max, count);
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
  if (tls_) [[unlikely]]
    return flushTls(count);
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
  // The close_notify goes out right after the last bytes: the output is empty when this is
  // called, so the socket has room for its few bytes.
  if (tls_) tls_->shutdown();
  if (::shutdown(fd_.get(), SHUT_WR) != 0) {
    error_ = errno;
    return false;
  }
  return true;
}

UniqueFd StreamSocket::releaseFd() {
  event_del(readEvent_);
  event_del(writeEvent_);
  readEnabled_ = false;
  writeArmed_ = false;
  readClosed_ = true;
  writeClosed_ = true;
  return std::move(fd_);
}

void StreamSocket::setReadEnabled(bool enabled) {
  if (enabled == readEnabled_ || (enabled && readClosed_)) return;
  readEnabled_ = enabled;
  if (tls_) [[unlikely]] {
    syncTlsEvents(enabled);
    return;
  }
  if (enabled) {
    event_add(readEvent_, nullptr);
  } else {
    event_del(readEvent_);
  }
}

void StreamSocket::setWriteArmed(bool armed) {
  if (armed == writeArmed_) return;
  writeArmed_ = armed;
  if (tls_) [[unlikely]] {
    syncTlsEvents(false);
    return;
  }
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

namespace braid::dataplane::network {

StreamSocket::Io StreamSocket::peek(void* data, size_t size, size_t& count) {
  count = 0;
  ssize_t n;
  do {
    n = ::recv(fd_.get(), data, size, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWouldBlock;
    error_ = errno;
    return Io::kError;
  }
  if (n == 0) return Io::kEof;
  count = static_cast<size_t>(n);
  return Io::kOk;
}

void StreamSocket::startTls(SSL* ssl) {
  // Events go by what OpenSSL waits for too from here on; so far they follow the two flags.
  readEventOn_ = readEnabled_;
  writeEventOn_ = writeArmed_;
  tls_ = std::make_unique<TlsTransport>(ssl, fd_.get());
  handshaking_ = true;
}

SSL* StreamSocket::ssl() const { return tls_ ? tls_->ssl() : nullptr; }

const std::string& StreamSocket::tlsError() const {
  static const std::string kNone;
  return tls_ ? tls_->error() : kNone;
}

bool StreamSocket::tlsNoPeerCertificate() const { return tls_ && tls_->noPeerCertificate(); }

StreamSocket::Io StreamSocket::handshake() {
  auto result = tls_->handshake();
  handshakeWait_ = HandshakeWait::kNone;
  Io io = Io::kError;
  switch (result) {
    case TlsTransport::Result::kOk:
      handshaking_ = false;
      io = Io::kOk;
      break;
    case TlsTransport::Result::kWantRead:
      handshakeWait_ = HandshakeWait::kRead;
      io = Io::kWouldBlock;
      break;
    case TlsTransport::Result::kWantWrite:
      handshakeWait_ = HandshakeWait::kWrite;
      io = Io::kWouldBlock;
      break;
    case TlsTransport::Result::kEof:
    case TlsTransport::Result::kError:
      break;
  }
  // Application bytes may have come with the handshake's last flight.
  syncTlsEvents(io == Io::kOk);
  return io;
}

void StreamSocket::onTlsEvent(bool readable) {
  // One handler call per event: it may destroy this socket. What else is ready fires again
  // (the events are level-triggered).
  if (handshaking_) {
    readable ? handler_.onReadable(*this) : handler_.onWritable(*this);
    return;
  }
  if (readable) {
    if (writeWantsRead_) {
      writeWantsRead_ = false;
      syncTlsEvents(false);
      handler_.onWritable(*this);
    } else if (readEnabled_) {
      handler_.onReadable(*this);
    }
    return;
  }
  if (readWantsWrite_) {
    readWantsWrite_ = false;
    syncTlsEvents(false);
    handler_.onReadable(*this);
  } else if (writeArmed_) {
    handler_.onWritable(*this);
  }
}

void StreamSocket::syncTlsEvents(bool kick) {
  bool wantRead = readEnabled_ || writeWantsRead_ || handshakeWait_ == HandshakeWait::kRead;
  bool wantWrite = writeArmed_ || readWantsWrite_ || handshakeWait_ == HandshakeWait::kWrite;
  if (wantRead != readEventOn_) {
    readEventOn_ = wantRead;
    wantRead ? event_add(readEvent_, nullptr) : event_del(readEvent_);
  }
  if (wantWrite != writeEventOn_) {
    writeEventOn_ = wantWrite;
    wantWrite ? event_add(writeEvent_, nullptr) : event_del(writeEvent_);
  }
  if (kick && readEnabled_ && !handshaking_ && (eofPending_ || tls_->hasPending())) {
    event_active(readEvent_, EV_READ, 1);
  }
}

StreamSocket::Io StreamSocket::readTls(evbuffer* into, size_t max, size_t& count) {
  count = 0;
  if (eofPending_) {
    readClosed_ = true;
    setReadEnabled(false);
    return Io::kEof;
  }
  evbuffer_iovec space[2];
  int chunks = evbuffer_reserve_space(into, static_cast<ev_ssize_t>(max), space, 2);
  if (chunks <= 0) {
    error_ = ENOMEM;
    return Io::kError;
  }
  // SSL_read returns one record (16 KiB at most) per call: fill the space with several. Once
  // OpenSSL holds nothing more (read-ahead took all the socket had), stop instead of asking the
  // socket again only to hear EAGAIN: the read event is level-triggered, later bytes wake it.
  auto result = TlsTransport::Result::kOk;
  bool drained = false;
  int used = 0;
  for (int i = 0; i < chunks && max > 0 && result == TlsTransport::Result::kOk && !drained; ++i) {
    auto* base = static_cast<char*>(space[i].iov_base);
    size_t limit = std::min(space[i].iov_len, max);
    size_t filled = 0;
    while (filled < limit) {
      size_t n = 0;
      result = tls_->read(base + filled, limit - filled, n);
      if (result != TlsTransport::Result::kOk) break;
      filled += n;
      drained = !tls_->hasPending();
      if (drained) break;
    }
    space[i].iov_len = filled;
    max -= filled;
    count += filled;
    if (filled > 0) used = i + 1;
  }
  evbuffer_commit_space(into, space, used);
  switch (result) {
    case TlsTransport::Result::kOk:
    case TlsTransport::Result::kWantRead:
      break;
    case TlsTransport::Result::kWantWrite:
      readWantsWrite_ = true;
      syncTlsEvents(false);
      break;
    case TlsTransport::Result::kEof:
      if (count == 0) {
        readClosed_ = true;
        setReadEnabled(false);
        return Io::kEof;
      }
      eofPending_ = true;  // reported by the next read, which the kick below brings
      break;
    case TlsTransport::Result::kError:
      error_ = EPROTO;
      return Io::kError;
  }
  if (count == 0) return Io::kWouldBlock;
  syncTlsEvents(true);
  return Io::kOk;
}

StreamSocket::Io StreamSocket::flushTls(size_t& count) {
  count = 0;
  writeWantsRead_ = false;
  while (evbuffer_get_length(output_) > 0) {
    evbuffer_iovec chain;
    if (evbuffer_peek(output_, -1, nullptr, &chain, 1) < 1) break;
    size_t written = 0;
    auto result = tls_->write(chain.iov_base, chain.iov_len, written);
    if (result == TlsTransport::Result::kOk) {
      evbuffer_drain(output_, written);
      count += written;
      continue;
    }
    if (result == TlsTransport::Result::kWantWrite) break;
    if (result == TlsTransport::Result::kWantRead) {
      writeWantsRead_ = true;
      break;
    }
    error_ = result == TlsTransport::Result::kEof ? EPIPE : EPROTO;
    setWriteArmed(false);
    return Io::kError;
  }
  bool remaining = evbuffer_get_length(output_) > 0;
  // Waiting for readability instead: the socket is writable, so the write event would spin.
  writeArmed_ = remaining && !writeWantsRead_;
  syncTlsEvents(false);
  return remaining ? Io::kWouldBlock : Io::kOk;
}

}  // namespace braid::dataplane::network
