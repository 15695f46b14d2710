// The supported families, and the lookups LoadModel uses to pick one.
#include <array>
#include <string>

#include "model/arch/family.h"

namespace silica {
namespace {

std::string SupportedList() {
  std::string s;
  for (const FamilyDef* f : Families()) {
    for (std::string_view a : f->gguf_archs) {
      s += (s.empty() ? "" : ", ") + std::string(a);
    }
  }
  return s;
}

}  // namespace

std::span<const FamilyDef* const> Families() {
  static const std::array<const FamilyDef*, 4> kAll = {
      &LlamaFamily(), &Qwen2Family(), &Qwen3Family(), &Gemma3Family()};
  return kAll;
}

Result<const FamilyDef*> FamilyForGguf(std::string_view architecture) {
  for (const FamilyDef* f : Families()) {
    for (std::string_view a : f->gguf_archs) {
      if (a == architecture) return f;
    }
  }
  return Unimplemented("unsupported architecture '" +
                       std::string(architecture) +
                       "' (supported: " + SupportedList() + ")");
}

Result<const FamilyDef*> FamilyForHf(const ModelConfig& config) {
  for (const FamilyDef* f : Families()) {
    if (f->hf_family == config.family) return f;
  }
  return Unimplemented("unsupported architecture '" +
                       std::string(ModelFamilyName(config.family)) +
                       "' (model_type '" + config.model_type +
                       "'; supported: " + SupportedList() + ")");
}

}  // namespace silica
