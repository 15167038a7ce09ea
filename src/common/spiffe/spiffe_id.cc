#include "common/spiffe/spiffe_id.h"

#include <cstddef>
#include <cstdio>
#include <utility>

namespace braid::spiffe {
namespace {

constexpr std::string_view kPrefix = "spiffe://";
constexpr size_t kMaxIdBytes = 2048;
// RFC 3986 caps a URI host at 255 characters, and the trust domain is the host (SPIFFE-ID 2.3).
constexpr size_t kMaxTrustDomainBytes = 255;
// Errors quote at most this much of the input: IDs come from peers' certificates and end up in
// logs.
constexpr size_t kMaxEcho = 64;

// `s` in single quotes, cut to kMaxEcho bytes, with control, non-ASCII, quote and backslash bytes
// written as \xNN so that a hostile ID cannot forge log lines or terminal escapes.
std::string quote(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxEcho; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\') {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxEcho) out += "...";
  out += "'";
  return out;
}

bool isLowerOrDigitOrPunct(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool isSegmentChar(char c) { return isLowerOrDigitOrPunct(c) || (c >= 'A' && c <= 'Z'); }

// The most useful reason a character is refused; `where` is "trust domain" or "path".
std::string badChar(char c, std::string_view where) {
  switch (c) {
    case '%':
      return "percent-encoding is not allowed in the " + std::string(where);
    case '@':
      return "userinfo is not allowed";
    case ':':
      return where == "trust domain" ? "a port is not allowed" : "':' is not allowed in the path";
    default:
      break;
  }
  if (where == "trust domain" && c >= 'A' && c <= 'Z') return "trust domain must be lower case";
  return "invalid character " + quote(std::string_view(&c, 1)) + " in the " + std::string(where);
}

bool checkTrustDomain(std::string_view td, std::string& error) {
  if (td.empty()) {
    error = "trust domain is empty";
    return false;
  }
  if (td.size() > kMaxTrustDomainBytes) {
    error = "trust domain is longer than 255 bytes";
    return false;
  }
  for (const char c : td) {
    if (!isLowerOrDigitOrPunct(c)) {
      error = badChar(c, "trust domain");
      return false;
    }
  }
  return true;
}

bool checkSegment(std::string_view seg, std::string& error) {
  if (seg.empty()) {
    error = "path has an empty segment";
    return false;
  }
  if (seg == "." || seg == "..") {
    error = "path segment '" + std::string(seg) + "' is not allowed";
    return false;
  }
  for (const char c : seg) {
    if (!isSegmentChar(c)) {
      error = badChar(c, "path");
      return false;
    }
  }
  return true;
}

// `path` is "" or starts with '/'.
bool checkPath(std::string_view path, std::string& error) {
  if (path.empty()) return true;
  if (path.back() == '/') {
    error = "path must not end with '/'";
    return false;
  }
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (!checkSegment(path.substr(start, end - start), error)) return false;
    start = end + 1;
  }
  return true;
}

bool startsWithIgnoringCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool parseSpiffeId(std::string_view text, SpiffeId& out, std::string& error) {
  const auto fail = [&](const std::string& why) {
    error = "invalid SPIFFE ID " + quote(text) + ": " + why;
    return false;
  };
  if (text.empty()) return fail("it is empty");
  if (text.size() > kMaxIdBytes) return fail("it is longer than 2048 bytes");
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    if (startsWithIgnoringCase(text, kPrefix))
      return fail("the scheme must be lower-case 'spiffe'");
    return fail("it must start with 'spiffe://'");
  }
  const std::string_view rest = text.substr(kPrefix.size());
  // '?' and '#' end the path in URI syntax wherever they appear, so name them before the
  // character checks below would call them merely invalid.
  const size_t special = rest.find_first_of("?#");
  if (special != std::string_view::npos) {
    return fail(rest[special] == '?' ? "a query is not allowed" : "a fragment is not allowed");
  }
  const size_t slash = rest.find('/');
  const std::string_view td = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  std::string why;
  if (!checkTrustDomain(td, why) || !checkPath(path, why)) return fail(why);
  out.trustDomain = std::string(td);
  out.path = std::string(path);
  return true;
}

bool serviceSpiffeId(const std::string& mesh, const std::string& service, std::string& id,
                     std::string& error) {
  std::string why;
  if (!checkTrustDomain(mesh, why)) {
    error = "mesh " + quote(mesh) + " is no SPIFFE trust domain: " + why;
    return false;
  }
  bool ok = service.find('/') == std::string::npos;
  if (ok) {
    ok = checkSegment(service, why);
  } else {
    why = "it contains '/'";
  }
  if (!ok) {
    error = "service " + quote(service) + " is no SPIFFE path segment: " + why;
    return false;
  }
  std::string candidate = std::string(kPrefix) + mesh + "/" + service;
  if (candidate.size() > kMaxIdBytes) {
    error = "service " + quote(service) + " makes the SPIFFE ID longer than 2048 bytes";
    return false;
  }
  id = std::move(candidate);
  return true;
}

}  // namespace braid::spiffe
