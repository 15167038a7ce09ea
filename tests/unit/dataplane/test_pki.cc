#include "test_pki.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <stdexcept>

namespace braid::dataplane::test_pki {
namespace {

void require(bool ok, const char* step) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + step + " failed");
}

std::string toPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  require(PEM_write_bio_X509(bio, cert) == 1, "writing a certificate");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  return pem;
}

std::string toPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  require(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "writing a key");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  return pem;
}

EVP_PKEY* parseKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  require(key != nullptr, "reading a key");
  return key;
}

void addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  require(extension != nullptr, "making an extension");
  require(X509_add_ext(cert, extension, -1) == 1, "adding an extension");
  X509_EXTENSION_free(extension);
}

long nextSerial() {
  static std::atomic<long> serial{1000};
  return ++serial;
}

X509* newCert(const std::string& commonName, EVP_PKEY* key, long notBefore, long notAfter) {
  X509* cert = X509_new();
  require(cert != nullptr, "allocating a certificate");
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), nextSerial());
  X509_gmtime_adj(X509_getm_notBefore(cert), notBefore);
  X509_gmtime_adj(X509_getm_notAfter(cert), notAfter);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1, 0);
  require(X509_set_pubkey(cert, key) == 1, "setting the public key");
  return cert;
}

}  // namespace

Ca::Ca(const std::string& name) {
  key_ = EVP_EC_gen("P-256");
  require(key_ != nullptr, "generating a CA key");
  cert_ = newCert(name, key_, -3600, 86400);
  X509_set_issuer_name(cert_, X509_get_subject_name(cert_));
  addExtension(cert_, cert_, NID_basic_constraints, "critical,CA:TRUE");
  addExtension(cert_, cert_, NID_key_usage, "critical,keyCertSign,cRLSign");
  addExtension(cert_, cert_, NID_subject_key_identifier, "hash");
  require(X509_sign(cert_, key_, EVP_sha256()) > 0, "signing the CA");
  certPem_ = toPem(cert_);
}

Ca::~Ca() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
}

Leaf Ca::issue(const LeafOptions& options) const {
  EVP_PKEY* key = options.keyPem.empty() ? EVP_EC_gen("P-256") : parseKey(options.keyPem);
  require(key != nullptr, "generating a leaf key");
  X509* cert = newCert("leaf", key, options.notBeforeSeconds, options.notAfterSeconds);
  X509_set_issuer_name(cert, X509_get_subject_name(cert_));
  if (!options.uris.empty()) {
    GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
    for (const auto& uri : options.uris) {
      GENERAL_NAME* name = GENERAL_NAME_new();
      ASN1_IA5STRING* text = ASN1_IA5STRING_new();
      ASN1_STRING_set(text, uri.data(), static_cast<int>(uri.size()));
      GENERAL_NAME_set0_value(name, GEN_URI, text);
      sk_GENERAL_NAME_push(names, name);
    }
    require(X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_APPEND) == 1,
            "adding the SANs");
    GENERAL_NAMES_free(names);
  }
  addExtension(cert, cert_, NID_basic_constraints,
               options.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  addExtension(cert, cert_, NID_key_usage,
               options.ca ? "critical,digitalSignature,keyCertSign"
                          : "critical,digitalSignature,keyAgreement");
  addExtension(cert, cert_, NID_ext_key_usage, "serverAuth,clientAuth");
  addExtension(cert, cert_, NID_authority_key_identifier, "keyid");
  require(X509_sign(cert, key_, EVP_sha256()) > 0, "signing a leaf");
  Leaf leaf{toPem(cert), toPem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return leaf;
}

Leaf Ca::svid(const std::string& service, const std::string& trustDomain) const {
  LeafOptions options;
  options.uris = {"spiffe://" + trustDomain + "/" + service};
  return issue(options);
}

WorkloadIdentityPtr makeIdentity(const Ca& ca, const std::vector<std::string>& services,
                                 const std::string& backend, const std::string& trustDomain) {
  auto identity = std::make_shared<WorkloadIdentity>();
  identity->backend = backend;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  require(key != nullptr, "generating the workload key");
  identity->privateKeyPem = toPem(key);
  EVP_PKEY_free(key);
  for (const auto& service : services) {
    LeafOptions options;
    options.uris = {"spiffe://" + trustDomain + "/" + service};
    options.keyPem = identity->privateKeyPem;
    identity->certChainPemByService[service] = ca.issue(options).certPem;
  }
  identity->notBefore = std::chrono::system_clock::now() - std::chrono::minutes(5);
  identity->notAfter = std::chrono::system_clock::now() + std::chrono::hours(1);
  return identity;
}

std::vector<std::string> uriSans(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace braid::dataplane::test_pki
