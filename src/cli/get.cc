#include <memory>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/resource_ref.h"
#include "common/yaml_json.h"

namespace braid::cli {
namespace {

struct GetOptions {
  std::string type;
  std::string name;
  std::string mesh;
  CLI::Option* meshOption = nullptr;
  std::string output = "table";
};

std::optional<std::string> meshFlag(const GetOptions& o) {
  return o.meshOption->count() > 0 ? std::optional<std::string>(o.mesh) : std::nullopt;
}

void runGet(const GetOptions& options, CliContext& ctx) {
  const ResourceType& type = resolveTypeWord(options.type);
  std::string mesh = meshFor(type, meshFlag(options));
  OutputFormat format = *parseOutputFormat(options.output);
  ApiClient& client = ctx.client();

  if (options.name.empty()) {
    Json list = fetchAllPages(client, collectionPath(type, mesh));
    *ctx.out << renderList(
        format, list, [&](const Json& items) { return resourceTable(type, items, ctx.now()); });
    return;
  }

  HttpResponse response = client.get(resourcePath(type, mesh, options.name));
  if (response.status == 404) throw CliError(notFoundMessage(type, mesh, options.name));
  if (!response.ok()) throw CliError(apiErrorMessage(response));
  Json doc = parseResponseJson(response, "a resource");
  switch (format) {
    case OutputFormat::kTable:
      *ctx.out << resourceTable(type, Json::array({doc}), ctx.now());
      break;
    case OutputFormat::kYaml:
      *ctx.out << resourceYaml(doc);
      break;
    case OutputFormat::kJson:
      *ctx.out << prettyJson(doc);
      break;
  }
}

}  // namespace

void registerGet(CLI::App& app, CliContext& ctx) {
  auto options = std::make_shared<GetOptions>();
  auto* cmd = app.add_subcommand(
      "get", "List resources of a type (get meshtimeouts) or show one (get meshtimeout NAME)");
  cmd->add_option("type", options->type, "a resource type: plural to list, singular with NAME")
      ->required();
  cmd->add_option("name", options->name, "the resource's name");
  options->meshOption =
      cmd->add_option("-m,--mesh", options->mesh, "the mesh (mesh-scoped types; default: default)");
  cmd->add_option("-o,--output", options->output, "table, yaml or json")
      ->check(CLI::IsMember({"table", "yaml", "json"}))
      ->capture_default_str();
  cmd->callback([options, &ctx] { runGet(*options, ctx); });
}

}  // namespace braid::cli
