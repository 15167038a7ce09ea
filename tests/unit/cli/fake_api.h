#pragma once

// An in-memory ApiClient for driving braidctl's commands without a control plane: each request
// is recorded and answered by a handler the test supplies.

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/app.h"
#include "cli/cli_context.h"

namespace braid::cli::testing {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string body;
};

using FakeHandler = std::function<HttpResponse(const RecordedRequest&)>;

class FakeApiClient : public ApiClient {
 public:
  FakeApiClient(FakeHandler handler, std::vector<RecordedRequest>* log)
      : handler_(std::move(handler)), log_(log) {}
  HttpResponse request(const std::string& method, const std::string& path,
                       const std::string& body) override {
    RecordedRequest r{method, path, body};
    log_->push_back(r);
    return handler_(r);
  }
  std::string baseUrl() const override { return "http://fake"; }

 private:
  FakeHandler handler_;
  std::vector<RecordedRequest>* log_;
};

// Runs braidctl with a fake API, a given stdin, and a config file path the test owns.
struct CliRun {
  int status = 0;
  std::string out;
  std::string err;
};

class CliHarness {
 public:
  explicit CliHarness(FakeHandler handler = nullptr) : handler_(std::move(handler)) {}

  CliRun run(const std::vector<std::string>& args, const std::string& stdinText = "") {
    std::istringstream in(stdinText);
    std::ostringstream out, err;
    CliContext ctx;
    ctx.in = &in;
    ctx.out = &out;
    ctx.err = &err;
    ctx.configPath = configPath;
    ctx.now = [this] { return now; };
    ctx.makeClient = [this](const std::string& url, const std::string& token) {
      clientUrl = url;
      clientToken = token;
      FakeHandler h = handler_ ? handler_ : [](const RecordedRequest&) {
        return HttpResponse{500, "{\"title\":\"no handler\"}"};
      };
      return std::make_unique<FakeApiClient>(h, &requests);
    };
    CliRun result;
    result.status = runBraidctl(args, ctx);
    result.out = out.str();
    result.err = err.str();
    return result;
  }

  std::vector<RecordedRequest> requests;
  std::string clientUrl;
  std::string clientToken;
  std::string configPath = "/nonexistent/braidctl-test/config";
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();

 private:
  FakeHandler handler_;
};

}  // namespace braid::cli::testing
