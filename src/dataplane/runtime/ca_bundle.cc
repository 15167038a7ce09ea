#include "dataplane/runtime/ca_bundle.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace braid::dataplane {

bool loadCaBundle(const std::string& path, std::string& pem, std::string& error) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "--ca-cert-file " + path + ": not a readable file";
    return false;
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    error = "--ca-cert-file " + path + ": cannot be read";
    return false;
  }
  pem = text.str();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  int certificates = 0;
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) break;
    X509_free(cert);
    ++certificates;
  }
  // The loop ends with "no start line" at the end of the data; anything else is a broken PEM.
  unsigned long last = ERR_peek_last_error();
  bool cleanEnd = last == 0 || ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (certificates == 0 || !cleanEnd) {
    error = "--ca-cert-file " + path +
            (certificates == 0 ? ": holds no PEM certificate (expected the CP's cp-ca.pem)"
                               : ": holds a malformed PEM certificate");
    return false;
  }
  return true;
}

}  // namespace braid::dataplane
