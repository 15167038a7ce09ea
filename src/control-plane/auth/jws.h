#pragma once

// The JWS pieces dataplane tokens need: base64url without padding, P-256 keys as PKCS#8 PEM, and
// ES256 signatures in JWS form (raw 64-byte r||s, not OpenSSL's DER). Failing OpenSSL calls empty
// the thread's error queue so no stale error leaks into later calls.

#include <openssl/evp.h>

#include <memory>
#include <string>

namespace braid::auth::jws {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

std::string base64UrlEncode(const std::string& bytes);
// Strict: only the URL-safe alphabet, no padding, no whitespace, canonical trailing bits.
bool base64UrlDecode(const std::string& text, std::string& bytes);

PkeyPtr generateP256Key(std::string& error);
std::string privateKeyToPem(EVP_PKEY* key);  // PKCS#8, unencrypted; "" on failure
// Only an unencrypted P-256 key is accepted (never prompts for a passphrase).
PkeyPtr parseP256PrivateKeyPem(const std::string& pem, std::string& error);

// The 64-byte r||s ES256 signature of `input` (SHA-256 digest).
bool signEs256(EVP_PKEY* key, const std::string& input, std::string& signature, std::string& error);
bool verifyEs256(EVP_PKEY* key, const std::string& input, const std::string& signature);

std::string randomHex(size_t bytes);  // "" when the RNG fails

}  // namespace braid::auth::jws
