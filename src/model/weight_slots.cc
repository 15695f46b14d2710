#include "model/weight_slots.h"

#include <array>
#include <string>
#include <utility>

#include "kernels/ref/quant.h"

namespace silica {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Slot::kCount)>
    kSlotNames = {
        "token_embd",    "output_norm", "output",      "rope_freqs",
        "attn_norm",     "attn_q",      "attn_k",      "attn_v",
        "attn_o",        "attn_q_bias", "attn_k_bias", "attn_v_bias",
        "attn_o_bias",   "attn_q_norm", "attn_k_norm", "attn_post_norm",
        "ffn_norm",      "ffn_gate",    "ffn_up",      "ffn_down",
        "ffn_post_norm",
};

std::string ShapeString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

// The shape a slot must have, outermost first ([out, in] for matrices).
std::vector<int64_t> ExpectedShape(Slot slot, const DecoderParams& p) {
  const int64_t q_dim = p.n_heads * p.head_dim;
  const int64_t kv_dim = p.n_kv_heads * p.head_dim;
  switch (slot) {
    case Slot::kTokenEmbd:
    case Slot::kOutput:
      return {p.vocab_size, p.hidden};
    case Slot::kRopeFreqs:
      return {p.rotary_dim / 2};
    case Slot::kAttnQ:
      return {q_dim, p.hidden};
    case Slot::kAttnK:
    case Slot::kAttnV:
      return {kv_dim, p.hidden};
    case Slot::kAttnO:
      return {p.hidden, q_dim};
    case Slot::kAttnQBias:
      return {q_dim};
    case Slot::kAttnKBias:
    case Slot::kAttnVBias:
      return {kv_dim};
    case Slot::kAttnQNorm:
    case Slot::kAttnKNorm:
      return {p.head_dim};
    case Slot::kFfnGate:
    case Slot::kFfnUp:
      return {p.intermediate, p.hidden};
    case Slot::kFfnDown:
      return {p.hidden, p.intermediate};
    default:  // hidden-sized norms and the o bias
      return {p.hidden};
  }
}

bool IsNormSlot(Slot slot) {
  switch (slot) {
    case Slot::kOutputNorm:
    case Slot::kAttnNorm:
    case Slot::kAttnQNorm:
    case Slot::kAttnKNorm:
    case Slot::kAttnPostNorm:
    case Slot::kFfnNorm:
    case Slot::kFfnPostNorm:
      return true;
    default:
      return false;
  }
}

std::string Substitute(std::string_view pattern, int64_t layer) {
  std::string s(pattern);
  const size_t at = s.find("{L}");
  if (at != std::string::npos) s.replace(at, 3, std::to_string(layer));
  return s;
}

// Hugging Face multimodal checkpoints keep the text model under another
// prefix: transformers 4.x Gemma3ForConditionalGeneration saves
// "language_model.model.*" and "language_model.lm_head.*", 5.x saves
// "model.language_model.*" with a top-level "lm_head.*".
enum class HfPrefix { kPlain, kLanguageModel, kNestedLanguageModel };

std::string ApplyHfPrefix(HfPrefix prefix, std::string name) {
  switch (prefix) {
    case HfPrefix::kPlain:
      return name;
    case HfPrefix::kLanguageModel:
      return "language_model." + name;
    case HfPrefix::kNestedLanguageModel:
      if (name.starts_with("model.")) {
        return "model.language_model." + name.substr(6);
      }
      return name;
  }
  return name;
}

class SlotResolver {
 public:
  SlotResolver(const WeightSource& source, std::span<const SlotNames> table,
               const DecoderParams& params, const OpTable& ops)
      : source_(source), table_(table), params_(params), ops_(ops) {}

  Status Init() {
    gguf_ = source_.format() == "gguf";
    if (gguf_) return Status::Ok();
    const SlotNames* embd = Find(Slot::kTokenEmbd);
    if (embd == nullptr) return Internal("slot table lacks token_embd");
    for (HfPrefix p : {HfPrefix::kPlain, HfPrefix::kLanguageModel,
                       HfPrefix::kNestedLanguageModel}) {
      if (source_.View(ApplyHfPrefix(p, std::string(embd->hf))).ok()) {
        prefix_ = p;
        return Status::Ok();
      }
    }
    return NotFound("no token embedding tensor '" + std::string(embd->hf) +
                    "' (nor under language_model.) in the checkpoint");
  }

  // The tensor name of `slot` in layer `layer`, or empty when the format
  // has none.
  std::string Name(Slot slot, int64_t layer) const {
    const SlotNames* names = Find(slot);
    if (names == nullptr) return {};
    const std::string_view pattern = gguf_ ? names->gguf : names->hf;
    if (pattern.empty()) return {};
    std::string name = Substitute(pattern, layer);
    return gguf_ ? name : ApplyHfPrefix(prefix_, std::move(name));
  }

  // A view of `slot`, or an empty view (data == nullptr) for an optional
  // slot that is absent. `needed` overrides the table (a bias the config
  // asks for is required even where the table says optional).
  Result<TensorView> View(Slot slot, int64_t layer, bool needed) const {
    const SlotNames* names = Find(slot);
    const std::string name = Name(slot, layer);
    if (name.empty()) {
      if (needed) {
        return Internal("family table has no " + std::string(source_.format()) +
                        " name for required slot " +
                        std::string(SlotName(slot)));
      }
      return TensorView{};
    }
    Result<TensorView> view = source_.View(name);
    if (!view.ok()) {
      if (!needed && names->need == SlotNeed::kOptional) return TensorView{};
      return NotFound("missing tensor '" + name + "' (" +
                      std::string(SlotName(slot)) + ")");
    }
    const std::vector<int64_t> want = ExpectedShape(slot, params_);
    bool same = view->shape.rank == static_cast<int>(want.size());
    for (size_t i = 0; same && i < want.size(); ++i) {
      same = view->shape[static_cast<int>(i)] == want[i];
    }
    if (!same) {
      return InvalidArgument(
          "tensor '" + name + "' has shape " + view->shape.ToString() +
          ", expected " + ShapeString(want) + " for " + params_.architecture);
    }
    return view;
  }

  Result<TensorView> Matrix(Slot slot, int64_t layer, Op op) const {
    ASSIGN_OR_RETURN(TensorView v, View(slot, layer, true));
    if (!ops_.Supports(op, v.dtype)) {
      return Unimplemented("tensor '" + Name(slot, layer) + "' has dtype " +
                           std::string(DTypeName(v.dtype)) +
                           ", which this backend cannot " +
                           (op == Op::kEmbed ? "embed from" : "multiply by"));
    }
    return v;
  }

  // An f32 copy of a 1-D slot (empty when absent and optional).
  Result<std::vector<float>> Vector(Slot slot, int64_t layer,
                                    bool needed) const {
    ASSIGN_OR_RETURN(TensorView v, View(slot, layer, needed));
    std::vector<float> out;
    if (v.data == nullptr) return out;
    out.resize(static_cast<size_t>(v.NumElements()));
    Status st = DequantizeRow(v.dtype, v.data, out.data(), v.NumElements());
    if (!st.ok()) return st.WithContext("tensor '" + Name(slot, layer) + "'");
    if (params_.norm_add_one && IsNormSlot(slot)) {
      for (float& x : out) x += 1.0f;
    }
    return out;
  }

  bool Has(Slot slot) const { return Find(slot) != nullptr; }

 private:
  const SlotNames* Find(Slot slot) const {
    for (const SlotNames& s : table_) {
      if (s.slot == slot) return &s;
    }
    return nullptr;
  }

  const WeightSource& source_;
  std::span<const SlotNames> table_;
  const DecoderParams& params_;
  const OpTable& ops_;
  bool gguf_ = false;
  HfPrefix prefix_ = HfPrefix::kPlain;
};

// MLX-community folders store each quantized matrix as packed uint32
// "weight" plus "scales" and "biases"; the MLX kernels are not in yet.
Status RejectMlxQuantized(const WeightSource& source, const SlotResolver& r) {
  if (source.format() == "gguf") return Status::Ok();
  const std::string q = r.Name(Slot::kAttnQ, 0);
  if (q.size() > 7 && q.ends_with(".weight")) {
    const std::string scales = q.substr(0, q.size() - 7) + ".scales";
    if (source.View(scales).ok()) {
      return Unimplemented(
          "MLX-quantized checkpoints ('" + scales +
          "' present) are not supported yet; use a GGUF file or an "
          "F32/F16/BF16 safetensors folder");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view SlotName(Slot slot) {
  return kSlotNames[static_cast<size_t>(slot)];
}

bool IsLayerSlot(Slot slot) {
  return slot >= Slot::kAttnNorm && slot < Slot::kCount;
}

Result<DecoderWeights> LoadDecoderWeights(const WeightSource& source,
                                          std::span<const SlotNames> table,
                                          const DecoderParams& p,
                                          const OpTable& ops) {
  SlotResolver r(source, table, p, ops);
  RETURN_IF_ERROR(r.Init());
  RETURN_IF_ERROR(RejectMlxQuantized(source, r));

  DecoderWeights w;
  ASSIGN_OR_RETURN(w.token_embd, r.Matrix(Slot::kTokenEmbd, -1, Op::kEmbed));
  ASSIGN_OR_RETURN(w.output, r.View(Slot::kOutput, -1, false));
  if (w.output.data == nullptr) {
    // Tied head: the logits multiply by the embedding table.
    w.tied = true;
    ASSIGN_OR_RETURN(w.output, r.Matrix(Slot::kTokenEmbd, -1, Op::kMatMul));
  } else {
    ASSIGN_OR_RETURN(w.output, r.Matrix(Slot::kOutput, -1, Op::kMatMul));
  }
  ASSIGN_OR_RETURN(w.output_norm, r.Vector(Slot::kOutputNorm, -1, true));
  if (r.Has(Slot::kRopeFreqs)) {
    ASSIGN_OR_RETURN(w.rope_freqs, r.Vector(Slot::kRopeFreqs, -1, false));
  }

  w.layers.resize(static_cast<size_t>(p.num_layers));
  for (int64_t l = 0; l < p.num_layers; ++l) {
    LayerWeights& lw = w.layers[static_cast<size_t>(l)];
    ASSIGN_OR_RETURN(lw.attn_norm, r.Vector(Slot::kAttnNorm, l, true));
    ASSIGN_OR_RETURN(lw.q, r.Matrix(Slot::kAttnQ, l, Op::kMatMul));
    ASSIGN_OR_RETURN(lw.k, r.Matrix(Slot::kAttnK, l, Op::kMatMul));
    ASSIGN_OR_RETURN(lw.v, r.Matrix(Slot::kAttnV, l, Op::kMatMul));
    ASSIGN_OR_RETURN(lw.o, r.Matrix(Slot::kAttnO, l, Op::kMatMul));
    if (r.Has(Slot::kAttnQBias)) {
      ASSIGN_OR_RETURN(lw.q_bias, r.Vector(Slot::kAttnQBias, l, p.qkv_bias));
      ASSIGN_OR_RETURN(lw.k_bias, r.Vector(Slot::kAttnKBias, l, p.qkv_bias));
      ASSIGN_OR_RETURN(lw.v_bias, r.Vector(Slot::kAttnVBias, l, p.qkv_bias));
    }
    if (r.Has(Slot::kAttnOBias)) {
      ASSIGN_OR_RETURN(lw.o_bias, r.Vector(Slot::kAttnOBias, l, false));
    }
    if (p.qk_norm) {
      ASSIGN_OR_RETURN(lw.q_norm, r.Vector(Slot::kAttnQNorm, l, true));
      ASSIGN_OR_RETURN(lw.k_norm, r.Vector(Slot::kAttnKNorm, l, true));
    }
    if (p.post_norms) {
      ASSIGN_OR_RETURN(lw.attn_post_norm,
                       r.Vector(Slot::kAttnPostNorm, l, true));
      ASSIGN_OR_RETURN(lw.ffn_post_norm, r.Vector(Slot::kFfnPostNorm, l, true));
    }
    ASSIGN_OR_RETURN(lw.ffn_norm, r.Vector(Slot::kFfnNorm, l, true));
    ASSIGN_OR_RETURN(lw.gate, r.Matrix(Slot::kFfnGate, l, Op::kMatMul));
    ASSIGN_OR_RETURN(lw.up, r.Matrix(Slot::kFfnUp, l, Op::kMatMul));
    ASSIGN_OR_RETURN(lw.down, r.Matrix(Slot::kFfnDown, l, Op::kMatMul));
  }
  return w;
}

}  // namespace silica
