#include "control-plane/auth/jws.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>

namespace braid::auth::jws {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kCoordinateBytes = 32;  // P-256

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct BignumDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct OpensslFree {
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;
using BignumPtr = std::unique_ptr<BIGNUM, BignumDeleter>;

int decodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Drains the queue and returns its last reason, or `fallback`.
std::string takeError(const std::string& fallback) {
  std::string reason;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    const char* text = ERR_reason_error_string(code);
    if (text != nullptr) reason = text;
  }
  return reason.empty() ? fallback : fallback + ": " + reason;
}

int refusePassphrase(char*, int, int, void*) { return -1; }

bool isP256(EVP_PKEY* key) {
  char group[64] = {};
  size_t len = 0;
  return EVP_PKEY_is_a(key, "EC") == 1 &&
         EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len) == 1 &&
         std::string(group, len) == "prime256v1";
}

}  // namespace

std::string base64UrlEncode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                 static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    if (rest == 2) out += kAlphabet[n >> 6 & 63];
  }
  return out;
}

bool base64UrlDecode(const std::string& text, std::string& bytes) {
  bytes.clear();
  if (text.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = decodeChar(c);
    if (v < 0) return false;
    acc = (acc << 6 | static_cast<uint32_t>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>(acc >> bits & 0xff);
    }
  }
  // Leftover bits must be zero, so that every byte string has exactly one encoding.
  return (acc & ((1u << bits) - 1)) == 0;
}

PkeyPtr generateP256Key(std::string& error) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) error = takeError("generating a P-256 key failed");
  return key;
}

std::string privateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    takeError("");
    return "";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 && data != nullptr ? std::string(data, static_cast<size_t>(len)) : "";
}

PkeyPtr parseP256PrivateKeyPem(const std::string& pem, std::string& error) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key;
  if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, nullptr));
  if (!key) {
    error = takeError("unreadable signing key");
    return nullptr;
  }
  if (!isP256(key.get())) {
    takeError("");
    error = "signing key is not a P-256 key";
    return nullptr;
  }
  return key;
}

bool signEs256(EVP_PKEY* key, const std::string& input, std::string& signature,
               std::string& error) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t derLen = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &derLen,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    error = takeError("signing failed");
    return false;
  }
  std::string der(derLen, '\0');
  unsigned char* derData = reinterpret_cast<unsigned char*>(der.data());
  if (EVP_DigestSign(ctx.get(), derData, &derLen,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    error = takeError("signing failed");
    return false;
  }
  const unsigned char* cursor = derData;
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(derLen)));
  if (!sig) {
    error = takeError("signing produced an unreadable signature");
    return false;
  }
  std::array<unsigned char, 2 * kCoordinateBytes> raw{};
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), kCoordinateBytes) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + kCoordinateBytes, kCoordinateBytes) <
          0) {
    error = takeError("signing produced an oversized signature");
    return false;
  }
  signature.assign(reinterpret_cast<const char*>(raw.data()), raw.size());
  return true;
}

bool verifyEs256(EVP_PKEY* key, const std::string& input, const std::string& signature) {
  if (signature.size() != 2 * kCoordinateBytes) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  BignumPtr r(BN_bin2bn(raw, kCoordinateBytes, nullptr));
  BignumPtr s(BN_bin2bn(raw + kCoordinateBytes, kCoordinateBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    takeError("");
    return false;
  }
  // ECDSA_SIG owns r and s now.
  r.release();
  s.release();
  unsigned char* derRaw = nullptr;
  int derLen = i2d_ECDSA_SIG(sig.get(), &derRaw);
  std::unique_ptr<unsigned char, OpensslFree> der(derRaw);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok =
      derLen > 0 && ctx &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx.get(), der.get(), static_cast<size_t>(derLen),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  takeError("");
  return ok;
}

std::string randomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    takeError("");
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : raw) {
    auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace braid::auth::jws
