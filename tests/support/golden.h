#pragma once

// Golden files: expected output kept beside the test data. Run a test with BRAID_UPDATE_GOLDEN=1
// to rewrite them from the current output (then review the diff).

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace braid::testing {

inline std::filesystem::path sourceDir() {
  const char* env = std::getenv("BRAID_SOURCE_DIR");
  return env ? env : BRAID_SOURCE_DIR;
}

inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::filesystem::path> filesIn(const std::filesystem::path& dir,
                                                  const std::string& extension) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == extension) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Compares `actual` with the golden file, or rewrites it when BRAID_UPDATE_GOLDEN is set.
// Returns an empty string when they match, else a description of the difference.
inline std::string compareGolden(const std::filesystem::path& golden, const std::string& actual) {
  if (std::getenv("BRAID_UPDATE_GOLDEN")) {
    std::ofstream(golden, std::ios::binary) << actual;
    return "";
  }
  if (!std::filesystem::exists(golden)) {
    return "missing golden file " + golden.string() + " (run with BRAID_UPDATE_GOLDEN=1)";
  }
  std::string expected = readFile(golden);
  if (expected == actual) return "";
  return "golden " + golden.string() + " differs.\n--- expected\n" + expected + "\n--- actual\n" +
         actual;
}

}  // namespace braid::testing
