// A model family: which checkpoints it reads (GGUF general.architecture
// values, Hugging Face model families), how it turns their hyper-parameters
// into DecoderParams, and its weight-name table. One .cc file per family
// defines one of these; registry.cc lists them.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "core/status.h"
#include "io/gguf.h"
#include "io/model_config.h"
#include "model/decoder_params.h"
#include "model/weight_slots.h"

namespace silica {

struct FamilyDef {
  std::string_view name;
  std::span<const std::string_view> gguf_archs;
  std::optional<ModelFamily> hf_family;
  std::span<const SlotNames> table;
  Result<DecoderParams> (*from_gguf)(const GgufFile& file);
  Result<DecoderParams> (*from_hf)(const ModelConfig& config);
};

const FamilyDef& LlamaFamily();
const FamilyDef& Qwen2Family();
const FamilyDef& Qwen3Family();
const FamilyDef& Gemma3Family();

// All families, and lookups. NotFound-style errors (Unimplemented) name the
// architecture and list the supported ones.
std::span<const FamilyDef* const> Families();
Result<const FamilyDef*> FamilyForGguf(std::string_view architecture);
Result<const FamilyDef*> FamilyForHf(const ModelConfig& config);

// Shared readers: the hyper-parameters every family has, read from GGUF
// `<arch>.*` keys (llama.cpp's names and defaults) or a parsed config.json.
// Families then set what is specific to them.
Result<DecoderParams> CommonGgufParams(const GgufFile& file,
                                       std::string_view arch);
Result<DecoderParams> CommonHfParams(const ModelConfig& config);

}  // namespace silica
