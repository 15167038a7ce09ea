#pragma once

// What every command needs: the streams it talks to, the global flags, and a lazily created API
// client (commands that work offline, like `apply --dry-run` or `config`, never resolve one).

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "cli/api_client.h"

namespace braid::cli {

inline constexpr const char* kDefaultApiUrl = "http://127.0.0.1:5681";

using ClientFactory =
    std::function<std::unique_ptr<ApiClient>(const std::string& url, const std::string& token)>;

struct CliContext {
  std::istream* in = &std::cin;
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;

  // Global flags; empty when not given.
  std::string apiUrl;
  std::string token;
  // Where the config lives; empty means ~/.braidctl/config (resolved from HOME when needed).
  std::string configPath;

  ClientFactory makeClient;  // defaults to libcurl
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };

  // The client for --api/--token, else the current context of the config file, else
  // http://127.0.0.1:5681. Created on first use.
  ApiClient& client();
  std::string resolvedConfigPath() const;

 private:
  std::unique_ptr<ApiClient> client_;
};

}  // namespace braid::cli
