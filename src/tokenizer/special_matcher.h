// Finds special tokens (control / user-defined / unknown) in text and cuts
// the text into fragments: plain text to run through the tokenizer model,
// and tokens taken as they are.
//
// All occurrences are found in one pass over a byte trie; which occurrences
// win when they overlap is then decided by the SpecialMatchMode:
//  * kLlamaCpp reproduces llama.cpp's partition exactly: tokens are taken
//    longest first (ties in the order std::sort leaves equal lengths), each
//    one claiming every non-overlapping occurrence left in the remaining
//    text before the next token is looked at;
//  * kLeftmostLongest is Hugging Face's added-vocabulary rule.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "tokenizer/spec.h"

namespace silica::tok {

struct Fragment {
  uint32_t begin = 0;  // byte range of plain text when id < 0
  uint32_t end = 0;
  int32_t id = -1;  // the special token, or -1 for plain text
};

struct SpecialCandidate {
  int32_t id;
  std::string_view text;  // must outlive the matcher
  bool always;  // user-defined: matched even without parse_special
  bool lstrip;
  bool rstrip;
};

class SpecialMatcher {
 public:
  SpecialMatcher() = default;
  SpecialMatcher(std::vector<SpecialCandidate> candidates,
                 SpecialMatchMode mode);

  bool empty() const { return cands_.empty(); }

  // Byte ranges taken so far: begin -> (end, token id or -1 for stripped
  // whitespace that belongs to no fragment).
  struct Span {
    uint32_t end;
    int32_t id;
  };
  using Claimed = std::map<uint32_t, Span>;

  // Appends the fragments of `text` to `out` in order. Stripped whitespace
  // (lstrip/rstrip) appears in no fragment.
  void Partition(std::string_view text, bool parse_special,
                 std::vector<Fragment>* out) const;

 private:
  struct Occurrence {
    uint32_t begin;
    uint32_t end;
    uint32_t cand;  // index into cands_ (which is in priority order)
  };
  // Lists occurrences (up to `budget`; returns false past it) and marks
  // every candidate that occurs in `present`.
  bool FindAll(std::string_view text, bool parse_special, size_t budget,
               std::vector<Occurrence>* out, std::vector<uint8_t>* present) const;
  // Trie child of `node` for `byte` (-1: end of text), 0 when none.
  uint32_t Step(uint32_t node, int byte) const;
  void ResolveLlamaCpp(std::string_view text, std::vector<Occurrence>& occ,
                       std::vector<Fragment>* out) const;
  void ResolveLlamaCppBySearch(std::string_view text, const std::vector<uint8_t>& present,
                               std::vector<Fragment>* out) const;
  void PartitionLeftmostLongest(std::string_view text, bool parse_special,
                                std::vector<Fragment>* out) const;
  // Whether [begin, end) lies inside one unclaimed fragment, and its bounds.
  static bool Unclaimed(const Claimed& claimed, uint32_t begin, uint32_t end, uint32_t n,
                        uint32_t* frag_begin, uint32_t* frag_end);
  // Claims a token occurrence (plus stripped whitespace); returns where the
  // search for this token resumes.
  static uint32_t Take(std::string_view text, const SpecialCandidate& c, uint32_t begin,
                       uint32_t end, uint32_t frag_begin, uint32_t frag_end, Claimed* claimed);

  // Candidates sorted by priority (kLlamaCpp order); the trie's terminal
  // nodes point into this array.
  std::vector<SpecialCandidate> cands_;
  SpecialMatchMode mode_ = SpecialMatchMode::kLlamaCpp;

  // Byte trie. Node 0 is the root, whose children are a dense table.
  struct Node {
    uint32_t first_edge = 0;
    uint16_t num_edges = 0;
    int32_t cand = -1;  // candidate ending here
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;  // per node, sorted by byte
  int32_t root_child_[256] = {};  // 0 = none
};

}  // namespace silica::tok
