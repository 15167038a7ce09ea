#pragma once

// OpenSSL 3 helpers for the certificates braid-cp makes: owning pointers, P-256 keys, PEM text,
// subject alternative names and issuing a CA or server certificate. Every failing call drains the
// thread's OpenSSL error queue into its error text, so no stale error leaks to later calls.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace braid::ca {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

using TimePoint = std::chrono::system_clock::time_point;

// Empties this thread's OpenSSL error queue; returns the reason of its last entry, or `fallback`.
std::string takeOpensslError(const std::string& fallback);

PkeyPtr generateP256Key(std::string& error);

// The first certificate / private key in PEM text. A passphrase-protected key is an error (there is
// never a prompt).
X509Ptr parseCertPem(const std::string& pem, std::string& error);
PkeyPtr parsePrivateKeyPem(const std::string& pem, std::string& error);
std::string certToPem(X509* cert);
std::string privateKeyToPem(EVP_PKEY* key);  // PKCS#8, unencrypted

// A SAN in comparable text form: "IP:<inet_ntop form>" for an IPv4 or IPv6 literal (brackets and
// an IPv6 zone are allowed), else "DNS:<lower-case name>". "" when `host` is no usable name.
std::string canonicalSan(const std::string& host);
// The SANs of `cert` in that form, in certificate order (an unsupported kind gives "OTHER").
std::vector<std::string> certSans(X509* cert);

// Validity bounds; false when the certificate's times cannot be read.
bool certValidity(const X509* cert, TimePoint& notBefore, TimePoint& notAfter);

// Sets a random, non-zero 128-bit serial number (RFC 5280: positive, at most 20 octets).
bool setRandomSerial(X509* cert);

struct CertSpec {
  std::string commonName;
  bool isCa = false;              // CA: CA:TRUE pathlen:0, keyCertSign+cRLSign, self-signed
  std::vector<std::string> sans;  // leaf only, canonicalSan form
  TimePoint notBefore;
  TimePoint notAfter;
};

// Issues a certificate for `subjectKey` with a random 128-bit serial, signed with SHA-256. A CA is
// self-signed (`issuer` and `issuerKey` are ignored); a leaf is a TLS server certificate signed by
// `issuer` with `issuerKey`.
X509Ptr issueCert(const CertSpec& spec, EVP_PKEY* subjectKey, X509* issuer, EVP_PKEY* issuerKey,
                  std::string& error);

}  // namespace braid::ca
