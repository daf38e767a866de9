// topkRows: the top-K of score rows computed outside the native core (models scored in TypeScript, e.g. the
// deep models on TensorFlow.js), with the same filters and result layout as a native model's recommendBatch.
#include <algorithm>
#include <limits>
#include <string>

#include "core/common.h"
#include "core/csr.h"
#include "core/threads.h"
#include "core/topk.h"

namespace recsys {
namespace {

// topkRows(scores Float32Array (n x nItems), nItems, k, seenRows Int32Array | undefined, seen CSR | undefined,
//          exclude?, include?, threads) -> { items, scores, counts, k }
// Row r is filtered by row seenRows[r] of `seen` (a negative or out-of-range row filters nothing).
Napi::Value TopkRows(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto scores = typed_array<const float>(info[0], "scores");
    int32_t n_items = static_cast<int32_t>(int_arg(info[1], "nItems", 1, std::numeric_limits<int32_t>::max()));
    int k = static_cast<int>(int_arg(info[2], "k", 0, std::numeric_limits<int32_t>::max()));
    k = std::min(k, n_items);
    if (scores.size % static_cast<size_t>(n_items) != 0) fail_arg("scores must hold whole rows of nItems values");
    const int64_t n = static_cast<int64_t>(scores.size / n_items);
    auto seen_rows = optional_typed_array<const int32_t>(info[3], "seenRows");
    CsrView seen;
    bool has_seen = !(info[4].IsUndefined() || info[4].IsNull());
    if (has_seen) {
      seen = csr_arg(info[4], "seen", CsrCheck::Rows);
      if (seen_rows.size != static_cast<size_t>(n)) fail_arg("seenRows must have one entry per score row");
      check_csr_rows(seen, "seen", seen_rows.data, seen_rows.size);  // the rows that are read
    }
    auto exclude = optional_typed_array<const int32_t>(info[5], "exclude");
    TopKFilter base;
    base.exclude = exclude.data;
    base.n_exclude = static_cast<int64_t>(exclude.size);
    if (!(info[6].IsUndefined() || info[6].IsNull())) {
      auto inc = typed_array<const int32_t>(info[6], "include");
      base.include = inc.data;
      base.n_include = static_cast<int64_t>(inc.size);
      base.has_include = true;
    }
    int threads = static_cast<int>(int_arg(info[7], "threads", 0, 1024));
    std::vector<int32_t> out_items(static_cast<size_t>(n) * k, -1);
    std::vector<float> out_scores(static_cast<size_t>(n) * k, std::numeric_limits<float>::quiet_NaN());
    std::vector<int32_t> counts(n, 0);
    int nt = resolve_threads(threads);
    std::vector<std::vector<ScoredItem>> best(nt, std::vector<ScoredItem>(std::max(k, 1)));
    std::vector<std::vector<int32_t>> scratch(nt);
    parallel_for(
        n, nt,
        [&](int64_t r, int tid) {
      TopKFilter f = base;
      if (has_seen) {
        int32_t u = seen_rows[r];
        if (u >= 0 && u < seen.rows) {
          f.seen = seen.indices + seen.indptr[u];
          f.n_seen = seen.indptr[u + 1] - seen.indptr[u];
        }
      }
      int got = topk(scores.data + r * n_items, n_items, k, f, best[tid].data(), scratch[tid]);
      counts[r] = got;
      for (int j = 0; j < got; ++j) {
        out_items[r * k + j] = best[tid][j].item;
        out_scores[r * k + j] = best[tid][j].score;
      }
        },
        16);
    auto o = Napi::Object::New(info.Env());
    o.Set("items", to_js(info.Env(), out_items));
    o.Set("scores", to_js(info.Env(), out_scores));
    o.Set("counts", to_js(info.Env(), counts));
    o.Set("k", Napi::Number::New(info.Env(), k));
    return o;
  });
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("topkRows", Napi::Function::New(env, TopkRows)); }

}  // namespace
RECSYS_REGISTER_EXPORTS(topk_rows, init);
}  // namespace recsys
