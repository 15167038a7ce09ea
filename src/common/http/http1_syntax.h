#pragma once

// Character-level rules of HTTP/1.1 (RFC 9110 §5.6, RFC 9112) shared by the codec's files. Internal
// to braid_http: callers use http1_codec.h.

#include <cstdint>
#include <string>
#include <string_view>

namespace braid::http1::syntax {

// tchar from RFC 9110 §5.6.2.
inline bool isTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

inline bool isOws(char c) { return c == ' ' || c == '\t'; }

// A control byte other than HT: never allowed in a field value, a reason phrase or a chunk
// extension.
inline bool isCtl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

inline int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isToken(std::string_view s);
std::string_view trimOws(std::string_view s);
bool equalsIgnoreCase(std::string_view a, std::string_view b);
std::string toLower(std::string_view s);

// Calls `f` with each trimmed element of a comma-separated list (empty elements included).
template <typename F>
void forEachListElement(std::string_view list, F f) {
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const size_t end = comma == std::string_view::npos ? list.size() : comma;
    f(trimOws(list.substr(start, end - start)));
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
}

// origin-form ("/path?query") with well-formed %XX escapes and only visible ASCII, no fragment;
// "*" for OPTIONS; authority-form ("host:port") for CONNECT and only for CONNECT.
bool isValidTarget(std::string_view method, std::string_view target);
// Host = uri-host [ ":" port ]: reg-name, IPv4 or a bracketed IP literal. No userinfo, no path.
bool isValidHost(std::string_view host);
// A syntactically valid list of transfer codings that we do not implement: 501 rather than 400.
bool isCodingList(std::string_view value);
// chunk-ext = *( ";" ext-name [ "=" ext-val ] ) with no whitespace (ADR 0003).
bool isValidChunkExtensions(std::string_view ext);
// 1*DIGIT; false when empty or not digits. Saturates at UINT64_MAX (so "too large" stays too
// large).
bool parseDecimal(std::string_view s, uint64_t& value);

}  // namespace braid::http1::syntax
