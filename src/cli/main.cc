// braidctl: the command-line client of the control plane's REST API (CONTRACT §7).
#include "cli/app.h"

int main(int argc, char** argv) {
  braid::cli::CliContext ctx;
  std::vector<std::string> args(argv + 1, argv + argc);
  return braid::cli::runBraidctl(args, ctx);
}
