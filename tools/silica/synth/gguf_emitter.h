// Writes a synthetic model as a GGUF file that llama.cpp loads unchanged:
// its tensor names and shape order, the metadata keys its loader needs
// for the architecture (as convert_hf_to_gguf.py writes them), and, for
// quantized file types, the per-tensor types llama-quantize would choose.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/status.h"
#include "silica/synth/arch_shapes.h"
#include "silica/synth/tokenizer_source.h"

namespace silica::synth {

// general.file_type (llama_ftype) of a file whose main type is `dtype`.
// InvalidArgument for types silica does not write as a GGUF file type.
Result<uint32_t> GgufFileType(DType dtype);

// The type of tensor `t` in a file of type `file_dtype`, by llama.cpp's
// rules: 1-D tensors stay F32; for a quantized file the output matrix (or,
// with tied embeddings, the token embedding that doubles as it) is Q6_K
// unless the file is Q8_0, falling back to Q8_0 when a row is not a whole
// number of Q6_K blocks. InvalidArgument when a row does not fit the type.
Result<DType> GgufTensorType(DType file_dtype, const TensorSpec& t,
                             bool tied_embeddings);

// Writes the model to `path`. Tensors are produced one at a time while
// the file is written, so memory stays at about one tensor.
Status WriteSynthGguf(const ArchShape& shape, const TokenizerData& tok,
                      DType file_dtype, uint64_t seed, const std::string& path);

}  // namespace silica::synth
