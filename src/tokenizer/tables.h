// Lookup tables on the encode hot path: token text -> id and BPE merge pair
// -> (rank, result). Open addressing with linear probing: one allocation at
// build time, none per lookup.
#pragma once

#include <cstdint>
#include <climits>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace silica::tok {

inline uint64_t HashBytes(std::string_view s) {
  // FNV-1a over 8-byte words, then a final avalanche (splitmix64).
  uint64_t h = 0xcbf29ce484222325ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 0x100000001b3ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

// Maps token texts to ids. The texts are owned by the caller's vector,
// which must not change after Build. Each slot keeps 32 bits of the hash
// beside the id, so a lookup that misses (most SentencePiece bigrams) is
// decided without touching the token strings.
class TextIndex {
 public:
  // Returns the index of the first duplicate text, or -1.
  int64_t Build(const std::vector<std::string>* texts) {
    texts_ = texts;
    size_t cap = 16;
    while (cap < texts->size() * 2) cap <<= 1;
    slots_.assign(cap, 0);
    mask_ = cap - 1;
    for (size_t i = 0; i < texts->size(); ++i) {
      const std::string& t = (*texts)[i];
      const uint64_t h = HashBytes(t);
      size_t s = h & mask_;
      while (slots_[s] != 0) {
        if ((*texts)[Id(slots_[s])] == t) return static_cast<int64_t>(i);
        s = (s + 1) & mask_;
      }
      slots_[s] = (h & kTagMask) | (i + 1);
    }
    return -1;
  }
  int32_t Find(std::string_view text) const {
    if (slots_.empty()) return -1;
    const uint64_t h = HashBytes(text);
    const uint64_t tag = h & kTagMask;
    size_t s = h & mask_;
    for (;;) {
      const uint64_t slot = slots_[s];
      if (slot == 0) return -1;
      if ((slot & kTagMask) == tag && (*texts_)[Id(slot)] == text) return Id(slot);
      s = (s + 1) & mask_;
    }
  }

 private:
  static constexpr uint64_t kTagMask = 0xFFFFFFFF00000000ull;
  static int32_t Id(uint64_t slot) { return static_cast<int32_t>((slot & 0xFFFFFFFFu) - 1); }
  const std::vector<std::string>* texts_ = nullptr;
  std::vector<uint64_t> slots_;  // 0 = empty, else hash tag | (id + 1)
  size_t mask_ = 0;
};

class MergeTable {
 public:
  void Reserve(size_t n) {
    count_ = 0;
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  // Keeps the first (lowest-rank) rule for a pair, as llama.cpp does.
  void Insert(int32_t left, int32_t right, int32_t rank, int32_t result) {
    if ((count_ + 1) * 2 > slots_.size()) Grow();
    const uint64_t key = Key(left, right);
    size_t s = Hash(key) & mask_;
    while (slots_[s].key != kEmpty) {
      if (slots_[s].key == key) return;
      s = (s + 1) & mask_;
    }
    slots_[s] = {key, rank, result};
    ++count_;
  }
  // Rank of the pair, or INT32_MAX when the pair does not merge.
  int32_t Find(int32_t left, int32_t right, int32_t* result) const {
    if (slots_.empty()) return INT32_MAX;
    const uint64_t key = Key(left, right);
    size_t s = Hash(key) & mask_;
    for (;;) {
      const Slot& slot = slots_[s];
      if (slot.key == key) {
        *result = slot.result;
        return slot.rank;
      }
      if (slot.key == kEmpty) return INT32_MAX;
      s = (s + 1) & mask_;
    }
  }
  bool empty() const { return slots_.empty(); }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    int32_t rank = 0;
    int32_t result = 0;
  };
  static uint64_t Key(int32_t l, int32_t r) {
    return (uint64_t{static_cast<uint32_t>(l)} << 32) | static_cast<uint32_t>(r);
  }
  static uint64_t Hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
  }
  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    Reserve(old.size() < 8 ? 8 : old.size());
    count_ = 0;
    for (const Slot& slot : old) {
      if (slot.key != kEmpty) {
        Insert(static_cast<int32_t>(slot.key >> 32),
               static_cast<int32_t>(slot.key & 0xFFFFFFFFu), slot.rank,
               slot.result);
      }
    }
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace silica::tok
