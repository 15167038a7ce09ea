#include "common/spiffe/svid.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace braid::spiffe {
namespace {

// RFC 5280 KeyUsage bit numbers.
constexpr int kDigitalSignature = 0;
constexpr int kKeyCertSign = 5;
constexpr int kCrlSign = 6;

struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct BasicConstraintsDeleter {
  void operator()(BASIC_CONSTRAINTS* p) const { BASIC_CONSTRAINTS_free(p); }
};
struct BitStringDeleter {
  void operator()(ASN1_BIT_STRING* p) const { ASN1_BIT_STRING_free(p); }
};

// Decodes extension `nid` into `value`. False (with error) when the extension appears more than
// once or cannot be decoded: OpenSSL's own checks would then skip it, so a leaf could hide a
// CA:TRUE or a keyCertSign behind a second or malformed copy. Absent is fine (`value` stays null).
template <typename T, typename Deleter>
bool decodeExtension(X509* cert, int nid, const char* name, std::unique_ptr<T, Deleter>& value,
                     std::string& error) {
  int critical = 0;
  value.reset(static_cast<T*>(X509_get_ext_d2i(cert, nid, &critical, nullptr)));
  // X509_get_ext_d2i reports absence (-1) and repetition (-2) in `critical`; a decoding failure
  // leaves an error on the queue, which must not leak into the caller's next OpenSSL call.
  ERR_clear_error();
  if (critical == -2) {
    error = std::string("certificate has more than one ") + name + " extension";
    return false;
  }
  if (critical >= 0 && !value) {
    error = std::string("certificate has a malformed ") + name + " extension";
    return false;
  }
  return true;
}

}  // namespace

bool checkSvid(X509* leaf, const std::string& trustDomain, SpiffeId& out, std::string& error) {
  if (leaf == nullptr) {
    error = "no certificate";
    return false;
  }

  std::unique_ptr<BASIC_CONSTRAINTS, BasicConstraintsDeleter> constraints;
  if (!decodeExtension(leaf, NID_basic_constraints, "basicConstraints", constraints, error)) {
    return false;
  }
  if (constraints && constraints->ca) {
    error = "certificate is a CA";
    return false;
  }

  std::unique_ptr<ASN1_BIT_STRING, BitStringDeleter> usage;
  if (!decodeExtension(leaf, NID_key_usage, "keyUsage", usage, error)) return false;
  if (usage) {
    if (!ASN1_BIT_STRING_get_bit(usage.get(), kDigitalSignature)) {
      error = "certificate keyUsage lacks digitalSignature";
      return false;
    }
    if (ASN1_BIT_STRING_get_bit(usage.get(), kKeyCertSign)) {
      error = "certificate keyUsage has keyCertSign";
      return false;
    }
    if (ASN1_BIT_STRING_get_bit(usage.get(), kCrlSign)) {
      error = "certificate keyUsage has cRLSign";
      return false;
    }
  }

  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> sans;
  if (!decodeExtension(leaf, NID_subject_alt_name, "subjectAltName", sans, error)) return false;
  const ASN1_IA5STRING* uri = nullptr;
  int uris = 0;
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
    if (name->type != GEN_URI) continue;
    ++uris;
    uri = name->d.uniformResourceIdentifier;
  }
  if (uris == 0) {
    error = "certificate has no URI SAN";
    return false;
  }
  if (uris > 1) {
    error = "certificate has " + std::to_string(uris) + " URI SANs";
    return false;
  }
  // The length comes from the ASN.1 string, so an embedded NUL reaches parseSpiffeId and is refused
  // there instead of silently cutting the URI short.
  const std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                              static_cast<size_t>(ASN1_STRING_length(uri)));
  SpiffeId id;
  std::string why;
  if (!parseSpiffeId(text, id, why)) {
    error = "certificate URI SAN: " + why;
    return false;
  }
  if (id.trustDomain != trustDomain) {
    error = "trust domain '" + id.trustDomain + "' is not '" + trustDomain + "'";
    return false;
  }
  // X509-SVID 5.2: a leaf names a workload, so its ID has a path; only signing certificates
  // carry a bare trust domain.
  if (id.path.empty()) {
    error = "SPIFFE ID '" + id.str() + "' has no path";
    return false;
  }

  out = std::move(id);
  return true;
}

}  // namespace braid::spiffe
