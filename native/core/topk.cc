#include "core/topk.h"

#include <algorithm>
#include <cmath>

namespace recsys {

namespace {
// Min-heap on rank: the root is the worst of the current best k.
struct WorstFirst {
  bool operator()(const ScoredItem& a, const ScoredItem& b) const { return ranks_before(a, b); }
};

// Sorted, de-duplicated banned list: seen + exclude, restricted to [0, n_items).
void banned_list(const TopKFilter& f, int32_t n_items, std::vector<int32_t>& out) {
  out.clear();
  if (f.n_exclude == 0) return;  // seen is used directly from the CSR row when nothing else is banned
  out.reserve(f.n_seen + f.n_exclude);
  for (int64_t p = 0; p < f.n_seen; ++p)
    if (f.seen[p] >= 0 && f.seen[p] < n_items) out.push_back(f.seen[p]);
  for (int64_t p = 0; p < f.n_exclude; ++p)
    if (f.exclude[p] >= 0 && f.exclude[p] < n_items) out.push_back(f.exclude[p]);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}
}  // namespace

int topk(const float* scores, int32_t n_items, int k, const TopKFilter& f, ScoredItem* out,
         std::vector<int32_t>& scratch) {
  if (k <= 0 || n_items <= 0) return 0;
  banned_list(f, n_items, scratch);
  const int32_t* banned = f.n_exclude ? scratch.data() : f.seen;
  int64_t n_banned = f.n_exclude ? static_cast<int64_t>(scratch.size()) : f.n_seen;
  int n = 0;
  WorstFirst cmp;
  auto offer = [&](int32_t item) {
    float s = scores[item];
    if (std::isnan(s)) return;
    ScoredItem c{item, s};
    if (n < k) {
      out[n++] = c;
      std::push_heap(out, out + n, cmp);
    } else if (ranks_before(c, out[0])) {
      std::pop_heap(out, out + n, cmp);
      out[n - 1] = c;
      std::push_heap(out, out + n, cmp);
    }
  };
  if (f.has_include) {
    // Candidates: the include list, minus banned ids, each once.
    std::vector<int32_t> cand(f.include, f.include + f.n_include);
    std::sort(cand.begin(), cand.end());
    cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
    int64_t b = 0;
    for (int32_t item : cand) {
      if (item < 0 || item >= n_items) continue;
      while (b < n_banned && banned[b] < item) ++b;
      if (b < n_banned && banned[b] == item) continue;
      offer(item);
    }
  } else {
    int64_t b = 0;
    while (b < n_banned && banned[b] < 0) ++b;
    int32_t item = 0;
    while (item < n_items) {
      int32_t stop = b < n_banned ? std::min(banned[b], n_items) : n_items;
      // Fast path between banned ids: compare against the current threshold before touching the heap.
      for (; item < stop; ++item) {
        if (n == k) {
          float s = scores[item];
          if (!(s >= out[0].score)) continue;  // also skips NaN
          if (s == out[0].score && item > out[0].item) continue;
        }
        offer(item);
      }
      if (item < n_items && b < n_banned) {
        ++item;  // skip the banned id
        ++b;
        while (b < n_banned && banned[b] < item) ++b;
      }
    }
  }
  std::sort_heap(out, out + n, cmp);  // ascending by cmp = best first
  return n;
}

}  // namespace recsys
