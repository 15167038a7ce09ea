#include <memory>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "common/duration.h"

namespace braid::cli {
namespace {

struct TokenOptions {
  std::string mesh;
  std::string name;
  std::vector<std::string> tags;
  std::string validFor = "24h";
};

Json tokenRequest(const TokenOptions& options) {
  if (options.mesh.empty()) throw CliError("--mesh must not be empty");
  if (options.name.empty()) throw CliError("--name must not be empty");
  if (!parseDuration(options.validFor) || parseDuration(options.validFor)->count() <= 0) {
    throw CliError("--valid-for: \"" + options.validFor +
                   "\" is not a positive duration such as 24h or 30m");
  }
  Json tags = Json::object();
  for (const auto& tag : options.tags) {
    auto eq = tag.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw CliError("--tag: \"" + tag + "\" must be KEY=VALUE");
    }
    std::string key = tag.substr(0, eq);
    if (tags.contains(key)) throw CliError("--tag: \"" + key + "\" is given more than once");
    tags[key] = tag.substr(eq + 1);
  }
  Json body = Json::object();
  body["mesh"] = options.mesh;
  body["name"] = options.name;
  body["tags"] = std::move(tags);
  body["validFor"] = options.validFor;
  return body;
}

void runGenerateToken(const TokenOptions& options, CliContext& ctx) {
  Json body = tokenRequest(options);
  HttpResponse response = ctx.client().post("/tokens/dataplane", body.dump());
  if (!response.ok()) throw CliError(apiErrorMessage(response));
  *ctx.out << response.body;
  if (response.body.empty() || response.body.back() != '\n') *ctx.out << "\n";
}

}  // namespace

void registerGenerate(CLI::App& app, CliContext& ctx) {
  auto* generate = app.add_subcommand("generate", "Generate credentials");
  generate->require_subcommand(1);
  auto options = std::make_shared<TokenOptions>();
  auto* token = generate->add_subcommand("dataplane-token",
                                         "A token a dataplane presents to the control plane");
  token->add_option("--mesh", options->mesh, "the dataplane's mesh")->required();
  token->add_option("--name", options->name, "the dataplane's name")->required();
  token->add_option("--tag", options->tags,
                    "a tag the dataplane must carry, KEY=VALUE (repeatable)");
  token->add_option("--valid-for", options->validFor, "how long the token is valid")
      ->capture_default_str();
  token->callback([options, &ctx] { runGenerateToken(*options, ctx); });
}

}  // namespace braid::cli
