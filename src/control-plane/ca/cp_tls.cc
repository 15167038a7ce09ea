#include "control-plane/ca/cp_tls.h"

#include <openssl/crypto.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <set>
#include <utility>

#include "common/clock.h"
#include "common/log.h"
#include "control-plane/ca/pem_file.h"
#include "control-plane/ca/x509_util.h"

namespace braid::ca {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr auto kDay = hours(24);
constexpr auto kCaValidity = 3650 * kDay;
constexpr auto kServerValidity = 365 * kDay;
constexpr auto kRenewBefore = 30 * kDay;
// Peers whose clock is a little behind ours still accept a certificate issued just now.
constexpr auto kBackdate = minutes(5);

struct Paths {
  std::string caCert, caKey, serverCert, serverKey;
};

// A missing file is "" with no error; any other read failure is an error naming the file.
bool readIfPresent(const std::string& path, std::string& content, bool& present,
                   std::string& error) {
  int err = readSmallFile(path, content);
  present = err != ENOENT;
  if (err == 0 || err == ENOENT) return true;
  error = "cannot read " + path + ": " + std::strerror(err);
  return false;
}

// Writes the key (0600) before the certificate (0644): a crash in between leaves a certificate
// that does not match its key, which the next start treats as missing.
bool writePair(const std::string& certPath, const std::string& certPem, const std::string& keyPath,
               const std::string& keyPem, std::string& error) {
  error = writeFileAtomically(keyPath, keyPem, 0600);
  if (error.empty()) error = writeFileAtomically(certPath, certPem, 0644);
  return error.empty();
}

bool createCa(const Paths& paths, TimePoint now, X509Ptr& ca, PkeyPtr& caKey, std::string& caPem,
              std::string& error) {
  caKey = generateP256Key(error);
  if (!caKey) return false;
  CertSpec spec{"braid-cp CA", true, {}, now - kBackdate, now + kCaValidity};
  ca = issueCert(spec, caKey.get(), nullptr, nullptr, error);
  if (!ca) return false;
  caPem = certToPem(ca.get());
  std::string keyPem = privateKeyToPem(caKey.get());
  bool ok = !caPem.empty() && !keyPem.empty();
  if (!ok) error = takeOpensslError("cannot encode the CP CA");
  ok = ok && writePair(paths.caCert, caPem, paths.caKey, keyPem, error);
  OPENSSL_cleanse(keyPem.data(), keyPem.size());
  if (ok) {
    log::info("created the control plane CA",
              {{"file", paths.caCert}, {"notAfter", formatRfc3339(spec.notAfter)}});
  }
  return ok;
}

bool loadOrCreateCa(const Paths& paths, TimePoint now, X509Ptr& ca, PkeyPtr& caKey,
                    std::string& caPem, std::string& error) {
  bool present = false;
  if (!readIfPresent(paths.caCert, caPem, present, error)) return false;
  // cp-ca.pem decides: without it nobody can trust the old key, so a key left alone (by a crash
  // between the two writes) is replaced along with it.
  if (!present) return createCa(paths, now, ca, caKey, caPem, error);
  std::string reason;
  ca = parseCertPem(caPem, reason);
  if (!ca) {
    error = paths.caCert + ": " + reason;
    return false;
  }
  std::string keyPem;
  if (!readIfPresent(paths.caKey, keyPem, present, error)) return false;
  const std::string remedy = " (restore it, or delete " + paths.caCert +
                             " to create a new CA that every dataplane and zone " +
                             "must then be given)";
  if (!present) {
    error =
        paths.caKey + " is missing: the CA in " + paths.caCert + " cannot sign without it" + remedy;
    return false;
  }
  caKey = parsePrivateKeyPem(keyPem, reason);
  OPENSSL_cleanse(keyPem.data(), keyPem.size());
  if (!caKey) {
    error = paths.caKey + ": " + reason;
    return false;
  }
  if (X509_check_private_key(ca.get(), caKey.get()) != 1) {
    error = takeOpensslError(paths.caKey + " is not the key of " + paths.caCert) + remedy;
    return false;
  }
  if (X509_check_ca(ca.get()) == 0) {
    error = paths.caCert + " is not a CA certificate" + remedy;
    return false;
  }
  TimePoint notBefore, notAfter;
  if (!certValidity(ca.get(), notBefore, notAfter)) {
    error = paths.caCert + ": unreadable validity dates";
    return false;
  }
  if (notAfter <= now) {
    error = paths.caCert + " expired on " + formatRfc3339(notAfter) + remedy;
    return false;
  }
  if (notBefore > now) {
    error = paths.caCert + " is not valid before " + formatRfc3339(notBefore) +
            " (is the clock right?)";
    return false;
  }
  return true;
}

std::set<std::string> asSet(const std::vector<std::string>& sans) {
  return std::set<std::string>(sans.begin(), sans.end());
}

// "" when the server certificate and key on disk can be served as they are, else why not.
std::string reissueReason(const Paths& paths, X509* ca, const std::vector<std::string>& sans,
                          TimePoint now, std::string& certPem, std::string& keyPem) {
  bool certPresent = false, keyPresent = false;
  std::string ignored;
  if (!readIfPresent(paths.serverCert, certPem, certPresent, ignored)) return "unreadable";
  if (!certPresent) return "missing";
  if (!readIfPresent(paths.serverKey, keyPem, keyPresent, ignored)) return "key unreadable";
  if (!keyPresent) return "key missing";
  X509Ptr cert = parseCertPem(certPem, ignored);
  if (!cert) return "unreadable";
  PkeyPtr key = parsePrivateKeyPem(keyPem, ignored);
  if (!key) return "key unreadable";
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    takeOpensslError("");
    return "key does not match";
  }
  EVP_PKEY* caPublic = X509_get0_pubkey(ca);
  if (X509_check_issued(ca, cert.get()) != X509_V_OK || caPublic == nullptr ||
      X509_verify(cert.get(), caPublic) != 1) {
    takeOpensslError("");
    return "not signed by the current CA";
  }
  TimePoint notBefore, notAfter;
  if (!certValidity(cert.get(), notBefore, notAfter)) return "unreadable validity dates";
  if (notAfter - now < kRenewBefore) return "expires within 30 days";
  if (notBefore > now) return "not yet valid";
  if (asSet(certSans(cert.get())) != asSet(sans)) return "SANs differ from the requested hosts";
  return "";
}

bool issueServer(const Paths& paths, X509* ca, EVP_PKEY* caKey,
                 const std::vector<std::string>& sans, TimePoint now, const std::string& reason,
                 std::string& certPem, std::string& keyPem, std::string& error) {
  PkeyPtr key = generateP256Key(error);
  if (!key) return false;
  TimePoint caNotBefore, caNotAfter;
  if (!certValidity(ca, caNotBefore, caNotAfter)) {
    error = paths.caCert + ": unreadable validity dates";
    return false;
  }
  // A certificate outliving its CA would fail verification after the CA expires anyway.
  CertSpec spec{"braid-cp", false, sans, now - kBackdate,
                std::min<TimePoint>(now + kServerValidity, caNotAfter)};
  X509Ptr cert = issueCert(spec, key.get(), ca, caKey, error);
  if (!cert) {
    error = paths.serverCert + ": " + error;
    return false;
  }
  certPem = certToPem(cert.get());
  keyPem = privateKeyToPem(key.get());
  if (certPem.empty() || keyPem.empty()) {
    error = takeOpensslError(paths.serverCert + ": cannot encode the server certificate");
    return false;
  }
  if (!writePair(paths.serverCert, certPem, paths.serverKey, keyPem, error)) return false;
  std::string names;
  for (const auto& san : sans) names += (names.empty() ? "" : ",") + san;
  log::info("issued the control plane server certificate",
            {{"file", paths.serverCert},
             {"reason", reason},
             {"sans", names},
             {"notAfter", formatRfc3339(spec.notAfter)}});
  return true;
}

}  // namespace

namespace detail {

bool loadOrCreateCpTlsAt(const std::string& dataDir, const std::vector<std::string>& hosts,
                         TimePoint now, CpTlsMaterial& out, std::string& error) {
  struct stat st {};
  if (::stat(dataDir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = "data dir " + dataDir + " is not a directory";
    return false;
  }
  std::vector<std::string> sans;
  for (const auto& host : hosts) {
    std::string san = canonicalSan(host);
    if (san.empty()) {
      error = "invalid server certificate host \"" + host + "\"";
      return false;
    }
    if (std::find(sans.begin(), sans.end(), san) == sans.end()) sans.push_back(san);
  }
  if (sans.empty()) {
    error = "the server certificate needs at least one host";
    return false;
  }
  Paths paths{dataDir + "/cp-ca.pem", dataDir + "/cp-ca-key.pem", dataDir + "/cp-server.pem",
              dataDir + "/cp-server-key.pem"};
  X509Ptr ca;
  PkeyPtr caKey;
  CpTlsMaterial material;
  if (!loadOrCreateCa(paths, now, ca, caKey, material.caCertPem, error)) return false;
  std::string reason =
      reissueReason(paths, ca.get(), sans, now, material.serverCertPem, material.serverKeyPem);
  if (!reason.empty() && !issueServer(paths, ca.get(), caKey.get(), sans, now, reason,
                                      material.serverCertPem, material.serverKeyPem, error)) {
    return false;
  }
  out = std::move(material);
  return true;
}

}  // namespace detail

bool loadOrCreateCpTls(const std::string& dataDir, const std::vector<std::string>& hosts,
                       CpTlsMaterial& out, std::string& error) {
  return detail::loadOrCreateCpTlsAt(dataDir, hosts, std::chrono::system_clock::now(), out, error);
}

std::vector<std::string> defaultServerHosts(const std::string& listenHost) {
  std::vector<std::string> hosts{"localhost", "127.0.0.1", "::1"};
  auto add = [&hosts](const std::string& host) {
    if (!host.empty() && std::find(hosts.begin(), hosts.end(), host) == hosts.end()) {
      hosts.push_back(host);
    }
  };
  char name[HOST_NAME_MAX + 1] = {};
  // A hostname that is no valid DNS name would only make the certificate fail to issue.
  if (::gethostname(name, sizeof name - 1) == 0 && !canonicalSan(name).empty()) add(name);
  std::string host = listenHost;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  // The wildcard addresses are where the server listens, never a name a client dials.
  if (host != "0.0.0.0" && host != "::") add(host);
  return hosts;
}

}  // namespace braid::ca
