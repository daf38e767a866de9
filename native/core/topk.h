// Exact top-K selection over one row of scores, with the filters every recommend call needs: items already
// seen, an exclude list and an include list (only these items are candidates). Ties go to the smaller item
// index, NaN scores never win, and a user who has seen everything gets fewer than k (possibly zero) results.
#pragma once
#include <cstdint>
#include <vector>

namespace recsys {

struct TopKFilter {
  const int32_t* seen = nullptr;  // sorted ascending (a CSR row), may hold ids >= n_items (ignored)
  int64_t n_seen = 0;
  const int32_t* exclude = nullptr;  // any order, any ids (out-of-range ids are ignored)
  int64_t n_exclude = 0;
  const int32_t* include = nullptr;  // when has_include: the only candidates (any order; duplicates ignored)
  int64_t n_include = 0;
  bool has_include = false;
};

struct ScoredItem {
  int32_t item;
  float score;
};

// True when a ranks before b: higher score, then smaller item index.
inline bool ranks_before(const ScoredItem& a, const ScoredItem& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

// Writes up to k best items of scores[0..n_items) to out (best first) and returns how many were written.
// `scratch` is reused between calls to avoid allocation on the hot path.
int topk(const float* scores, int32_t n_items, int k, const TopKFilter& filter, ScoredItem* out,
         std::vector<int32_t>& scratch);

}  // namespace recsys
