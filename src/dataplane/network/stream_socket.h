#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "dataplane/network/pipe_pool.h"
#include "dataplane/network/unique_fd.h"

struct event;
struct event_base;
struct evbuffer;
typedef struct ssl_st SSL;

namespace braid::dataplane::network {

class TlsTransport;

// A connected non-blocking TCP socket with its read and write events and an output buffer of
// bytes waiting to be written. Reads go straight into a caller's evbuffer (normally the peer's
// output) and writes come straight out of the output buffer, so bytes are never copied between
// the two kernel calls. For bulk transfers an output pipe can be attached: bytes then go from the
// reading socket into the pipe and from the pipe to this socket with splice(), never entering
// user space; they are written after those already in the output buffer.
//
// A socket can also carry TLS (startTls): reads then return decrypted bytes and the output buffer
// holds plaintext that is encrypted on the way out; the handler is called as before (and during
// the handshake whenever the handshake can go on). TLS sockets never splice. The plaintext path
// pays one predictable branch for this. Loop thread only.
class StreamSocket {
 public:
  class Handler {
   public:
    virtual void onReadable(StreamSocket& socket) = 0;
    virtual void onWritable(StreamSocket& socket) = 0;

   protected:
    ~Handler() = default;
  };

  // kOutputFull: spliceInto() found no room in the destination's pipe.
  enum class Io { kOk, kWouldBlock, kEof, kError, kOutputFull };

  // Starts with reading disabled.
  StreamSocket(event_base* base, UniqueFd fd, Handler& handler);
  ~StreamSocket();
  StreamSocket(const StreamSocket&) = delete;
  StreamSocket& operator=(const StreamSocket&) = delete;

  // One read of at most `max` bytes, appended to `into`; `count` gets the bytes read. kEof marks
  // the socket read-closed and stops read events.
  Io readInto(evbuffer* into, size_t max, size_t& count);
  // One splice of what fits into `to`'s output pipe; `count` gets the bytes moved. Needs
  // to.hasOutputPipe(). kEof and kError as readInto().
  Io spliceInto(StreamSocket& to, size_t& count);
  // Writes the output buffer, then the output pipe, until both are empty or the socket is full;
  // the write event is armed exactly while bytes remain. `count` gets the bytes written.
  Io flush(size_t& count);
  // shutdown(SHUT_WR): the peer reads EOF after the bytes already written. With TLS a
  // close_notify goes first.
  bool shutdownWrite();
  // Stops every event and hands the descriptor over (another object carries the connection on);
  // this socket is inert afterwards. Plaintext sockets only.
  UniqueFd releaseFd();
  // Up to `size` bytes the kernel holds for reading, left there (MSG_PEEK). kEof: the peer closed
  // with nothing to read.
  Io peek(void* data, size_t size, size_t& count);

  // TLS from now on (nothing read or written yet): `ssl` is owned by the socket, its accept or
  // connect state set. The handshake runs through handshake() calls.
  void startTls(SSL* ssl);
  // Advances the handshake: kOk once it is complete, kWouldBlock while it waits for the socket
  // (the handler's onReadable/onWritable say when to call again), kError (tlsError() says why).
  Io handshake();
  bool isTls() const { return tls_ != nullptr; }
  SSL* ssl() const;
  const std::string& tlsError() const;
  // The last handshake failed because the peer presented no certificate.
  bool tlsNoPeerCertificate() const;

  void setReadEnabled(bool enabled);
  bool readEnabled() const { return readEnabled_; }
  bool writePending() const { return writeArmed_; }
  bool readClosed() const { return readClosed_; }
  bool writeClosed() const { return writeClosed_; }
  evbuffer* output() const { return output_; }
  // Bytes waiting to be written: output buffer and output pipe.
  size_t outputLength() const;

  void attachOutputPipe(std::unique_ptr<Pipe> pipe) { pipe_ = std::move(pipe); }
  bool hasOutputPipe() const { return pipe_ != nullptr; }
  // Hands the pipe back (nullptr when none); `empty` tells whether it holds no bytes.
  std::unique_ptr<Pipe> detachOutputPipe(bool& empty);
  int error() const { return error_; }  // errno of the last kError
  // Bytes the kernel holds for reading (FIONREAD); 0 also when unknown.
  size_t inputAvailable() const;

 private:
  static void onRead(int fd, short what, void* arg);
  static void onWrite(int fd, short what, void* arg);
  void setWriteArmed(bool armed);
  Io flushPipe(size_t& count);
  // The TLS variants.
  void onTlsEvent(bool readable);
  Io readTls(evbuffer* into, size_t max, size_t& count);
  Io flushTls(size_t& count);
  // Adds or removes the events to match what reading, writing and OpenSSL wait for; with `kick`,
  // runs the read callback once if OpenSSL holds input the socket will not signal.
  void syncTlsEvents(bool kick);

  UniqueFd fd_;
  Handler& handler_;
  struct event* readEvent_ = nullptr;
  struct event* writeEvent_ = nullptr;
  evbuffer* output_ = nullptr;
  std::unique_ptr<Pipe> pipe_;
  size_t pipeBytes_ = 0;  // bytes in pipe_
  bool readEnabled_ = false;
  bool writeArmed_ = false;
  bool readClosed_ = false;
  bool writeClosed_ = false;
  int error_ = 0;
  // TLS only.
  enum class HandshakeWait { kNone, kRead, kWrite };
  std::unique_ptr<TlsTransport> tls_;
  bool handshaking_ = false;
  HandshakeWait handshakeWait_ = HandshakeWait::kNone;
  bool readWantsWrite_ = false;  // an SSL_read waits for the socket to be writable
  bool writeWantsRead_ = false;  // an SSL_write waits for the socket to be readable
  bool eofPending_ = false;      // EOF seen after bytes that were returned first
  bool readEventOn_ = false;
  bool writeEventOn_ = false;
};

}  // namespace braid::dataplane::network
