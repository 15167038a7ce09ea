// Reading and checking a Mesh mTLS backend's CA: builtin roots kept in the store, provided ones
// from the backend's data sources.
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "control-plane/ca/mesh_ca.h"
#include "control-plane/ca/mesh_ca_internal.h"
#include "control-plane/ca/pem_file.h"

namespace braid::ca {
namespace {

constexpr auto kRootValidity = std::chrono::hours(24 * 365 * 10);
constexpr auto kClockSkew = std::chrono::seconds(60);
constexpr size_t kMaxCommonName = 64;  // ub-common-name (RFC 5280)

std::string str(const Json& object, const char* field) {
  return object.is_object() && object.contains(field) && object.at(field).is_string()
             ? object.at(field).get<std::string>()
             : std::string();
}

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 (what Kuma's `inline` holds: JSON bytes), line breaks allowed, padding optional.
bool base64Decode(const std::string& text, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    int v = base64Value(c);
    if (v < 0 || padding > 0) return false;  // a bad character, or data after padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero padding of a final 2- or 3-character group.
  return padding <= 2 && bits < 6 && (acc & ((1u << bits) - 1)) == 0;
}

// One data source ({file|inline|inlineString}) of conf.<field>.
bool readDataSource(const Json& conf, const std::string& field, std::string& content,
                    std::string& error) {
  const std::string where = "conf." + field + ": ";
  if (!conf.is_object() || !conf.contains(field) || !conf.at(field).is_object()) {
    error = where + "is required for a provided backend";
    return false;
  }
  const Json& source = conf.at(field);
  if (source.contains("file") && source.at("file").is_string()) {
    std::string path = source.at("file").get<std::string>();
    if (int err = readSmallFile(path, content); err != 0) {
      error = where + "file " + path + ": " + std::strerror(err);
      return false;
    }
  } else if (source.contains("inline") && source.at("inline").is_string()) {
    if (!base64Decode(source.at("inline").get<std::string>(), content)) {
      error = where + "inline: is not valid base64";
      return false;
    }
  } else if (source.contains("inlineString") && source.at("inlineString").is_string()) {
    content = source.at("inlineString").get<std::string>();
  } else {
    error = where + "one of 'file', 'inline' or 'inlineString' must be set";
    return false;
  }
  return true;
}

bool createBuiltinRoot(const std::string& mesh, const std::string& backend, TimePoint now,
                       std::string& certPem, std::string& keyPem, std::string& error) {
  PkeyPtr key = generateP256Key(error);
  if (!key) return false;
  CertSpec spec;
  spec.commonName = (mesh + " " + backend + " CA").substr(0, kMaxCommonName);
  spec.isCa = true;
  spec.notBefore = now - kClockSkew;
  spec.notAfter = now + kRootValidity;
  X509Ptr cert = issueCert(spec, key.get(), nullptr, nullptr, error);
  if (!cert) return false;
  certPem = certToPem(cert.get());
  keyPem = privateKeyToPem(key.get());
  if (certPem.empty() || keyPem.empty()) {
    error = "encoding the new root failed";
    return false;
  }
  return true;
}

bool readBuiltin(store::Store& store, const std::string& mesh, const std::string& backend,
                 TimePoint now, std::string& certPem, std::string& keyPem, std::string& error) {
  const store::Key key{kMeshCaRootType, mesh, kBuiltinRootPrefix + backend};
  const std::string where = "builtin root " + key.name + ": ";
  store::GetResult got = store.get(key);
  if (got.error && got.error.code != store::ErrorCode::kNotFound) {
    error = where + "reading it failed: " + got.error.message;
    return false;
  }
  if (!got.record) {
    std::string createError;
    if (!createBuiltinRoot(mesh, backend, now, certPem, keyPem, createError)) {
      error = where + createError;
      return false;
    }
    Json content = {{"cert", certPem}, {"key", keyPem}};
    store::PutResult put = store.put(key, content.dump(), 0);
    if (!put.error) return true;
    if (put.error.code != store::ErrorCode::kConflict) {
      error = where + "storing it failed: " + put.error.message;
      return false;
    }
    // Another CP (or thread) stored its root first: everyone uses that one.
    got = store.get(key);
    if (!got.record) {
      error = where + "reading it failed: " +
              (got.error ? got.error.message : std::string("it vanished after a conflict"));
      return false;
    }
  }
  Json doc = Json::parse(got.record->content, nullptr, false);
  certPem = str(doc, "cert");
  keyPem = str(doc, "key");
  if (certPem.empty() || keyPem.empty()) {
    error = where + "the stored record is malformed";
    return false;
  }
  return true;
}

}  // namespace

bool readCaMaterial(store::Store& store, const std::string& mesh, const Json& backend,
                    TimePoint now, std::string& certPem, std::string& keyPem, std::string& error) {
  const std::string type = str(backend, "type");
  if (type == "builtin") {
    return readBuiltin(store, mesh, str(backend, "name"), now, certPem, keyPem, error);
  }
  if (type == "provided") {
    const Json conf = backend.contains("conf") ? backend.at("conf") : Json();
    return readDataSource(conf, "cert", certPem, error) &&
           readDataSource(conf, "key", keyPem, error);
  }
  error = "type: must be one of builtin, provided";
  return false;
}

bool parseCa(const std::string& certPem, const std::string& keyPem, LoadedCa& out,
             std::string& error) {
  std::string why;
  out.cert = parseCertPem(certPem, why);
  if (!out.cert) {
    error = "conf.cert: " + why;
    return false;
  }
  out.key = parsePrivateKeyPem(keyPem, why);
  if (!out.key) {
    error = "conf.key: " + why;
    return false;
  }
  X509* cert = out.cert.get();
  // EXFLAG_CA is set only by basicConstraints CA:TRUE; X509_get_key_usage is all ones without
  // a keyUsage extension. Both caches are filled by X509_check_purpose.
  X509_check_purpose(cert, -1, 0);
  if ((X509_get_extension_flags(cert) & EXFLAG_CA) == 0) {
    error = "conf.cert: is not a CA certificate (basicConstraints CA:TRUE is required)";
    return false;
  }
  if ((X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0) {
    error = "conf.cert: its keyUsage does not allow keyCertSign";
    return false;
  }
  if (X509_check_private_key(cert, out.key.get()) != 1) {
    takeOpensslError("");
    error = "conf.key: does not match the certificate in conf.cert";
    return false;
  }
  if (!certValidity(cert, out.notBefore, out.notAfter)) {
    error = "conf.cert: its validity dates cannot be read";
    return false;
  }
  out.selfSigned = X509_self_signed(cert, 1) == 1;
  takeOpensslError("");  // X509_self_signed may leave a verification error behind
  out.certPem = certToPem(cert);
  return true;
}

std::string materialHash(const std::string& kind, const std::string& certPem,
                         const std::string& keyPem) {
  std::string input;
  for (const std::string* part : {&kind, &certPem, &keyPem}) {
    input += std::to_string(part->size()) + ":" + *part;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    takeOpensslError("");
    return input;  // still a faithful key, just longer
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace braid::ca
