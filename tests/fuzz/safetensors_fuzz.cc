// libFuzzer target: the input is parsed as a safetensors file (every view's
// bytes are read, so ASan catches a view that leaves the buffer) and, as
// text, as config.json, generation_config.json and a safetensors index.
// Any accepted file must also satisfy the reader's invariants, checked here.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "core/dtype.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "io/safetensors_index.h"

namespace {

void Require(bool ok) {
  if (!ok) std::abort();
}

void CheckSafetensors(std::span<const uint8_t> bytes) {
  auto parsed = silica::SafetensorsFile::Parse(bytes, "fuzz.safetensors");
  if (!parsed.ok()) return;
  const silica::SafetensorsFile& file = **parsed;
  Require(file.data_offset() <= bytes.size());
  uint64_t sum = 0;
  uint64_t prev_end = 0;
  for (const silica::SafetensorsTensorInfo& info : file.tensors()) {
    Require(file.FindTensor(info.name) == &info);
    const silica::TensorView v = file.View(info);
    Require(v.nbytes == info.nbytes());
    Require(file.data_offset() + info.end <= bytes.size());
    uint64_t elems = static_cast<uint64_t>(v.NumElements());
    Require(elems * silica::GetDTypeInfo(v.dtype).block_bytes == v.nbytes);
    if (v.nbytes > 0) {
      Require(info.begin >= prev_end);  // sorted and disjoint
      prev_end = info.end;
    }
    const auto* p = static_cast<const uint8_t*>(v.data);
    for (uint64_t i = 0; i < v.nbytes; ++i) sum += p[i];
  }
  for (const auto& [key, value] : file.metadata()) {
    Require(file.FindMetadata(key) != nullptr);
  }
  volatile uint64_t sink = sum;
  (void)sink;
}

void CheckJsonParsers(std::string_view text) {
  auto config = silica::ParseModelConfig(text, "fuzz/config.json");
  if (config.ok()) {
    const silica::ModelConfig& c = *config;
    Require(c.num_hidden_layers > 0 && c.hidden_size > 0 && c.head_dim > 0);
    Require(static_cast<int64_t>(c.layer_types.size()) == c.num_hidden_layers);
    Require(c.num_attention_heads % c.num_key_value_heads == 0);
  }
  (void)silica::ParseGenerationConfig(text, "fuzz/generation_config.json");
  auto index = silica::ParseSafetensorsIndex(text, "fuzz/index.json");
  if (index.ok()) {
    for (const auto& [tensor, shard] : index->weight_map) {
      Require(silica::CheckShardPath(shard, "fuzz").ok());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  CheckSafetensors(bytes);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckJsonParsers(text);
  // A safetensors seed carries its JSON after the 8-byte length; parse that
  // too so mutations of the header reach the config parsers.
  if (size > 8) CheckJsonParsers(text.substr(8));
  return 0;
}
