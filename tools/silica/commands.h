// Each file adds one or more subcommands to the `silica` CLI11 app. A
// subcommand's callback runs it and stores the process exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace silica::cli {

void AddInspectCommand(CLI::App& app, int* exit_code);
void AddTokenizeCommands(CLI::App& app, int* exit_code);  // + detokenize
void AddSynthCommand(CLI::App& app, int* exit_code);
void AddGenerateCommand(CLI::App& app, int* exit_code);

}  // namespace silica::cli
