#include "unit/common/test_svid_certs.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace braid::spiffe::test {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct ExtensionDeleter {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};

void require(bool ok, const char* step) {
  if (!ok) throw std::runtime_error(std::string("makeTestCert: ") + step + " failed");
}

void addName(GENERAL_NAMES* names, int type, const std::string& value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  require(name != nullptr && text != nullptr, "allocating a SAN");
  require(ASN1_STRING_set(text, value.data(), static_cast<int>(value.size())) == 1,
          "setting a SAN");
  GENERAL_NAME_set0_value(name, type, text);
  require(sk_GENERAL_NAME_push(names, name) > 0, "adding a SAN");
}

// X509_add_ext (not X509_add1_ext_i2d) so that a repeated extension really is written twice.
void addConfExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtensionDeleter> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  require(ext != nullptr, "parsing an extension value");
  require(X509_add_ext(cert, ext.get(), -1) == 1, "adding an extension");
}

}  // namespace

X509Ptr makeTestCert(const TestCertSpec& spec) {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_EC_gen("P-256"));
  require(key != nullptr, "generating a P-256 key");
  X509Ptr cert(X509_new());
  require(cert != nullptr, "allocating the certificate");
  require(X509_set_version(cert.get(), X509_VERSION_3) == 1, "setting the version");
  require(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1, "setting the serial");
  require(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) != nullptr, "setting notBefore");
  require(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600) != nullptr, "setting notAfter");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  require(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("svid test"), -1, -1,
                                     0) == 1,
          "setting the subject");
  require(X509_set_issuer_name(cert.get(), subject) == 1, "setting the issuer");
  require(X509_set_pubkey(cert.get(), key.get()) == 1, "setting the public key");

  if (!spec.uris.empty() || !spec.dnsNames.empty()) {
    std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(sk_GENERAL_NAME_new_null());
    require(names != nullptr, "allocating the SANs");
    for (const auto& dns : spec.dnsNames) addName(names.get(), GEN_DNS, dns);
    for (const auto& uri : spec.uris) addName(names.get(), GEN_URI, uri);
    require(
        X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0, X509V3_ADD_APPEND) == 1,
        "adding the SANs");
  }
  for (const auto& value : spec.basicConstraints) {
    if (!value.empty()) addConfExtension(cert.get(), NID_basic_constraints, value);
  }
  for (const auto& value : spec.keyUsage) {
    if (!value.empty()) addConfExtension(cert.get(), NID_key_usage, value);
  }
  require(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signing");
  return cert;
}

}  // namespace braid::spiffe::test
