// silica: the command line. Subcommands live in their own files.
#include "silica/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"silica: native LLM and multimodal inference server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "silica 0.1.0");

  int exit_code = 0;
  silica::cli::AddInspectCommand(app, &exit_code);
  silica::cli::AddTokenizeCommands(app, &exit_code);
  silica::cli::AddSynthCommand(app, &exit_code);
  silica::cli::AddGenerateCommand(app, &exit_code);

  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
