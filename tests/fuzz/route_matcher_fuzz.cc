// Fuzzes the route matcher, the first code to look at every request target on an HTTP outbound.
// Input: byte 0 picks the method; the rest, split at '\n', is the request target then header
// lines "name: value". The run aborts if
//   - normalisation is not idempotent, or leaves an empty, "." or ".." segment or "//" in an
//     origin-form path, or the matcher's normalised path differs from normalizePath's;
//   - a request with an origin-form path finds no route (the table ends with a "/" catch-all);
//   - a weighted pick with a number in range returns no cluster.
#include <re2/re2.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dataplane/http/route_matcher.h"

namespace {

namespace dp = braid::dataplane;

[[noreturn]] void violation(const char* what, std::string_view input) {
  std::fprintf(stderr, "route_matcher_fuzz: %s: %.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

dp::Regex regex(const std::string& pattern) {
  return {pattern, std::make_shared<const re2::RE2>(pattern)};
}

dp::Route route(const std::string& name, dp::RouteMatch::Path kind, const std::string& value) {
  dp::Route r;
  r.name = name;
  r.match.path = kind;
  if (kind == dp::RouteMatch::Path::kRegex) {
    r.match.pathRegex = regex(value);
  } else {
    r.match.pathValue = value;
  }
  r.action.clusters = {{name + "-a", 3}, {name + "-zero", 0}, {name + "-b", 1}};
  r.action.totalWeight = 4;
  return r;
}

const dp::RouteTable& table() {
  static const dp::RouteTable t = [] {
    dp::RouteTable out;
    out.routes.push_back(route("exact", dp::RouteMatch::Path::kExact, "/healthz"));
    auto api = route("api", dp::RouteMatch::Path::kPrefix, "/api");
    api.match.method = "GET";
    api.match.queryParams = {{"debug", false, "1", {}}, {"id", true, "", regex("[0-9]+")}};
    out.routes.push_back(api);
    auto headers = route("headers", dp::RouteMatch::Path::kPrefix, "/api");
    headers.match.headers = {{"x-version", dp::HeaderMatcher::Kind::kRegex, "", regex("v[0-9]+")},
                             {"x-user", dp::HeaderMatcher::Kind::kPrefix, "test-", {}},
                             {"x-canary", dp::HeaderMatcher::Kind::kPresent, "", {}},
                             {"x-debug", dp::HeaderMatcher::Kind::kAbsent, "", {}}};
    out.routes.push_back(headers);
    out.routes.push_back(route("items", dp::RouteMatch::Path::kRegex, "/items/[0-9]+(/.*)?"));
    out.routes.push_back(route("all", dp::RouteMatch::Path::kPrefix, "/"));
    return out;
  }();
  return t;
}

void checkNormalised(std::string_view target, const std::string& normalized) {
  if (braid::dataplane::http::normalizePath(normalized) != normalized) {
    violation("normalisation is not idempotent", target);
  }
  if (normalized.empty() || normalized[0] != '/') return;  // "*", authority-form: unchanged
  std::string_view path = std::string_view(normalized).substr(0, normalized.find('?'));
  size_t start = 1;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      violation("empty or dot segment left in the path", target);
    }
    start = end + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kMethods[] = {"GET", "POST", "PUT", "get", "OPTIONS", ""};
  std::string_view method = kMethods[data[0] % (sizeof(kMethods) / sizeof(kMethods[0]))];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t eol = input.find('\n');
  std::string_view target = input.substr(0, eol);
  braid::http::Headers headers;
  while (eol != std::string_view::npos && headers.size() < 16) {
    size_t next = input.find('\n', eol + 1);
    std::string_view line =
        input.substr(eol + 1, next == std::string_view::npos ? next : next - eol - 1);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    eol = next;
  }

  std::string normalized;
  const dp::Route* matched =
      braid::dataplane::http::matchRoute(table(), {method, target, "backend", headers}, normalized);
  if (normalized != braid::dataplane::http::normalizePath(target)) {
    violation("matchRoute normalised differently", target);
  }
  checkNormalised(target, normalized);
  if (!normalized.empty() && normalized[0] == '/' && matched == nullptr) {
    violation("no route for an origin-form path despite the catch-all", target);
  }
  if (matched) {
    uint64_t random = size % matched->action.totalWeight;
    if (braid::dataplane::http::pickCluster(matched->action, random).empty()) {
      violation("no cluster picked", target);
    }
  }
  return 0;
}
