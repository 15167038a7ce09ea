#include "control-plane/auth/dataplane_tokens.h"

#include <chrono>
#include <limits>

#include "common/json.h"
#include "control-plane/auth/jws.h"

namespace braid::auth {
namespace {

constexpr char kIssuer[] = "braid-cp";
constexpr int kWriteAttempts = 8;  // read-modify-write retries on a concurrent writer

std::string keyName(int64_t number) { return kSigningKeyPrefix + std::to_string(number); }

store::Key signingKey(const std::string& mesh, const std::string& name) {
  return {kSigningKeyType, mesh, name};
}

store::Key revocationsKey(const std::string& mesh) {
  return {kRevocationsType, mesh, kRevocationsName};
}

int64_t nowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool readInt(const Json& object, const char* field, int64_t& value) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_number_integer()) return false;
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return false;
  }
  value = it->get<int64_t>();
  return true;
}

bool readString(const Json& object, const char* field, std::string& value) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) return false;
  value = it->get<std::string>();
  return !value.empty();
}

// Decodes one base64url part holding a JSON object.
bool decodeObject(const std::string& part, Json& object) {
  std::string text;
  if (!jws::base64UrlDecode(part, text)) return false;
  object = Json::parse(text, nullptr, false);
  return !object.is_discarded() && object.is_object();
}

bool readClaims(const Json& payload, DataplaneTokenClaims& claims) {
  std::string issuer;
  if (!readString(payload, "iss", issuer) || issuer != kIssuer) return false;
  if (!readString(payload, "mesh", claims.mesh) || !readString(payload, "name", claims.name) ||
      !readString(payload, "jti", claims.id) || !readInt(payload, "iat", claims.issuedAt) ||
      !readInt(payload, "exp", claims.expiresAt)) {
    return false;
  }
  claims.tags.clear();
  auto tags = payload.find("tags");
  if (tags == payload.end()) return true;
  if (!tags->is_object()) return false;
  for (const auto& [key, value] : tags->items()) {
    if (!value.is_string()) return false;
    claims.tags[key] = value.get<std::string>();
  }
  return true;
}

// The PEM in a signing key record's content.
jws::PkeyPtr keyFromContent(const std::string& content, std::string& error) {
  Json doc = Json::parse(content, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("key") || !doc["key"].is_string()) {
    error = "signing key record is malformed";
    return nullptr;
  }
  return jws::parseP256PrivateKeyPem(doc["key"].get<std::string>(), error);
}

bool readRevokedIds(const std::string& content, Json& ids) {
  Json doc = Json::parse(content, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("ids") || !doc["ids"].is_array()) {
    return false;
  }
  ids = doc["ids"];
  return true;
}

bool containsId(const Json& ids, const std::string& id) {
  for (const auto& entry : ids) {
    if (entry.is_string() && entry.get<std::string>() == id) return true;
  }
  return false;
}

}  // namespace

int64_t signingKeyNumber(const std::string& name) {
  const std::string prefix = kSigningKeyPrefix;
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  std::string digits = name.substr(prefix.size());
  if (digits.size() > 18 || digits[0] == '0') return 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
  }
  return std::stoll(digits);
}

DataplaneTokens::DataplaneTokens(store::Store& store) : store_(store) {}

bool DataplaneTokens::newestKeyNumber(const std::string& mesh, int64_t& number,
                                      std::string& error) {
  store::ListResult keys = store_.list({.type = kSigningKeyType, .mesh = mesh});
  if (keys.error) {
    error = "reading signing keys failed: " + keys.error.message;
    return false;
  }
  number = 0;
  for (const auto& record : keys.records) {
    number = std::max(number, signingKeyNumber(record.key.name));
  }
  return true;
}

bool DataplaneTokens::addKey(const std::string& mesh, int64_t number, bool& created,
                             std::string& error) {
  jws::PkeyPtr key = jws::generateP256Key(error);
  if (!key) return false;
  std::string pem = jws::privateKeyToPem(key.get());
  if (pem.empty()) {
    error = "encoding the signing key failed";
    return false;
  }
  Json content = {{"key", pem}};
  store::PutResult put = store_.put(signingKey(mesh, keyName(number)), content.dump(), 0);
  if (put.error && put.error.code != store::ErrorCode::kConflict) {
    error = "storing the signing key failed: " + put.error.message;
    return false;
  }
  created = !put.error;
  return true;
}

bool DataplaneTokens::issue(const std::string& mesh, const std::string& name,
                            const std::map<std::string, std::string>& tags, int64_t validForSeconds,
                            std::string& token, std::string& error) {
  if (mesh.empty() || name.empty()) {
    error = "mesh and name are required";
    return false;
  }
  int64_t now = nowUnixSeconds();
  if (validForSeconds <= 0 || validForSeconds > std::numeric_limits<int64_t>::max() - now) {
    error = "validity must be a positive number of seconds";
    return false;
  }
  int64_t number = 0;
  store::GetResult record;
  for (int attempt = 0; attempt < kWriteAttempts && !record.record; ++attempt) {
    if (!newestKeyNumber(mesh, number, error)) return false;
    if (number == 0) {
      // First token of the mesh: create key-1 (a concurrent issuer may win; then use its key).
      bool created = false;
      if (!addKey(mesh, 1, created, error)) return false;
      continue;
    }
    // A miss means the key was removed in between: look again for the newest.
    record = store_.get(signingKey(mesh, keyName(number)));
    if (record.error && record.error.code != store::ErrorCode::kNotFound) {
      error = "reading the signing key failed: " + record.error.message;
      return false;
    }
  }
  if (!record.record) {
    error = "no signing key for mesh " + mesh;
    return false;
  }
  jws::PkeyPtr key = keyFromContent(record.record->content, error);
  if (!key) return false;
  std::string jti = jws::randomHex(16);
  if (jti.empty()) {
    error = "random number generator failed";
    return false;
  }
  Json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", keyName(number)}};
  Json claims = {{"iss", kIssuer}, {"mesh", mesh}, {"name", name}};
  if (!tags.empty()) claims["tags"] = tags;
  claims["jti"] = jti;
  claims["iat"] = now;
  claims["exp"] = now + validForSeconds;
  std::string input =
      jws::base64UrlEncode(header.dump()) + "." + jws::base64UrlEncode(claims.dump());
  std::string signature;
  if (!jws::signEs256(key.get(), input, signature, error)) return false;
  token = input + "." + jws::base64UrlEncode(signature);
  return true;
}

bool DataplaneTokens::verify(const std::string& token, DataplaneTokenClaims& claims,
                             std::string& error) {
  return verify(token, claims, error, nowUnixSeconds());
}

bool DataplaneTokens::verify(const std::string& token, DataplaneTokenClaims& claims,
                             std::string& error, int64_t nowSeconds) {
  size_t first = token.find('.');
  size_t second = first == std::string::npos ? first : token.find('.', first + 1);
  if (second == std::string::npos || token.find('.', second + 1) != std::string::npos) {
    error = "malformed token: expected three dot-separated parts";
    return false;
  }
  Json header;
  if (!decodeObject(token.substr(0, first), header)) {
    error = "malformed token: unreadable header";
    return false;
  }
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != "ES256") {
    error = "unsupported token algorithm: only ES256 is accepted";
    return false;
  }
  std::string keyId;
  if (!readString(header, "kid", keyId) || signingKeyNumber(keyId) == 0) {
    error = "malformed token: missing or unknown key id";
    return false;
  }
  Json payload;
  DataplaneTokenClaims read;
  if (!decodeObject(token.substr(first + 1, second - first - 1), payload) ||
      !readClaims(payload, read)) {
    error = "malformed token: unreadable claims";
    return false;
  }
  std::string signature;
  if (!jws::base64UrlDecode(token.substr(second + 1), signature)) {
    error = "malformed token: unreadable signature";
    return false;
  }
  // The key is looked up in the mesh the token claims, so a token only ever verifies with a key
  // of its own mesh.
  store::GetResult record = store_.get(signingKey(read.mesh, keyId));
  if (record.error && record.error.code != store::ErrorCode::kNotFound) {
    error = "reading the signing key failed: " + record.error.message;
    return false;
  }
  if (!record.record) {
    error = "token signed with a key that mesh " + read.mesh + " does not have";
    return false;
  }
  jws::PkeyPtr key = keyFromContent(record.record->content, error);
  if (!key) return false;
  if (!jws::verifyEs256(key.get(), token.substr(0, second), signature)) {
    error = "invalid token signature";
    return false;
  }
  if (nowSeconds > read.expiresAt + kClockSkewSeconds) {
    error = "token expired";
    return false;
  }
  if (read.issuedAt > nowSeconds + kClockSkewSeconds) {
    error = "token issued in the future";
    return false;
  }
  bool revoked = false;
  if (!isRevoked(read.mesh, read.id, revoked, error)) return false;
  if (revoked) {
    error = "token revoked";
    return false;
  }
  read.keyId = keyId;
  claims = std::move(read);
  return true;
}

bool DataplaneTokens::isRevoked(const std::string& mesh, const std::string& tokenId, bool& revoked,
                                std::string& error) {
  store::GetResult record = store_.get(revocationsKey(mesh));
  revoked = false;
  if (record.error && record.error.code != store::ErrorCode::kNotFound) {
    error = "reading revocations failed: " + record.error.message;
    return false;
  }
  if (!record.record) return true;
  Json ids;
  if (!readRevokedIds(record.record->content, ids)) {
    error = "revocations record is malformed";
    return false;
  }
  revoked = containsId(ids, tokenId);
  return true;
}

bool DataplaneTokens::revoke(const std::string& mesh, const std::string& tokenId,
                             std::string& error) {
  if (mesh.empty() || tokenId.empty()) {
    error = "mesh and token id are required";
    return false;
  }
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    store::GetResult current = store_.get(revocationsKey(mesh));
    if (current.error && current.error.code != store::ErrorCode::kNotFound) {
      error = "reading revocations failed: " + current.error.message;
      return false;
    }
    Json ids = Json::array();
    int64_t expected = 0;
    if (current.record) {
      if (!readRevokedIds(current.record->content, ids)) {
        error = "revocations record is malformed";
        return false;
      }
      expected = current.record->version;
    }
    if (containsId(ids, tokenId)) return true;
    ids.push_back(tokenId);
    Json content = {{"ids", ids}};
    store::PutResult put = store_.put(revocationsKey(mesh), content.dump(), expected);
    if (!put.error) return true;
    if (put.error.code != store::ErrorCode::kConflict) {
      error = "storing revocations failed: " + put.error.message;
      return false;
    }
  }
  error = "storing revocations failed: too many concurrent writers";
  return false;
}

bool DataplaneTokens::rotateSigningKey(const std::string& mesh, std::string& newKeyId,
                                       std::string& error) {
  if (mesh.empty()) {
    error = "mesh is required";
    return false;
  }
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    int64_t number = 0;
    if (!newestKeyNumber(mesh, number, error)) return false;
    bool created = false;
    if (!addKey(mesh, number + 1, created, error)) return false;
    if (created) {
      newKeyId = keyName(number + 1);
      return true;
    }
  }
  error = "storing the signing key failed: too many concurrent writers";
  return false;
}

bool DataplaneTokens::removeSigningKey(const std::string& mesh, const std::string& keyId,
                                       std::string& error) {
  if (signingKeyNumber(keyId) == 0) {
    error = "not a signing key name: " + keyId;
    return false;
  }
  store::DeleteResult removed = store_.remove(signingKey(mesh, keyId), std::nullopt);
  if (removed.error.code == store::ErrorCode::kNotFound) {
    error = "mesh " + mesh + " has no signing key " + keyId;
    return false;
  }
  if (removed.error) {
    error = "removing the signing key failed: " + removed.error.message;
    return false;
  }
  return true;
}

}  // namespace braid::auth
