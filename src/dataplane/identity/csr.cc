#include "dataplane/identity/csr.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace braid::dataplane {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Req = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string opensslError(const std::string& what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return what + ": " + buf;
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

}  // namespace

bool generateKeyAndCsr(const std::string& commonName, KeyAndCsr& out, std::string& error) {
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) {
    error = opensslError("cannot generate a P-256 key");
    return false;
  }
  Req req(X509_REQ_new());
  X509_NAME* name = req ? X509_REQ_get_subject_name(req.get()) : nullptr;
  if (!req || !name || X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1,
                                 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    error = opensslError("cannot build the certificate signing request");
    return false;
  }
  Bio keyBio(BIO_new(BIO_s_mem()));
  Bio reqBio(BIO_new(BIO_s_mem()));
  if (!keyBio || !reqBio ||
      PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1 ||
      PEM_write_bio_X509_REQ(reqBio.get(), req.get()) != 1) {
    error = opensslError("cannot encode the key or the request");
    return false;
  }
  out.privateKeyPem = bioText(keyBio.get());
  out.csrPem = bioText(reqBio.get());
  return true;
}

}  // namespace braid::dataplane
