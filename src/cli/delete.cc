#include <memory>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/resource_ref.h"

namespace braid::cli {
namespace {

struct DeleteOptions {
  std::string type;
  std::string name;
  std::string mesh;
  CLI::Option* meshOption = nullptr;
};

void runDelete(const DeleteOptions& options, CliContext& ctx) {
  const ResourceType& type = resolveTypeWord(options.type);
  std::optional<std::string> flag;
  if (options.meshOption->count() > 0) flag = options.mesh;
  std::string mesh = meshFor(type, flag);
  HttpResponse response = ctx.client().del(resourcePath(type, mesh, options.name));
  if (response.status == 404) throw CliError(notFoundMessage(type, mesh, options.name));
  if (!response.ok()) throw CliError(apiErrorMessage(response));
  *ctx.out << "deleted " << describeResource(type, mesh, options.name) << "\n";
}

}  // namespace

void registerDelete(CLI::App& app, CliContext& ctx) {
  auto options = std::make_shared<DeleteOptions>();
  auto* cmd = app.add_subcommand("delete", "Delete one resource (delete meshtimeout NAME)");
  cmd->add_option("type", options->type, "the resource type (singular)")->required();
  cmd->add_option("name", options->name, "the resource's name")->required();
  options->meshOption =
      cmd->add_option("-m,--mesh", options->mesh, "the mesh (mesh-scoped types; default: default)");
  cmd->callback([options, &ctx] { runDelete(*options, ctx); });
}

}  // namespace braid::cli
