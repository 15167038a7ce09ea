#include "cli/app.h"

#include <algorithm>

#include "cli/cli_error.h"
#include "cli/commands.h"

namespace braid::cli {

int runBraidctl(const std::vector<std::string>& args, CliContext& ctx) {
  CLI::App app("braidctl: manage a Braid service mesh through its control plane's REST API",
               "braidctl");
  app.require_subcommand(1);
  // Subcommands created after this pass global flags they do not know (--api after `get …`)
  // up to the app.
  app.fallthrough();
  app.add_option("--api", ctx.apiUrl,
                 "the control plane's API URL (default: the current context of "
                 "~/.braidctl/config, else http://127.0.0.1:5681)");
  app.add_option("--token", ctx.token, "a bearer token for the API");

  registerApply(app, ctx);
  registerGet(app, ctx);
  registerDelete(app, ctx);
  registerInspect(app, ctx);
  registerGenerate(app, ctx);
  registerTokenAdmin(app, ctx);
  registerConfig(app, ctx);
  app.add_subcommand("version", "Print braidctl's version")->callback([&ctx] {
    *ctx.out << "braidctl version " << BRAID_VERSION << "\n";
  });

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, *ctx.out, *ctx.err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, *ctx.out, *ctx.err);
  } catch (const CLI::ParseError& e) {
    // A mistyped command leaves its word unparsed and trips "A subcommand is required" first:
    // naming the word is more useful.
    std::vector<std::string> extra = app.remaining(true);
    std::string message = e.what();
    if (dynamic_cast<const CLI::RequiredError*>(&e) && !extra.empty()) {
      message = "unknown command \"" + extra.front() + "\"";
    }
    *ctx.err << "Error: " << message << "\nRun with --help for more information.\n";
    return e.get_exit_code() != 0 ? e.get_exit_code() : 1;
  } catch (const CliError& e) {
    ctx.out->flush();
    *ctx.err << "Error: " << e.what() << "\n";
    return 1;
  }
  ctx.out->flush();
  return 0;
}

}  // namespace braid::cli
