#include "silica/synth/synth.h"

#include <filesystem>

#include "silica/synth/arch_shapes.h"
#include "silica/synth/gguf_emitter.h"
#include "silica/synth/safetensors_emitter.h"
#include "silica/synth/tokenizer_source.h"

namespace silica::synth {

Result<SynthReport> Synthesize(const SynthOptions& o) {
  if (o.output.empty()) return InvalidArgument("no output path given");
  ASSIGN_OR_RETURN(ArchShape shape, FindArchShape(o.arch));
  if (o.layers) {
    ASSIGN_OR_RETURN(shape, WithLayers(std::move(shape), *o.layers));
  }
  const bool gguf = o.format == OutputFormat::kGguf;
  const DType dtype = o.dtype.value_or(gguf ? DType::kF16 : DType::kBF16);
  // Check the dtype before reading a 150k-token vocabulary.
  if (gguf) {
    RETURN_IF_ERROR(GgufFileType(dtype).status());
  } else if (dtype != DType::kF32 && dtype != DType::kF16 &&
             dtype != DType::kBF16) {
    return InvalidArgument("safetensors synth writes f32, f16 or bf16, not " +
                           std::string(DTypeName(dtype)));
  }
  ASSIGN_OR_RETURN(const TokenizerData tok,
                   ResolveTokenizer(shape, o.models_dir, o.tokenizer_from));

  SynthReport report;
  report.tokenizer_source = tok.source;
  report.dtype = std::string(DTypeName(dtype));
  for (const TensorSpec& t : TensorsOf(shape)) {
    if ((gguf ? t.gguf_name : t.hf_name).empty()) continue;
    ++report.tensors;
    report.parameters += t.NumElements();
  }
  if (gguf) {
    RETURN_IF_ERROR(WriteSynthGguf(shape, tok, dtype, o.seed, o.output));
    report.files = {o.output};
  } else {
    ASSIGN_OR_RETURN(report.files,
                     WriteSynthSafetensors(shape, tok, dtype, o.seed,
                                           o.max_shard_bytes, o.output));
  }
  for (const std::string& f : report.files) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(f, ec);
    if (!ec) report.bytes += size;
  }
  return report;
}

}  // namespace silica::synth
