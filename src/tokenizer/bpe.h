// The two merge loops.
//
// Rank BPE (byte-level and Hugging Face BPE): repeatedly merge the adjacent
// pair with the lowest merge rank, leftmost first on ties.
//
// Score BPE (llama.cpp's SentencePiece "llama" vocab): repeatedly merge the
// adjacent pair whose concatenated text is a token with the highest score,
// leftmost first on ties.
//
// Both work in caller-provided scratch space, so encoding allocates nothing
// per merge.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/tables.h"

namespace silica::tok {

struct MergeScratch {
  struct Sym {
    int32_t id;
    int32_t prev;
    int32_t next;
    uint32_t begin;  // byte offset (score BPE)
    uint32_t len;    // bytes; 0 once merged away
  };
  struct Cand {
    float score;   // score BPE
    int32_t rank;  // rank BPE
    int32_t left;
    int32_t right_id;  // rank BPE: the pair it was built for
    int32_t left_id;
    uint32_t len;  // score BPE: combined length when queued
  };
  std::vector<Sym> syms;
  std::vector<int32_t> ranks;
  std::vector<int32_t> results;
  std::vector<Cand> heap;
};

// Merges `ids` in place.
void RankBpeMerge(const MergeTable& merges, std::vector<int32_t>* ids,
                  MergeScratch* scratch);

// Splits `text` into UTF-8 characters, merges by score and appends the ids
// to `out`. Characters that end up as no token are emitted as byte tokens
// (byte_tokens[b], or unk_id when that is missing too; skipped when both
// are -1).
void ScoreBpeEncode(std::string_view text, const TextIndex& index,
                    const std::vector<float>& scores,
                    const int32_t* byte_tokens, int32_t unk_id,
                    std::vector<int32_t>* out, MergeScratch* scratch);

}  // namespace silica::tok
