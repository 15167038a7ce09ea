#include "common/http/http1_syntax.h"

#include <algorithm>

namespace braid::http1::syntax {

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return isTchar(static_cast<unsigned char>(c)); });
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y && !(x >= 'A' && x <= 'Z' && x + 32 == y) &&
        !(y >= 'A' && y <= 'Z' && y + 32 == x)) {
      return false;
    }
  }
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

bool isValidHost(std::string_view host) {
  for (const char ch : host) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
    if (std::string_view("-._~!$&'()*+,;=:[]%").find(ch) == std::string_view::npos) return false;
  }
  return true;
}

namespace {

// authority-form = uri-host ":" port, with a non-empty host and a port of 1 to 5 digits.
bool isValidAuthority(std::string_view target) {
  const size_t colon = target.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view port = target.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return isValidHost(target.substr(0, colon));
}

}  // namespace

bool isValidTarget(std::string_view method, std::string_view target) {
  // CONNECT names a tunnel's far end and nothing else; any other form from it is ambiguous.
  if (method == "CONNECT") return isValidAuthority(target);
  if (target == "*") return method == "OPTIONS";
  if (target.empty() || target.front() != '/') return false;
  for (size_t i = 0; i < target.size(); ++i) {
    const auto c = static_cast<unsigned char>(target[i]);
    if (c <= 0x20 || c >= 0x7f || c == '#') return false;
    if (c == '%' &&
        (i + 2 >= target.size() || hexValue(target[i + 1]) < 0 || hexValue(target[i + 2]) < 0)) {
      return false;
    }
  }
  return true;
}

bool isCodingList(std::string_view value) {
  bool ok = true;
  forEachListElement(value, [&](std::string_view element) { ok = ok && isToken(element); });
  return ok;
}

bool isValidChunkExtensions(std::string_view ext) {
  size_t i = 0;
  const auto tokenEnd = [&](size_t from) {
    size_t j = from;
    while (j < ext.size() && isTchar(static_cast<unsigned char>(ext[j]))) ++j;
    return j;
  };
  while (i < ext.size()) {
    if (ext[i] != ';') return false;
    const size_t nameEnd = tokenEnd(i + 1);
    if (nameEnd == i + 1) return false;
    i = nameEnd;
    if (i == ext.size() || ext[i] != '=') continue;
    ++i;
    if (i < ext.size() && ext[i] == '"') {
      ++i;
      bool closed = false;
      while (i < ext.size() && !closed) {
        const auto c = static_cast<unsigned char>(ext[i]);
        if (c == '"') {
          closed = true;
        } else if (c == '\\') {
          if (i + 1 == ext.size() || isCtl(static_cast<unsigned char>(ext[i + 1]))) return false;
          ++i;
        } else if (isCtl(c)) {
          return false;
        }
        ++i;
      }
      if (!closed) return false;
    } else {
      const size_t valueEnd = tokenEnd(i);
      if (valueEnd == i) return false;
      i = valueEnd;
    }
  }
  return true;
}

bool parseDecimal(std::string_view s, uint64_t& value) {
  if (s.empty()) return false;
  value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    value = value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : value * 10 + digit;
  }
  return true;
}

}  // namespace braid::http1::syntax
