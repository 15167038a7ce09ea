#include "dataplane/filters/http/header_rules.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace braid::dataplane::hcm {
namespace {

bool isHopByHop(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "te" || name == "upgrade" || name == "trailer" || name == "content-length" ||
         name == "transfer-encoding";
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void eraseName(braid::http::Headers& headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& field) { return field.first == name; });
}

}  // namespace

void removeHopByHop(braid::http::Headers& headers) {
  // Fields the Connection header lists are hop-by-hop too.
  std::vector<std::string> listed;
  for (const auto& [name, value] : headers) {
    if (name != "connection") continue;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string_view token(value.data() + start, comma - start);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
        token.remove_prefix(1);
      }
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
        token.remove_suffix(1);
      }
      // close / keep-alive (what most Connection fields say) name no field to remove.
      std::string field = lower(token);
      if (!field.empty() && field != "close" && !isHopByHop(field)) {
        listed.push_back(std::move(field));
      }
      start = comma + 1;
    }
  }
  std::erase_if(headers, [&](const auto& field) {
    return isHopByHop(field.first) ||
           std::find(listed.begin(), listed.end(), field.first) != listed.end();
  });
}

void applyHeaderMods(braid::http::Headers& headers, const HeaderMods& mods) {
  for (const auto& name : mods.remove) eraseName(headers, name);
  for (const auto& field : mods.set) setHeader(headers, field.name, field.value);
  for (const auto& field : mods.add) headers.emplace_back(field.name, field.value);
}

std::string_view headerValue(const braid::http::Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

void setHeader(braid::http::Headers& headers, std::string_view name, std::string value) {
  eraseName(headers, name);
  headers.emplace_back(std::string(name), std::move(value));
}

std::string makeRequestId(uint64_t high, uint64_t low) {
  high = (high & ~0xf000ULL) | 0x4000ULL;                // version 4
  low = (low & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // variant 10
  // 8-4-4-4-12 hex digits, written by hand: snprintf showed up in the per-request profile.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(36, '-');
  size_t at = 0;
  auto put = [&](uint64_t value, int digits) {
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
      text[at++] = kHex[(value >> shift) & 0xf];
    }
    ++at;  // past the dash
  };
  put(high >> 32, 8);
  put((high >> 16) & 0xffff, 4);
  put(high & 0xffff, 4);
  put(low >> 48, 4);
  put(low & 0xffffffffffffULL, 12);
  return text;
}

std::string shadowHost(std::string_view host) {
  size_t colon = host.rfind(':');
  const size_t bracket = host.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    return std::string(host.substr(0, colon)) + "-shadow" + std::string(host.substr(colon));
  }
  return std::string(host) + "-shadow";
}

std::string rewriteTarget(const std::string& normalized, const RouteMatch& match,
                          PathReplace replace, const std::string& value) {
  if (replace == PathReplace::kNone) return normalized;  // most routes: no substrings to make
  size_t query = normalized.find('?');
  std::string path = normalized.substr(0, query);
  std::string rest = query == std::string::npos ? "" : normalized.substr(query);
  switch (replace) {
    case PathReplace::kNone:
      return normalized;
    case PathReplace::kFullPath:
      return value + rest;
    case PathReplace::kPrefix:
      break;
  }
  if (match.path != RouteMatch::Path::kPrefix) return normalized;
  std::string prefix = match.pathValue;
  if (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (path.compare(0, prefix.size(), prefix) != 0) return normalized;
  std::string tail = path.substr(prefix.size());  // "" or "/…" (prefixes match whole segments)
  std::string replaced = value;
  if (prefix == "/") tail = path.substr(1), tail = tail.empty() ? "" : "/" + tail;
  // "/api" → "/" on "/api/x" gives "/x", not "//x".
  if (!replaced.empty() && replaced.back() == '/' && !tail.empty()) replaced.pop_back();
  if (replaced.empty()) replaced = tail.empty() ? "/" : "";
  return replaced + tail + rest;
}

}  // namespace braid::dataplane::hcm
