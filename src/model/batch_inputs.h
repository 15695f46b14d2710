// BatchInputs: one forward step's work as a flat batch of tokens from any
// number of sequences (prefill chunks and single decode tokens mixed), over
// a paged KV cache. A single-sequence run is just num_seqs = 1.
#pragma once

#include <cstdint>
#include <span>

#include "backend/op_table.h"

namespace silica {

struct BatchInputs {
  std::span<const int32_t> token_ids;     // [T]
  std::span<const int32_t> positions;     // [T]
  std::span<const int32_t> slot_mapping;  // [T] KV slot each token writes
  AttentionBatch attention;               // per-sequence geometry
  // Rows of the batch (indices into [0, T)) whose logits are wanted, in
  // the order logits are written.
  std::span<const int32_t> logits_rows;
};

}  // namespace silica
