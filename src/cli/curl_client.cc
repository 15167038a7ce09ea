#include "cli/curl_client.h"

#include <curl/curl.h>

#include <memory>

#include "cli/cli_error.h"

namespace braid::cli {
namespace {

size_t appendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

class CurlApiClient : public ApiClient {
 public:
  CurlApiClient(std::string baseUrl, std::string token)
      : baseUrl_(std::move(baseUrl)), token_(std::move(token)) {
    while (!baseUrl_.empty() && baseUrl_.back() == '/') baseUrl_.pop_back();
    // Once per process; the CLI is single-threaded so this is safe here.
    static const bool kInitialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!kInitialised) throw CliError("cannot initialise libcurl");
  }

  std::string baseUrl() const override { return baseUrl_; }

  HttpResponse request(const std::string& method, const std::string& target,
                       const std::string& body) override {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) throw CliError("cannot initialise libcurl");
    // Requests only ever go to the --api address (with the token): targets are paths.
    if (target.empty() || target[0] != '/') throw CliError("invalid request target " + target);
    std::string url = baseUrl_ + target;

    curl_slist* raw = nullptr;
    raw = curl_slist_append(raw, "Accept: application/json");
    if (method == "PUT" || method == "POST") {
      raw = curl_slist_append(raw, "Content-Type: application/json");
    }
    if (!token_.empty()) raw = curl_slist_append(raw, ("Authorization: Bearer " + token_).c_str());
    std::unique_ptr<curl_slist, SlistDeleter> headers(raw);

    HttpResponse response;
    char errorBuffer[CURL_ERROR_SIZE] = {0};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, appendBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    if (method == "PUT" || method == "POST") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }

    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      std::string detail = errorBuffer[0] ? errorBuffer : curl_easy_strerror(rc);
      throw CliError("cannot reach the control plane at " + baseUrl_ + ": " + detail);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

 private:
  std::string baseUrl_;
  std::string token_;
};

}  // namespace

std::unique_ptr<ApiClient> makeCurlClient(std::string baseUrl, std::string token) {
  return std::make_unique<CurlApiClient>(std::move(baseUrl), std::move(token));
}

}  // namespace braid::cli
