#pragma once

#include <string>
#include <vector>

#include "cli/cli_context.h"

namespace braid::cli {

// Runs braidctl with `args` (argv without the program name) and returns the exit status:
// 0 on success; otherwise non-zero with "Error: …" written to ctx.err.
int runBraidctl(const std::vector<std::string>& args, CliContext& ctx);

}  // namespace braid::cli
