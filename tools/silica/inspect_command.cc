// `silica inspect [PATH]`: a summary of a model file or folder.
#include <cstdio>
#include <string>

#include "silica/commands.h"
#include "silica/default_model.h"
#include "silica/model_report.h"

namespace silica::cli {

void AddInspectCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "inspect", "Print a model's architecture, size, tensors and tokenizer");
  auto path = std::make_shared<std::string>();
  cmd->add_option("path", *path,
                  "GGUF file, safetensors file or Hugging Face folder "
                  "(default: the embedded default model)");
  cmd->callback([path, exit_code] {
    Result<std::string> resolved = ResolveModelPath(*path);
    if (!resolved.ok()) {
      std::fprintf(stderr, "silica inspect: %s\n",
                   resolved.status().message().c_str());
      *exit_code = 1;
      return;
    }
    Result<ModelReport> report = InspectModel(*resolved);
    if (!report.ok()) {
      std::fprintf(stderr, "silica inspect: %s\n",
                   report.status().ToString().c_str());
      *exit_code = 1;
      return;
    }
    std::fputs(FormatReport(*report).c_str(), stdout);
    *exit_code = 0;
  });
}

}  // namespace silica::cli
