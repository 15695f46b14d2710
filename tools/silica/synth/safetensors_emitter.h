// Writes a synthetic model as a Hugging Face checkpoint folder that
// transformers loads: config.json and generation_config.json with the
// real model's fields, model.safetensors (or shards plus
// model.safetensors.index.json past a size limit) with Hugging Face
// tensor names, and tokenizer.json / tokenizer_config.json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "silica/synth/arch_shapes.h"
#include "silica/synth/tokenizer_source.h"

namespace silica::synth {

// config.json and generation_config.json texts. Special token ids come
// from `tok` when it is a stand-in whose ids differ from the real model's.
Result<std::string> HfConfigJson(const ArchShape& shape,
                                 const TokenizerData& tok, DType dtype);
Result<std::string> HfGenerationConfigJson(const ArchShape& shape,
                                           const TokenizerData& tok);

// Writes the folder `dir` (created if needed) and returns the paths of the
// files written. `dtype` is F32, F16 or BF16.
Result<std::vector<std::string>> WriteSynthSafetensors(
    const ArchShape& shape, const TokenizerData& tok, DType dtype,
    uint64_t seed, uint64_t max_shard_bytes, const std::string& dir);

}  // namespace silica::synth
