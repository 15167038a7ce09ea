#include "dataplane/http/route_matcher.h"

#include <re2/re2.h>

#include <vector>

namespace braid::dataplane::http {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

char upperHex(char c) { return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c; }

// Decodes unreserved escapes, upper-cases the others, turns '\' into '/'. A '%' that starts no
// valid escape ("%zz", a trailing "%") becomes "%25": kept as it was, "%4%41" would decode to
// "%4A", a new escape, and normalising twice would differ.
std::string decodeUnreserved(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%' && i + 2 < path.size()) {
      int hi = hexValue(path[i + 1]);
      int lo = hexValue(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        char decoded = static_cast<char>(hi * 16 + lo);
        if (isUnreserved(decoded)) {
          out.push_back(decoded);
        } else {
          out.push_back('%');
          out.push_back(upperHex(path[i + 1]));
          out.push_back(upperHex(path[i + 2]));
        }
        i += 2;
        continue;
      }
    }
    if (c == '%') {
      out.append("%25");
      continue;
    }
    out.push_back(c == '\\' ? '/' : c);
  }
  return out;
}

// Merges slashes and removes dot segments by walking the segments: empty ones (from "//") and
// "." are skipped, ".." drops the previous one. The path ends with '/' when the input did or
// its last segment was "." or "..".
std::string removeDotSegments(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailingSlash = false;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(pos, end - pos);
    bool last = end == path.size();
    if (segment.empty()) {
      trailingSlash = last;
    } else if (segment == ".") {
      trailingSlash = last;
    } else if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      trailingSlash = last;
    } else {
      segments.push_back(segment);
      trailingSlash = false;
    }
    pos = end + 1;
  }
  std::string out;
  out.reserve(path.size() + 1);
  for (const auto& s : segments) {
    out.push_back('/');
    out.append(s);
  }
  if (out.empty() || trailingSlash) out.push_back('/');
  return out;
}

bool pathMatches(const RouteMatch& m, std::string_view path) {
  switch (m.path) {
    case RouteMatch::Path::kAny:
      return true;
    case RouteMatch::Path::kExact:
      return path == m.pathValue;
    case RouteMatch::Path::kPrefix: {
      const std::string& p = m.pathValue;
      if (path.size() < p.size() || path.compare(0, p.size(), p) != 0) return false;
      return path.size() == p.size() || p.back() == '/' || path[p.size()] == '/';
    }
    case RouteMatch::Path::kRegex:
      return m.pathRegex.re &&
             re2::RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *m.pathRegex.re);
  }
  return false;
}

bool fullMatch(const Regex& regex, std::string_view value) {
  return regex.re && re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *regex.re);
}

bool headerMatches(const HeaderMatcher& m, const braid::http::Headers& headers) {
  // Values of a repeated header, joined with "," (Envoy matches them as one value).
  std::string joined;
  bool found = false;
  for (const auto& [name, value] : headers) {
    if (name != m.name) continue;
    if (found) joined.push_back(',');
    joined.append(value);
    found = true;
  }
  switch (m.kind) {
    case HeaderMatcher::Kind::kPresent:
      return found;
    case HeaderMatcher::Kind::kAbsent:
      return !found;
    case HeaderMatcher::Kind::kExact:
      return found && joined == m.value;
    case HeaderMatcher::Kind::kPrefix:
      return found && std::string_view(joined).starts_with(m.value);
    case HeaderMatcher::Kind::kRegex:
      return found && fullMatch(m.regex, joined);
  }
  return false;
}

// The raw value of the first parameter called `name`; false when there is none.
bool queryParam(std::string_view query, std::string_view name, std::string_view& value) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(pos, end - pos);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key == name && !pair.empty()) {
      value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      return true;
    }
    pos = end + 1;
  }
  return false;
}

bool queryMatches(const QueryParamMatcher& m, std::string_view query) {
  std::string_view value;
  if (!queryParam(query, m.name, value)) return false;
  return m.isRegex ? fullMatch(m.regex, value) : value == m.value;
}

const std::string kNoCluster;

}  // namespace

std::string normalizePath(std::string_view target) {
  if (target.empty()) return "/";
  // Absolute-form: keep what follows the authority.
  if (target[0] != '/') {
    size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) return std::string(target);  // "*", authority-form
    size_t start = target.find_first_of("/?#", scheme + 3);
    target = start == std::string_view::npos ? std::string_view() : target.substr(start);
  }
  target = target.substr(0, target.find('#'));
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string out = removeDotSegments(decodeUnreserved(path));
  if (q != std::string_view::npos) out.append(target.substr(q));
  return out;
}

const Route* matchRoute(const RouteTable& table, const RequestView& req,
                        std::string& normalizedPath) {
  normalizedPath = normalizePath(req.path);
  std::string_view full = normalizedPath;
  size_t q = full.find('?');
  std::string_view path = full.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : full.substr(q + 1);
  for (const Route& route : table.routes) {
    const RouteMatch& m = route.match;
    if (!m.method.empty() && req.method != m.method) continue;
    if (!pathMatches(m, path)) continue;
    bool ok = true;
    for (const auto& h : m.headers) {
      if (!headerMatches(h, req.headers)) {
        ok = false;
        break;
      }
    }
    for (size_t i = 0; ok && i < m.queryParams.size(); ++i) {
      ok = queryMatches(m.queryParams[i], query);
    }
    if (ok) return &route;
  }
  return nullptr;
}

const std::string& pickWeightedCluster(const std::vector<WeightedCluster>& clusters,
                                       uint64_t totalWeight, uint64_t random) {
  if (totalWeight == 0) return kNoCluster;
  random %= totalWeight;
  for (const auto& c : clusters) {
    if (random < c.weight) return c.cluster;
    random -= c.weight;
  }
  return kNoCluster;  // totalWeight disagreed with the weights: not from a compiled snapshot
}

const std::string& pickCluster(const RouteAction& action, uint64_t random) {
  return pickWeightedCluster(action.clusters, action.totalWeight, random);
}

}  // namespace braid::dataplane::http
