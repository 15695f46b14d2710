// LoadModel: open a checkpoint, pick its family, build the model.
#include "model/model.h"

#include <filesystem>
#include <string>
#include <utility>

#include "io/gguf_source.h"
#include "io/model_config.h"
#include "io/safetensors_source.h"
#include "model/arch/family.h"
#include "model/layers/decoder.h"

namespace silica {
namespace {

Result<std::unique_ptr<Model>> LoadGguf(const std::string& path,
                                        Backend& backend) {
  ASSIGN_OR_RETURN(std::unique_ptr<GgufSource> source, GgufSource::Open(path));
  Result<std::string> arch = source->file().GetString("general.architecture");
  if (!arch.ok()) return arch.status().WithContext(path);
  Result<const FamilyDef*> family = FamilyForGguf(*arch);
  if (!family.ok()) return family.status().WithContext(path);
  Result<DecoderParams> params = (*family)->from_gguf(source->file());
  if (!params.ok()) return params.status();
  Result<std::unique_ptr<DecoderModel>> model = DecoderModel::Create(
      std::move(params).value(), std::move(source), (*family)->table, backend);
  if (!model.ok()) return model.status().WithContext(path);
  return std::unique_ptr<Model>(std::move(model).value());
}

Result<std::unique_ptr<Model>> LoadHfFolder(const std::string& dir,
                                            Backend& backend) {
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(dir));
  Result<const FamilyDef*> family = FamilyForHf(config);
  if (!family.ok()) return family.status().WithContext(dir);
  Result<DecoderParams> params = (*family)->from_hf(config);
  if (!params.ok()) return params.status().WithContext(dir);
  // generation_config.json's eos list is what generation stops on.
  ASSIGN_OR_RETURN(std::optional<GenerationConfig> gen,
                   LoadGenerationConfig(dir));
  if (gen.has_value()) {
    for (int64_t id : gen->eos_token_ids) {
      const auto id32 = static_cast<int32_t>(id);
      bool seen = false;
      for (int32_t e : params->eos_token_ids) seen |= e == id32;
      if (!seen && id >= 0 && id < params->vocab_size) {
        params->eos_token_ids.push_back(id32);
      }
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsSource> source,
                   SafetensorsSource::Open(dir));
  Result<std::unique_ptr<DecoderModel>> model = DecoderModel::Create(
      std::move(params).value(), std::move(source), (*family)->table, backend);
  if (!model.ok()) return model.status().WithContext(dir);
  return std::unique_ptr<Model>(std::move(model).value());
}

}  // namespace

KVCacheShape Model::KVShape(int num_blocks, int block_size, DType dtype) const {
  KVCacheShape s;
  s.num_layers = info().num_layers;
  s.n_kv_heads = info().n_kv_heads;
  s.head_dim = info().head_dim;
  s.block_size = block_size;
  s.num_blocks = num_blocks;
  s.dtype = dtype;
  return s;
}

Result<std::unique_ptr<Model>> LoadModel(const std::string& path,
                                         Backend& backend) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return LoadHfFolder(path, backend);
  }
  if (!std::filesystem::exists(path, ec)) {
    return NotFound(path + ": no such file or folder");
  }
  if (path.ends_with(".safetensors")) {
    return InvalidArgument(path +
                           ": a safetensors file alone has no "
                           "config; pass the model folder");
  }
  return LoadGguf(path, backend);
}

}  // namespace silica
