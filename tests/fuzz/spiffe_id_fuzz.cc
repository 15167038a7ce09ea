// Fuzzes parseSpiffeId, the first code to touch the URI SAN of every peer certificate. The run
// aborts if an accepted ID
//   - does not re-parse from its str() to the same trust domain and path (an ID that prints
//     differently from how it parsed would let two spellings name one workload),
//   - is longer than 2048 bytes, or breaks a character rule, checked here independently,
// or if a refused input produces no error text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/spiffe/spiffe_id.h"

namespace {

[[noreturn]] void violation(const char* what) {
  std::fprintf(stderr, "spiffe_id_fuzz: %s\n", what);
  std::abort();
}

void check(bool condition, const char* what) {
  if (!condition) violation(what);
}

bool isTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

void checkAccepted(const braid::spiffe::SpiffeId& id) {
  check(!id.trustDomain.empty(), "empty trust domain accepted");
  for (const char c : id.trustDomain) check(isTrustDomainChar(c), "bad trust domain byte");
  if (id.path.empty()) return;
  check(id.path.front() == '/' && id.path.back() != '/', "path not of the form /seg(/seg)*");
  size_t start = 1;
  while (start <= id.path.size()) {
    size_t end = id.path.find('/', start);
    if (end == std::string::npos) end = id.path.size();
    const std::string_view seg = std::string_view(id.path).substr(start, end - start);
    check(!seg.empty() && seg != "." && seg != "..", "empty or dot segment accepted");
    for (const char c : seg) {
      check(isTrustDomainChar(c) || (c >= 'A' && c <= 'Z'), "bad path byte");
    }
    start = end + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  braid::spiffe::SpiffeId id;
  std::string error;
  if (!braid::spiffe::parseSpiffeId(input, id, error)) {
    check(!error.empty(), "refused without an error");
    check(error.size() <= 512, "error text too long (echoes too much of the input)");
    return 0;
  }
  checkAccepted(id);
  const std::string text = id.str();
  check(text.size() <= 2048, "accepted ID longer than 2048 bytes");
  check(text == input, "str() differs from the accepted input");
  braid::spiffe::SpiffeId again;
  check(braid::spiffe::parseSpiffeId(text, again, error), "str() does not re-parse");
  check(again.trustDomain == id.trustDomain && again.path == id.path, "round trip changed the ID");
  return 0;
}
