#include "dataplane/network/tls_transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace braid::dataplane::network {

TlsTransport::TlsTransport(SSL* ssl, int fd) : ssl_(ssl) {
  if (SSL_set_fd(ssl_, fd) != 1) {
    ERR_clear_error();
    SSL_free(ssl_);
    throw std::runtime_error("cannot attach TLS to a socket");
  }
}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

TlsTransport::Result TlsTransport::classify(int ret) {
  int code = SSL_get_error(ssl_, ret);
  switch (code) {
    case SSL_ERROR_WANT_READ:
      return Result::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Result::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      // close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a TCP close without one.
      ERR_clear_error();
      return Result::kEof;
    case SSL_ERROR_SYSCALL: {
      int saved = errno;
      unsigned long queued = ERR_peek_error();
      ERR_clear_error();
      if (queued == 0 && saved == 0) {
        error_ = "connection closed in the middle of a record";
        return Result::kError;
      }
      const char* reason = queued != 0 ? ERR_reason_error_string(queued) : nullptr;
      error_ = reason != nullptr ? reason : queued != 0 ? "TLS error" : std::strerror(saved);
      return Result::kError;
    }
    default: {
      unsigned long queued = ERR_peek_error();
      const char* reason = queued != 0 ? ERR_reason_error_string(queued) : nullptr;
      error_ = reason != nullptr ? reason : "TLS error";
      noPeerCertificate_ = queued != 0 && ERR_GET_LIB(queued) == ERR_LIB_SSL &&
                           ERR_GET_REASON(queued) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
      long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        error_ += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      }
      ERR_clear_error();
      return Result::kError;
    }
  }
}

TlsTransport::Result TlsTransport::handshake() {
  int ret = SSL_do_handshake(ssl_);
  return ret == 1 ? Result::kOk : classify(ret);
}

TlsTransport::Result TlsTransport::read(void* data, size_t size, size_t& count) {
  count = 0;
  int ret = SSL_read_ex(ssl_, data, size, &count);
  return ret == 1 ? Result::kOk : classify(ret);
}

TlsTransport::Result TlsTransport::write(const void* data, size_t size, size_t& count) {
  count = 0;
  int ret = SSL_write_ex(ssl_, data, size, &count);
  return ret == 1 ? Result::kOk : classify(ret);
}

void TlsTransport::shutdown() {
  if (shutdownSent_) return;
  shutdownSent_ = true;
  // 0 (sent, the peer's not received yet) is the expected answer; the reading side goes on
  // until the peer's close_notify or EOF.
  if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
}

bool TlsTransport::hasPending() const { return SSL_has_pending(ssl_) == 1; }

}  // namespace braid::dataplane::network
