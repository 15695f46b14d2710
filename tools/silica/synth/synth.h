// `silica synth`: random-weight models in the exact shapes of real ones,
// as a GGUF file (llama.cpp's names, metadata and quantization choices)
// or a Hugging Face safetensors folder. See docs/synthetic-models.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace silica::synth {

enum class OutputFormat { kGguf, kSafetensors };

struct SynthOptions {
  std::string arch;  // a name from ArchShapes()
  OutputFormat format = OutputFormat::kGguf;
  // GGUF: F32, F16, BF16, Q8_0 or Q4_0 (the llama.cpp file type; some
  // tensors get other types exactly as llama.cpp's tools would give them).
  // safetensors: F32, F16 or BF16. Unset: F16 for GGUF, BF16 (the real
  // checkpoints' dtype) for safetensors.
  std::optional<DType> dtype;
  uint64_t seed = 0;
  std::optional<int64_t> layers;  // override the block count
  // GGUF: the file to write. safetensors: the folder (created if absent).
  std::string output;
  std::string models_dir;      // where scripts/fetch-models puts models
  std::string tokenizer_from;  // a GGUF to take the tokenizer from instead
  // safetensors: shard when the tensor data passes this many bytes.
  uint64_t max_shard_bytes = 2'000'000'000;
};

struct SynthReport {
  std::vector<std::string> files;  // everything written
  uint64_t bytes = 0;              // their total size
  int64_t tensors = 0;
  int64_t parameters = 0;
  std::string tokenizer_source;
  std::string dtype;  // the file's dtype name
};

Result<SynthReport> Synthesize(const SynthOptions& options);

}  // namespace silica::synth
