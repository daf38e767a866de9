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

// ---- JS test hook: _topk(scores, k, seen?, exclude?, include?) -> {items, scores} ------------------------
#include <napi.h>

#include "core/common.h"

namespace recsys {
namespace {
Napi::Value JsTopk(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto scores = typed_array<const float>(info[0], "scores");
    int k = static_cast<int>(int_arg(info[1], "k", 0, 1 << 30));
    auto seen = optional_typed_array<const int32_t>(info[2], "seen");
    auto exclude = optional_typed_array<const int32_t>(info[3], "exclude");
    for (size_t p = 1; p < seen.size; ++p)
      if (seen[p] <= seen[p - 1]) fail_arg("seen must be sorted ascending and unique");
    TopKFilter f;
    f.seen = seen.data;
    f.n_seen = static_cast<int64_t>(seen.size);
    f.exclude = exclude.data;
    f.n_exclude = static_cast<int64_t>(exclude.size);
    if (!(info[4].IsUndefined() || info[4].IsNull())) {
      auto inc = typed_array<const int32_t>(info[4], "include");
      f.include = inc.data;
      f.n_include = static_cast<int64_t>(inc.size);
      f.has_include = true;
    }
    int32_t n = static_cast<int32_t>(scores.size);
    k = std::min(k, n);
    std::vector<ScoredItem> out(std::max(k, 1));
    std::vector<int32_t> scratch;
    int got = topk(scores.data, n, k, f, out.data(), scratch);
    auto items = Napi::Int32Array::New(info.Env(), got);
    auto vals = Napi::Float32Array::New(info.Env(), got);
    for (int j = 0; j < got; ++j) {
      items[j] = out[j].item;
      vals[j] = out[j].score;
    }
    auto o = Napi::Object::New(info.Env());
    o.Set("items", items);
    o.Set("scores", vals);
    return o;
  });
}
void init(Napi::Env env, Napi::Object exports) { exports.Set("_topk", Napi::Function::New(env, JsTopk)); }
}  // namespace
RECSYS_REGISTER_EXPORTS(topk, init);
}  // namespace recsys
