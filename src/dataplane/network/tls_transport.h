#pragma once

// The TLS record layer of one StreamSocket: an OpenSSL SSL reading and writing the socket's file
// descriptor directly. StreamSocket turns its results into event arming; this class only talks
// to OpenSSL and keeps the thread's error queue clean. Loop thread only.

#include <cstddef>
#include <string>

typedef struct ssl_st SSL;

namespace braid::dataplane::network {

class TlsTransport {
 public:
  enum class Result { kOk, kWantRead, kWantWrite, kEof, kError };

  // Takes ownership of `ssl` (its connect or accept state already set).
  TlsTransport(SSL* ssl, int fd);
  ~TlsTransport();
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  Result handshake();
  // One SSL_read / SSL_write; `count` gets the bytes moved.
  Result read(void* data, size_t size, size_t& count);
  Result write(const void* data, size_t size, size_t& count);
  // Sends close_notify (once); best effort.
  void shutdown();
  // Decrypted or received bytes OpenSSL holds: the socket will not signal them.
  bool hasPending() const;

  SSL* ssl() const { return ssl_; }
  // Why the last kError happened: OpenSSL's reason (and the verification error), never data.
  const std::string& error() const { return error_; }
  // The last handshake failed because the peer sent no certificate.
  bool noPeerCertificate() const { return noPeerCertificate_; }

 private:
  Result classify(int ret);

  SSL* ssl_;
  std::string error_;
  bool noPeerCertificate_ = false;
  bool shutdownSent_ = false;
};

}  // namespace braid::dataplane::network
