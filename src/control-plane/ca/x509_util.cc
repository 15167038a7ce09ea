#include "control-plane/ca/x509_util.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <ctime>

namespace braid::ca {
namespace {

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct BignumDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter>;

BioPtr readBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 && data != nullptr ? std::string(data, static_cast<size_t>(len)) : std::string();
}

// Never asks for a passphrase: the CP's keys are stored unencrypted (0600), so an encrypted one is
// somebody else's file.
int refusePassphrase(char*, int, int, void*) { return -1; }

bool isDnsChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

std::string ipText(int family, const unsigned char* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, bytes, text, sizeof text) == nullptr) return "";
  return std::string("IP:") + text;
}

bool setTime(ASN1_TIME* field, TimePoint t) {
  return ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(t)) != nullptr;
}

bool addExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// Builds the SAN extension from objects rather than from an "DNS:a,IP:b" config string, so that
// no host name can smuggle in extra entries.
bool addSans(X509* cert, const std::vector<std::string>& sans) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return false;
  for (const auto& san : sans) {
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (name == nullptr) return false;
    bool ok = false;
    if (san.rfind("IP:", 0) == 0) {
      unsigned char bytes[16];
      std::string text = san.substr(3);
      int family = text.find(':') == std::string::npos ? AF_INET : AF_INET6;
      ASN1_OCTET_STRING* ip = ASN1_OCTET_STRING_new();
      if (ip != nullptr && inet_pton(family, text.c_str(), bytes) == 1 &&
          ASN1_OCTET_STRING_set(ip, bytes, family == AF_INET ? 4 : 16) == 1) {
        GENERAL_NAME_set0_value(name, GEN_IPADD, ip);
        ok = true;
      } else {
        ASN1_OCTET_STRING_free(ip);
      }
    } else if (san.rfind("DNS:", 0) == 0) {
      ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
      if (dns != nullptr &&
          ASN1_STRING_set(dns, san.data() + 4, static_cast<int>(san.size() - 4))) {
        GENERAL_NAME_set0_value(name, GEN_DNS, dns);
        ok = true;
      } else {
        ASN1_IA5STRING_free(dns);
      }
    }
    if (!ok || sk_GENERAL_NAME_push(names.get(), name) <= 0) {
      GENERAL_NAME_free(name);
      return false;
    }
  }
  return X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

bool addProfile(X509* cert, X509* issuer, const CertSpec& spec) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, spec.isCa ? cert : issuer, cert, nullptr, nullptr, 0);
  if (spec.isCa) {
    return addExtension(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
           addExtension(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
           addExtension(cert, &ctx, NID_subject_key_identifier, "hash");
  }
  return addExtension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
         addExtension(cert, &ctx, NID_key_usage, "critical,digitalSignature") &&
         addExtension(cert, &ctx, NID_ext_key_usage, "serverAuth") &&
         addExtension(cert, &ctx, NID_subject_key_identifier, "hash") &&
         addExtension(cert, &ctx, NID_authority_key_identifier, "keyid:always") &&
         addSans(cert, spec.sans);
}

bool asn1TimeToPoint(const ASN1_TIME* time, TimePoint& out) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return false;
  out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

}  // namespace

bool setRandomSerial(X509* cert) {
  unsigned char bytes[16];
  bool zero = true;
  while (zero) {
    if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
    for (unsigned char b : bytes) zero = zero && b == 0;
  }
  std::unique_ptr<BIGNUM, BignumDeleter> bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  return bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr;
}

std::string takeOpensslError(const std::string& fallback) {
  unsigned long last = 0;
  while (unsigned long code = ERR_get_error()) last = code;
  const char* reason = last != 0 ? ERR_reason_error_string(last) : nullptr;
  return reason != nullptr ? fallback + " (" + reason + ")" : fallback;
}

PkeyPtr generateP256Key(std::string& error) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1 ||
      EVP_PKEY_generate(ctx.get(), &key) != 1) {
    error = takeOpensslError("cannot generate an ECDSA P-256 key");
    return nullptr;
  }
  return PkeyPtr(key);
}

X509Ptr parseCertPem(const std::string& pem, std::string& error) {
  BioPtr bio = readBio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, refusePassphrase, nullptr) : nullptr);
  if (!cert) error = takeOpensslError("not a PEM certificate");
  return cert;
}

PkeyPtr parsePrivateKeyPem(const std::string& pem, std::string& error) {
  BioPtr bio = readBio(pem);
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, nullptr)
                  : nullptr);
  if (!key) error = takeOpensslError("not an unencrypted PEM private key");
  return key;
}

std::string certToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return "";
  return bioText(bio.get());
}

std::string privateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return "";
  }
  return bioText(bio.get());
}

std::string canonicalSan(const std::string& host) {
  std::string ip = host;
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) return ipText(AF_INET, bytes);
  // A zone ("fe80::1%eth0") names an interface of this host; the address alone goes in the SAN.
  if (inet_pton(AF_INET6, ip.substr(0, ip.find('%')).c_str(), bytes) == 1) {
    return ipText(AF_INET6, bytes);
  }
  // DNS names: letters, digits, '-', '_', '.', and a wildcard only as a whole first label.
  std::string name = host;
  if (name.rfind("*.", 0) == 0) name = name.substr(2);
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return "";
  std::string out = host.substr(0, host.size() - name.size());
  for (char c : name) {
    if (!isDnsChar(c)) return "";
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return "DNS:" + out;
}

std::vector<std::string> certSans(X509* cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    std::string text = "OTHER";
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      std::string raw(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                      static_cast<size_t>(ASN1_STRING_length(dns)));
      for (char& c : raw) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      text = "DNS:" + raw;
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      int len = ASN1_STRING_length(ip);
      if (len == 4 || len == 16) {
        text = ipText(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip));
      }
    }
    out.push_back(text);
  }
  return out;
}

bool certValidity(const X509* cert, TimePoint& notBefore, TimePoint& notAfter) {
  return asn1TimeToPoint(X509_get0_notBefore(cert), notBefore) &&
         asn1TimeToPoint(X509_get0_notAfter(cert), notAfter);
}

X509Ptr issueCert(const CertSpec& spec, EVP_PKEY* subjectKey, X509* issuer, EVP_PKEY* issuerKey,
                  std::string& error) {
  X509Ptr cert(X509_new());
  if (!spec.isCa && (issuer == nullptr || issuerKey == nullptr)) {
    error = "a server certificate needs an issuer";
    return nullptr;
  }
  X509_NAME* subject = cert ? X509_get_subject_name(cert.get()) : nullptr;
  bool ok =
      subject != nullptr && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
      setRandomSerial(cert.get()) && setTime(X509_getm_notBefore(cert.get()), spec.notBefore) &&
      setTime(X509_getm_notAfter(cert.get()), spec.notAfter) &&
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.commonName.c_str()),
                                 -1, -1, 0) == 1 &&
      X509_set_issuer_name(cert.get(), spec.isCa ? subject : X509_get_subject_name(issuer)) == 1 &&
      X509_set_pubkey(cert.get(), subjectKey) == 1 && addProfile(cert.get(), issuer, spec) &&
      X509_sign(cert.get(), spec.isCa ? subjectKey : issuerKey, EVP_sha256()) > 0;
  if (!ok) {
    error = takeOpensslError("cannot issue the certificate \"" + spec.commonName + "\"");
    return nullptr;
  }
  return cert;
}

}  // namespace braid::ca
