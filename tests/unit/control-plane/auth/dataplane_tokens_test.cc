#include "control-plane/auth/dataplane_tokens.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/json.h"
#include "control-plane/auth/jws.h"

namespace braid::auth {
namespace {

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Parts {
  std::string header, payload, signature;  // still base64url
};

Parts split(const std::string& token) {
  size_t a = token.find('.');
  size_t b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

Json decodePart(const std::string& part) {
  std::string text;
  EXPECT_TRUE(jws::base64UrlDecode(part, text));
  return Json::parse(text, nullptr, false);
}

std::string encodeJson(const Json& doc) { return jws::base64UrlEncode(doc.dump()); }

class DataplaneTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::OpenResult opened = store::openStore("memory");
    ASSERT_TRUE(opened.store) << opened.error;
    store_ = std::move(opened.store);
    tokens_ = std::make_unique<DataplaneTokens>(*store_);
  }

  std::string issue(const std::string& mesh, const std::string& name, int64_t validFor = 3600,
                    const std::map<std::string, std::string>& tags = {}) {
    std::string token, error;
    EXPECT_TRUE(tokens_->issue(mesh, name, tags, validFor, token, error)) << error;
    return token;
  }

  // Verifies and returns the error ("" on success).
  std::string refusal(const std::string& token) {
    DataplaneTokenClaims claims;
    std::string error;
    bool ok = tokens_->verify(token, claims, error);
    EXPECT_EQ(ok, error.empty());
    return ok ? "" : error;
  }

  // The mesh's key as stored, to sign forged tokens with.
  jws::PkeyPtr storedKey(const std::string& mesh, const std::string& name) {
    store::GetResult got = store_->get({kSigningKeyType, mesh, name});
    EXPECT_TRUE(got.record.has_value());
    if (!got.record) return nullptr;
    Json content = Json::parse(got.record->content, nullptr, false);
    std::string error;
    jws::PkeyPtr key = jws::parseP256PrivateKeyPem(content["key"].get<std::string>(), error);
    EXPECT_TRUE(key) << error;
    return key;
  }

  std::string sign(EVP_PKEY* key, const Json& header, const Json& payload) {
    std::string input = encodeJson(header) + "." + encodeJson(payload);
    std::string signature, error;
    EXPECT_TRUE(jws::signEs256(key, input, signature, error)) << error;
    return input + "." + jws::base64UrlEncode(signature);
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<DataplaneTokens> tokens_;
};

TEST(Base64UrlTest, RoundTripsEveryLengthAndRejectsNonCanonicalText) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    std::string decoded;
    std::string encoded = jws::base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    ASSERT_TRUE(jws::base64UrlDecode(encoded, decoded)) << encoded;
    EXPECT_EQ(decoded, bytes);
    bytes += static_cast<char>(i * 37 + 250);
  }
  EXPECT_EQ(jws::base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  EXPECT_FALSE(jws::base64UrlDecode("YQ==", out));   // padding
  EXPECT_FALSE(jws::base64UrlDecode("Y+8", out));    // standard alphabet
  EXPECT_FALSE(jws::base64UrlDecode("YWJjZ", out));  // impossible length
  EXPECT_FALSE(jws::base64UrlDecode("YR", out));     // non-zero trailing bits
  EXPECT_TRUE(jws::base64UrlDecode("YQ", out));
  EXPECT_EQ(out, "a");
}

TEST(SigningKeyNumberTest, AcceptsOnlyCanonicalNames) {
  EXPECT_EQ(signingKeyNumber("dataplane-token-signing-key-1"), 1);
  EXPECT_EQ(signingKeyNumber("dataplane-token-signing-key-12"), 12);
  EXPECT_EQ(signingKeyNumber("dataplane-token-signing-key-0"), 0);
  EXPECT_EQ(signingKeyNumber("dataplane-token-signing-key-01"), 0);
  EXPECT_EQ(signingKeyNumber("dataplane-token-signing-key-"), 0);
  EXPECT_EQ(signingKeyNumber("dataplane-token-signing-key-1x"), 0);
  EXPECT_EQ(signingKeyNumber("other-1"), 0);
}

TEST_F(DataplaneTokensTest, IssuedTokenVerifiesWithItsClaims) {
  int64_t before = nowSeconds();
  std::string token = issue("default", "backend-1", 600, {{"kuma.io/service", "backend"}});
  int64_t after = nowSeconds();

  Parts parts = split(token);
  Json header = decodePart(parts.header);
  EXPECT_EQ(header.dump(), R"({"alg":"ES256","typ":"JWT","kid":"dataplane-token-signing-key-1"})");
  Json payload = decodePart(parts.payload);
  EXPECT_EQ(payload["iss"], "braid-cp");
  std::string signature;
  ASSERT_TRUE(jws::base64UrlDecode(parts.signature, signature));
  EXPECT_EQ(signature.size(), 64u);

  DataplaneTokenClaims claims;
  std::string error;
  ASSERT_TRUE(tokens_->verify(token, claims, error)) << error;
  EXPECT_EQ(claims.mesh, "default");
  EXPECT_EQ(claims.name, "backend-1");
  EXPECT_EQ(claims.tags, (std::map<std::string, std::string>{{"kuma.io/service", "backend"}}));
  EXPECT_EQ(claims.keyId, "dataplane-token-signing-key-1");
  EXPECT_EQ(claims.id.size(), 32u);
  EXPECT_EQ(claims.id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_GE(claims.issuedAt, before);
  EXPECT_LE(claims.issuedAt, after);
  EXPECT_EQ(claims.expiresAt, claims.issuedAt + 600);

  // The key is stored as PKCS#8 PEM under the internal type.
  store::GetResult key = store_->get({kSigningKeyType, "default", claims.keyId});
  ASSERT_TRUE(key.record);
  Json content = Json::parse(key.record->content, nullptr, false);
  EXPECT_EQ(content["key"].get<std::string>().rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
}

TEST_F(DataplaneTokensTest, TagsAreOmittedWhenEmptyAndIdsAreUnique) {
  std::string first = issue("default", "web");
  std::string second = issue("default", "web");
  EXPECT_FALSE(decodePart(split(first).payload).contains("tags"));
  EXPECT_NE(decodePart(split(first).payload)["jti"], decodePart(split(second).payload)["jti"]);
}

TEST_F(DataplaneTokensTest, IssueRejectsBadArguments) {
  std::string token, error;
  EXPECT_FALSE(tokens_->issue("default", "web", {}, 0, token, error));
  EXPECT_FALSE(tokens_->issue("default", "web", {}, -5, token, error));
  EXPECT_FALSE(tokens_->issue("", "web", {}, 60, token, error));
  EXPECT_FALSE(tokens_->issue("default", "", {}, 60, token, error));
}

TEST_F(DataplaneTokensTest, TamperedPayloadIsRefused) {
  std::string token = issue("default", "web");
  Parts parts = split(token);
  Json payload = decodePart(parts.payload);
  payload["name"] = "db";
  std::string forged = parts.header + "." + encodeJson(payload) + "." + parts.signature;
  EXPECT_EQ(refusal(forged), "invalid token signature");
}

TEST_F(DataplaneTokensTest, TamperedSignatureIsRefused) {
  std::string token = issue("default", "web");
  Parts parts = split(token);
  std::string signature;
  ASSERT_TRUE(jws::base64UrlDecode(parts.signature, signature));
  signature[10] = static_cast<char>(signature[10] ^ 1);
  EXPECT_EQ(refusal(parts.header + "." + parts.payload + "." + jws::base64UrlEncode(signature)),
            "invalid token signature");
  // A signature of the wrong length, and none at all.
  EXPECT_EQ(refusal(parts.header + "." + parts.payload + "." +
                    jws::base64UrlEncode(signature.substr(0, 63))),
            "invalid token signature");
  EXPECT_EQ(refusal(parts.header + "." + parts.payload + "."), "invalid token signature");
}

TEST_F(DataplaneTokensTest, OtherAlgorithmsAreRefused) {
  std::string token = issue("default", "web");
  Parts parts = split(token);
  for (const char* alg : {"none", "HS256", "RS256", "ES384", "es256"}) {
    Json header = {{"alg", alg}, {"typ", "JWT"}, {"kid", "dataplane-token-signing-key-1"}};
    EXPECT_EQ(refusal(encodeJson(header) + "." + parts.payload + "." + parts.signature),
              "unsupported token algorithm: only ES256 is accepted")
        << alg;
    EXPECT_FALSE(refusal(encodeJson(header) + "." + parts.payload + ".").empty()) << alg;
  }
  Json noAlg = {{"typ", "JWT"}, {"kid", "dataplane-token-signing-key-1"}};
  EXPECT_FALSE(refusal(encodeJson(noAlg) + "." + parts.payload + "." + parts.signature).empty());
}

TEST_F(DataplaneTokensTest, MalformedTokensAreRefused) {
  std::string token = issue("default", "web");
  Parts parts = split(token);
  const std::string threeParts = "malformed token: expected three dot-separated parts";
  EXPECT_EQ(refusal(""), threeParts);
  EXPECT_EQ(refusal(parts.header + "." + parts.payload), threeParts);
  EXPECT_EQ(refusal(token + ".x"), threeParts);
  EXPECT_EQ(refusal("!!!." + parts.payload + "." + parts.signature),
            "malformed token: unreadable header");
  EXPECT_EQ(refusal(parts.header + ".a+b=." + parts.signature),
            "malformed token: unreadable claims");
  EXPECT_EQ(
      refusal(jws::base64UrlEncode("{not json") + "." + parts.payload + "." + parts.signature),
      "malformed token: unreadable header");
  EXPECT_EQ(refusal(parts.header + "." + jws::base64UrlEncode("[1,2]") + "." + parts.signature),
            "malformed token: unreadable claims");
  EXPECT_EQ(refusal(parts.header + "." + parts.payload + ".***"),
            "malformed token: unreadable signature");
  Json header = decodePart(parts.header);
  header["kid"] = "some-other-key";
  EXPECT_EQ(refusal(encodeJson(header) + "." + parts.payload + "." + parts.signature),
            "malformed token: missing or unknown key id");
}

TEST_F(DataplaneTokensTest, ClaimsOfTheWrongShapeAreRefusedEvenWhenSigned) {
  issue("default", "web");
  jws::PkeyPtr key = storedKey("default", "dataplane-token-signing-key-1");
  ASSERT_TRUE(key);
  Json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "dataplane-token-signing-key-1"}};
  int64_t now = nowSeconds();
  Json good = {{"iss", "braid-cp"}, {"mesh", "default"}, {"name", "web"},
               {"jti", "abc"},      {"iat", now},        {"exp", now + 60}};
  EXPECT_EQ(refusal(sign(key.get(), header, good)), "");

  Json badExp = good;
  badExp["exp"] = "later";
  Json badIssuer = good;
  badIssuer["iss"] = "someone";
  Json badTags = good;
  badTags["tags"] = {{"a", 1}};
  Json noJti = good;
  noJti.erase("jti");
  for (const Json& payload : {badExp, badIssuer, badTags, noJti}) {
    EXPECT_EQ(refusal(sign(key.get(), header, payload)), "malformed token: unreadable claims")
        << payload.dump();
  }
}

TEST_F(DataplaneTokensTest, ExpiredTokenIsRefusedAfterTheClockSkew) {
  std::string token = issue("default", "web", 1);
  DataplaneTokenClaims claims;
  std::string error;
  ASSERT_TRUE(tokens_->verify(token, claims, error)) << error;
  int64_t exp = claims.expiresAt;
  EXPECT_TRUE(tokens_->verify(token, claims, error, exp + kClockSkewSeconds)) << error;
  EXPECT_FALSE(tokens_->verify(token, claims, error, exp + kClockSkewSeconds + 1));
  EXPECT_EQ(error, "token expired");
  // Issued too far in the future for the skew.
  EXPECT_FALSE(tokens_->verify(token, claims, error, claims.issuedAt - kClockSkewSeconds - 1));
  EXPECT_EQ(error, "token issued in the future");
}

TEST_F(DataplaneTokensTest, TokenOfOneMeshNeverVerifiesWithAnotherMeshsKey) {
  std::string tokenB = issue("mesh-b", "web");
  jws::PkeyPtr keyB = storedKey("mesh-b", "dataplane-token-signing-key-1");
  ASSERT_TRUE(keyB);
  Json header = decodePart(split(tokenB).header);
  Json payload = decodePart(split(tokenB).payload);
  payload["mesh"] = "mesh-a";
  // Signed with mesh B's key but claiming mesh A, which has no keys at all.
  std::string forged = sign(keyB.get(), header, payload);
  EXPECT_EQ(refusal(forged), "token signed with a key that mesh mesh-a does not have");
  // Mesh A now has its own key of the same name: still refused.
  issue("mesh-a", "web");
  EXPECT_EQ(refusal(forged), "invalid token signature");
  EXPECT_EQ(refusal(tokenB), "");
}

TEST_F(DataplaneTokensTest, RevokedTokenIsRefusedOthersStillVerify) {
  std::string revoked = issue("default", "web");
  std::string kept = issue("default", "web");
  std::string otherMesh = issue("other", "web");
  DataplaneTokenClaims claims;
  std::string error;
  ASSERT_TRUE(tokens_->verify(revoked, claims, error)) << error;
  ASSERT_TRUE(tokens_->revoke("default", claims.id, error)) << error;
  ASSERT_TRUE(tokens_->revoke("default", claims.id, error)) << error;  // idempotent
  EXPECT_EQ(refusal(revoked), "token revoked");
  EXPECT_EQ(refusal(kept), "");
  EXPECT_EQ(refusal(otherMesh), "");

  ASSERT_TRUE(tokens_->verify(kept, claims, error)) << error;
  ASSERT_TRUE(tokens_->revoke("default", claims.id, error)) << error;
  EXPECT_EQ(refusal(kept), "token revoked");

  store::GetResult list = store_->get({kRevocationsType, "default", kRevocationsName});
  ASSERT_TRUE(list.record);
  EXPECT_EQ(Json::parse(list.record->content, nullptr, false)["ids"].size(), 2u);
  EXPECT_EQ(list.record->version, 2);
  EXPECT_FALSE(tokens_->revoke("default", "", error));
}

TEST_F(DataplaneTokensTest, RotationKeepsOldTokensUntilTheirKeyIsRemoved) {
  std::string oldToken = issue("default", "web");
  std::string keyId, error;
  ASSERT_TRUE(tokens_->rotateSigningKey("default", keyId, error)) << error;
  EXPECT_EQ(keyId, "dataplane-token-signing-key-2");
  std::string newToken = issue("default", "web");
  EXPECT_EQ(decodePart(split(newToken).header)["kid"], "dataplane-token-signing-key-2");
  EXPECT_EQ(refusal(oldToken), "");
  EXPECT_EQ(refusal(newToken), "");

  ASSERT_TRUE(tokens_->removeSigningKey("default", "dataplane-token-signing-key-1", error))
      << error;
  EXPECT_EQ(refusal(oldToken), "token signed with a key that mesh default does not have");
  EXPECT_EQ(refusal(newToken), "");
  EXPECT_FALSE(tokens_->removeSigningKey("default", "dataplane-token-signing-key-1", error));
  EXPECT_FALSE(tokens_->removeSigningKey("default", "revocations", error));
}

TEST_F(DataplaneTokensTest, RotationOfAMeshWithoutKeysCreatesKeyOne) {
  std::string keyId, error;
  ASSERT_TRUE(tokens_->rotateSigningKey("fresh", keyId, error)) << error;
  EXPECT_EQ(keyId, "dataplane-token-signing-key-1");
  EXPECT_EQ(decodePart(split(issue("fresh", "web")).header)["kid"], keyId);
  EXPECT_EQ(store_->list({.type = kSigningKeyType, .mesh = "fresh"}).total, 1);
}

}  // namespace
}  // namespace braid::auth
