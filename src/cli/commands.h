#pragma once

// Each command registers its CLI11 subcommand; its callback does the work and throws CliError
// for anything the user must see as "Error: …".

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace braid::cli {

void registerApply(CLI::App& app, CliContext& ctx);
void registerGet(CLI::App& app, CliContext& ctx);
void registerDelete(CLI::App& app, CliContext& ctx);
void registerInspect(CLI::App& app, CliContext& ctx);
void registerGenerate(CLI::App& app, CliContext& ctx);
void registerTokenAdmin(CLI::App& app, CliContext& ctx);
void registerConfig(CLI::App& app, CliContext& ctx);

}  // namespace braid::cli
