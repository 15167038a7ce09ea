#pragma once

// Small URL and address helpers for the HTTP server: percent-decoding, query strings, loopback
// detection and HOST:PORT splitting. Pure functions, no I/O.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace braid::http {

// Decodes %XX escapes into `out`; with `plusIsSpace` a '+' becomes ' ' (query strings, as HTML
// forms and Go's url.ParseQuery do). False (and `out` unspecified) if a '%' is not followed by two
// hex digits.
bool percentDecode(std::string_view in, std::string& out, bool plusIsSpace = false);

// Splits "a=1&b=&c&a=2" into decoded pairs in order: (a,1) (b,"") (c,"") (a,2). Empty pieces
// ("a=1&&b") are skipped, and so are pairs whose escapes are malformed.
std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query);

// True for textual addresses in 127.0.0.0/8, "::1", and IPv4-mapped loopback ("::ffff:127.0.0.1").
bool isLoopbackAddress(std::string_view address);

// Splits "HOST:PORT", "[V6]:PORT" or ":PORT" (any address) into a host without brackets and a
// port (digits only, 0..65535). False if the form is wrong.
bool splitHostPort(std::string_view hostPort, std::string& host, uint16_t& port);

}  // namespace braid::http
