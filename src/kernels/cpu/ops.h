// Fast CPU kernels for every op of the forward pass except matmul, written
// once with Google Highway and compiled for every x86/Arm SIMD target; the
// best one the CPU supports is chosen at run time (HWY_DYNAMIC_DISPATCH).
// Semantics are the scalar references' (kernels/ref/ops_ref.h), which the
// parity tests hold them to on every target.
//
// The element-wise kernels work on the range they are given; the caller
// (the CPU backend) splits large inputs over its thread pool. Attention
// splits itself, because its work items (sequence, kv head, query tile)
// come from the batch geometry.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/op_params.h"

namespace silica::cpu {

// The Highway target the dispatched kernels run on ("AVX3", "AVX2", ...).
const char* DispatchedTargetName();

void RmsNorm(const float* x, const float* w, int64_t rows, int64_t dim,
             float eps, bool one_plus_w, float* y);
void Rope(float* x, int64_t tokens, int heads, const int32_t* positions,
          const RopeParams& p);
// Rope in two steps, so a caller rotating q and k of every layer at the
// same positions computes the cos/sin once per step: RopeTable writes
// 2 * rotary_dim floats per token, RopeWithTable applies them.
void RopeTable(const int32_t* positions, int64_t tokens, const RopeParams& p,
               float* table);
void RopeWithTable(float* x, int64_t tokens, int heads, const float* table,
                   const RopeParams& p);
void SiluMul(const float* gate, const float* up, int64_t n, float* out);
void GeluTanhMul(const float* gate, const float* up, int64_t n, float* out);
void Softmax(float* x, int64_t rows, int64_t n);
void Add(float* x, const float* y, int64_t n);
void StoreKV(const float* k, const float* v, int64_t tokens,
             const int32_t* slot_mapping, const PagedKV& kv);

// Per-thread working memory of Attention, kept by the caller across calls
// so a step allocates nothing once the buffers have grown.
struct AttentionScratch {
  std::vector<std::vector<float>> per_thread;
  std::vector<float> partials;  // split decode tiles' partial results
};

// Paged causal attention (see OpTable::Attention), run on `pool`. Decode
// reads each kv head's K/V once for all query heads of its group; prefill
// tiles the queries so a K/V block is reused by the whole tile. Softmax is
// online (one pass over K/V), scores and sums in f32.
void Attention(ThreadPool& pool, AttentionScratch& scratch, const float* q,
               const PagedKV& kv, const AttentionBatch& batch,
               const AttentionParams& p, float* out);

}  // namespace silica::cpu
