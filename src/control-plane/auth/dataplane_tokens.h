#pragma once

// Dataplane tokens (KUMA_FACTS "Dataplane tokens"): an ES256 JWT naming the mesh and dataplane it
// admits, signed by one of the mesh's signing keys, checked when a dataplane's stream opens.
// Keys and revocations live in the store under internal types that the REST API does not expose:
//   {type "DataplaneTokenSigningKey", mesh, name "dataplane-token-signing-key-N"}
//       content {"key": PKCS#8 PEM of a P-256 key}
//   {type "DataplaneTokenRevocations", mesh, name "revocations"}  content {"ids": [jti, …]}
// Tokens and keys are secrets: nothing here logs them, and errors never quote them.

#include <cstdint>
#include <map>
#include <string>

#include "control-plane/store/store.h"

namespace braid::auth {

inline constexpr char kSigningKeyType[] = "DataplaneTokenSigningKey";
inline constexpr char kRevocationsType[] = "DataplaneTokenRevocations";
inline constexpr char kSigningKeyPrefix[] = "dataplane-token-signing-key-";
inline constexpr char kRevocationsName[] = "revocations";
inline constexpr int64_t kClockSkewSeconds = 60;

struct DataplaneTokenClaims {
  std::string mesh, name;                   // who may use it
  std::map<std::string, std::string> tags;  // optional; informational for now
  std::string id;                           // jti: 128-bit random, hex
  std::string keyId;                        // kid: the signing key's name
  int64_t issuedAt = 0, expiresAt = 0;      // unix seconds
};

class DataplaneTokens {
 public:
  explicit DataplaneTokens(store::Store& store);

  // Signs an ES256 JWT (header {"alg":"ES256","typ":"JWT","kid":…}; claims {"iss":"braid-cp",
  // "mesh","name","tags"(only if non-empty),"jti","iat","exp"}) with the mesh's newest signing key,
  // creating key "dataplane-token-signing-key-1" for the mesh on first use. validFor > 0 seconds.
  bool issue(const std::string& mesh, const std::string& name,
             const std::map<std::string, std::string>& tags, int64_t validForSeconds,
             std::string& token, std::string& error);
  // Checks format, alg == ES256 (anything else, incl. "none"/HS256, refused), the signature with
  // the key named by kid among the token's mesh's keys (so a token of mesh A never verifies with
  // mesh B's key), expiry (60 s clock skew allowed), and that jti is not revoked. error says which.
  bool verify(const std::string& token, DataplaneTokenClaims& claims, std::string& error);
  // The same at an explicit time (unix seconds), for tests of expiry.
  bool verify(const std::string& token, DataplaneTokenClaims& claims, std::string& error,
              int64_t nowSeconds);

  bool revoke(const std::string& mesh, const std::string& tokenId, std::string& error);
  // Adds key N+1 (new tokens use it; tokens of older keys still verify until those are removed).
  bool rotateSigningKey(const std::string& mesh, std::string& newKeyId, std::string& error);
  bool removeSigningKey(const std::string& mesh, const std::string& keyId, std::string& error);

 private:
  // The number N of the mesh's newest key (0 when it has none); false when the store failed.
  bool newestKeyNumber(const std::string& mesh, int64_t& number, std::string& error);
  // Stores a new key numbered `number`; `created` is false when another writer made that number
  // first. False only on a store or crypto error.
  bool addKey(const std::string& mesh, int64_t number, bool& created, std::string& error);
  bool isRevoked(const std::string& mesh, const std::string& tokenId, bool& revoked,
                 std::string& error);

  store::Store& store_;
};

// The N of "dataplane-token-signing-key-N" (N ≥ 1, no leading zeros), else 0.
int64_t signingKeyNumber(const std::string& keyName);

}  // namespace braid::auth
