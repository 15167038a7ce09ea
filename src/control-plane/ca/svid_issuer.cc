// Workload certificates (X.509-SVIDs) for dataplanes' CSRs. Only the CSR's public key is used:
// what the certificate says is decided here (KUMA_FACTS: "Istio's CA ignores the SANs a CSR asks
// for and issues the caller's authenticated identity").
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "control-plane/ca/mesh_ca_internal.h"

namespace braid::ca {
namespace {

constexpr size_t kMaxNameEntry = 64;  // ub-common-name and ub-organization-name (RFC 5280)

struct ReqDeleter {
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

bool isP256(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC") != 1) return false;
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) return false;
  return std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0;
}

bool setTime(ASN1_TIME* field, TimePoint t) {
  return ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(t)) != nullptr;
}

bool addNameEntry(X509_NAME* name, const char* field, const std::string& value) {
  std::string cut = value.substr(0, kMaxNameEntry);
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(cut.c_str()), -1, -1,
                                    0) == 1;
}

bool addExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// The one URI SAN, built as an object so that nothing in the ID is read as config syntax.
bool addUriSan(X509* cert, const std::string& uri) {
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(sk_GENERAL_NAME_new_null());
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (!names || name == nullptr || text == nullptr ||
      ASN1_STRING_set(text, uri.data(), static_cast<int>(uri.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(text);
    return false;
  }
  GENERAL_NAME_set0_value(name, GEN_URI, text);
  if (sk_GENERAL_NAME_push(names.get(), name) <= 0) {
    GENERAL_NAME_free(name);
    return false;
  }
  // Critical would be required only with an empty subject (RFC 5280 4.2.1.6); ours has one.
  return X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

}  // namespace

PkeyPtr csrPublicKey(const std::string& csrPem, std::string& error) {
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(csrPem.data(), static_cast<int>(csrPem.size())));
  std::unique_ptr<X509_REQ, ReqDeleter> req(
      bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!req) {
    error = takeOpensslError("the CSR is not a PEM certificate request");
    return nullptr;
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr) {
    error = takeOpensslError("the CSR's public key cannot be read");
    return nullptr;
  }
  if (!isP256(key)) {
    takeOpensslError("");
    error = "the CSR's key is not an ECDSA P-256 key";
    return nullptr;
  }
  // Proof that the caller holds the private key; also rejects a CSR altered after signing.
  if (X509_REQ_verify(req.get(), key) != 1) {
    error = takeOpensslError("the CSR's signature does not verify");
    return nullptr;
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
    error = takeOpensslError("the CSR's public key is invalid");
    return nullptr;
  }
  EVP_PKEY_up_ref(key);
  return PkeyPtr(key);
}

X509Ptr issueSvid(const LoadedCa& ca, EVP_PKEY* subjectKey, const SvidSpec& spec,
                  std::string& error) {
  X509Ptr cert(X509_new());
  X509_NAME* subject = cert ? X509_get_subject_name(cert.get()) : nullptr;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca.cert.get(), cert.get(), nullptr, nullptr, 0);
  bool ok =
      subject != nullptr && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
      setRandomSerial(cert.get()) && setTime(X509_getm_notBefore(cert.get()), spec.notBefore) &&
      setTime(X509_getm_notAfter(cert.get()), spec.notAfter) &&
      addNameEntry(subject, "O", spec.mesh) && addNameEntry(subject, "CN", spec.service) &&
      X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.cert.get())) == 1 &&
      X509_set_pubkey(cert.get(), subjectKey) == 1 &&
      addExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
      addExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature") &&
      addExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth") &&
      addExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash") &&
      addExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always") &&
      addUriSan(cert.get(), spec.spiffeId) && X509_sign(cert.get(), ca.key.get(), EVP_sha256()) > 0;
  if (!ok) {
    error = takeOpensslError("cannot issue the certificate for " + spec.spiffeId);
    return nullptr;
  }
  return cert;
}

}  // namespace braid::ca
