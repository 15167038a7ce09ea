#pragma once

#include <stdexcept>

namespace braid::cli {

// A failure to report to the user: main prints "Error: " + what() to stderr and exits 1. The
// message may span several lines (one per invalid field).
class CliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace braid::cli
