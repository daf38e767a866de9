// Per-user ranking metrics over a block of score rows, parallel over users. The scores come from the caller
// (a native model's scoreUsers, or TS for models scored outside the core), so every model is evaluated by this
// one path. The function returns per-user values, not sums: TS adds them up in user order, which keeps the
// result identical for any thread count and block size. Definitions (and which library each one follows) are
// documented in ts/eval/evaluate.ts.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/common.h"
#include "core/csr.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/topk.h"

namespace recsys {
namespace {

enum class Gain { Binary, Raw, Exp };

// A sorted row of item ids (a CSR row), checked where it is used: the CSRs come from JS.
struct Row {
  const int32_t* idx = nullptr;
  const float* val = nullptr;
  int32_t n = 0;
  bool contains(int32_t item) const { return std::binary_search(idx, idx + n, item); }
  // Position of item in the row, or -1.
  int32_t find(int32_t item) const {
    const int32_t* p = std::lower_bound(idx, idx + n, item);
    return (p != idx + n && *p == item) ? static_cast<int32_t>(p - idx) : -1;
  }
};

Row checked_row(const CsrView& m, int32_t r, const char* name) {
  Row row;
  if (r >= m.rows) return row;  // rows past the matrix are empty
  int32_t b = m.indptr[r], e = m.indptr[r + 1];
  if (b < 0 || e < b || e > m.nnz())
    fail_arg(std::string(name) + ".indptr is not monotone at row " + std::to_string(r));
  row.idx = m.indices + b;
  row.val = m.data ? m.data + b : nullptr;
  row.n = e - b;
  for (int32_t p = 0; p < row.n; ++p) {
    if (row.idx[p] < 0) fail_arg(std::string(name) + " has a negative item index in row " + std::to_string(r));
    if (p > 0 && row.idx[p] <= row.idx[p - 1])
      fail_arg(std::string(name) + " row " + std::to_string(r) + " is not sorted and unique");
  }
  return row;
}

// Score with NaN treated as the lowest possible value (a NaN never ranks above anything).
inline double ord(float s) { return std::isnan(s) ? -std::numeric_limits<double>::infinity() : static_cast<double>(s); }

// Calls visit(item) for every item in [0, n_items) that is in neither sorted row.
template <typename F>
void for_each_unseen(int32_t n_items, const Row& a, const Row& b, F&& visit) {
  int32_t pa = 0, pb = 0;
  for (int32_t i = 0; i < n_items; ++i) {
    while (pa < a.n && a.idx[pa] < i) ++pa;
    while (pb < b.n && b.idx[pb] < i) ++pb;
    if ((pa < a.n && a.idx[pa] == i) || (pb < b.n && b.idx[pb] == i)) continue;
    visit(i);
  }
}

// Scratch one thread reuses across users.
struct Scratch {
  std::vector<ScoredItem> best;
  std::vector<int32_t> topk_scratch;
  std::vector<double> gains, pos_scores;
  std::vector<int32_t> cand, negs;
  // Epoch marks (no clearing between users): picked[i] == pick_epoch marks a negative already drawn for the
  // current positive, banned[i] == ban_epoch an item of the current user's train or test row.
  std::vector<uint32_t> picked, banned;
  uint32_t pick_epoch = 0, ban_epoch = 0;
  std::vector<int32_t> min_rank;
};

// Negatives for the sampled protocol: for each test item of the user, in row order, `n_neg` items drawn uniformly
// without replacement from the items in [0, n_items) the user has in neither train nor test (all of them when
// there are no more than n_neg). One random stream per user (seed, user), so the draw does not depend on the
// thread that handles the user. on_positive(position in test row, negatives, count) is called for each test item
// the model can rank (inside the catalogue and not in train); the others get no negatives.
template <typename F>
void sample_negatives(int32_t n_items, uint64_t seed, int32_t user, const Row& train, const Row& test, int n_neg,
                      Scratch& s, F&& on_positive) {
  // Candidates = catalogue minus the union of the two rows (restricted to the catalogue).
  int64_t excluded = 0;
  {
    int32_t pa = 0, pb = 0;
    while (pa < train.n || pb < test.n) {
      int32_t x = pa < train.n ? train.idx[pa] : std::numeric_limits<int32_t>::max();
      int32_t y = pb < test.n ? test.idx[pb] : std::numeric_limits<int32_t>::max();
      int32_t v = std::min(x, y);
      if (v >= n_items) break;
      ++excluded;
      if (x == v) ++pa;
      if (y == v) ++pb;
    }
  }
  int64_t n_cand = n_items - excluded;
  Rng rng(seed, static_cast<uint64_t>(user));
  bool listed = false, marked = false;
  if (s.picked.size() < static_cast<size_t>(n_items)) {
    s.picked.assign(n_items, 0);
    s.banned.assign(n_items, 0);
  }
  for (int32_t p = 0; p < test.n; ++p) {
    int32_t pos = test.idx[p];
    if (pos >= n_items || train.contains(pos)) continue;
    s.negs.clear();
    if (n_cand <= n_neg || n_cand * 2 < n_items) {
      // Few candidates: list them once, then a partial Fisher-Yates per positive (or all of them).
      if (!listed) {
        s.cand.clear();
        for_each_unseen(n_items, train, test, [&](int32_t i) { s.cand.push_back(i); });
        listed = true;
      }
      int64_t c = static_cast<int64_t>(s.cand.size());
      if (c <= n_neg) {
        s.negs.assign(s.cand.begin(), s.cand.end());
      } else {
        for (int j = 0; j < n_neg; ++j) {
          int64_t r = j + rng.below(static_cast<uint32_t>(c - j));
          std::swap(s.cand[j], s.cand[r]);
          s.negs.push_back(s.cand[j]);
        }
      }
    } else {
      // Most items are candidates: draw and reject (expected < 2 draws per negative).
      if (!marked) {
        if (++s.ban_epoch == 0) {
          std::fill(s.banned.begin(), s.banned.end(), 0);
          s.ban_epoch = 1;
        }
        for (const Row* row : {&train, &test})
          for (int32_t q = 0; q < row->n && row->idx[q] < n_items; ++q) s.banned[row->idx[q]] = s.ban_epoch;
        marked = true;
      }
      if (++s.pick_epoch == 0) {
        std::fill(s.picked.begin(), s.picked.end(), 0);
        s.pick_epoch = 1;
      }
      while (static_cast<int>(s.negs.size()) < n_neg) {
        int32_t i = static_cast<int32_t>(rng.below(static_cast<uint32_t>(n_items)));
        if (s.picked[i] == s.pick_epoch || s.banned[i] == s.ban_epoch) continue;
        s.picked[i] = s.pick_epoch;
        s.negs.push_back(i);
      }
    }
    on_positive(p, s.negs.data(), static_cast<int>(s.negs.size()));
  }
}

struct Options {
  std::vector<int32_t> ks;  // ascending, >= 1
  Gain gain = Gain::Binary;
  bool auc = false;
  int n_neg = 0;  // 0 = no sampled protocol
  uint64_t seed = 42;
  int threads = 0;
};

// Columns per user: [n_test, auc, (hits, ndcg, ap_sum, rr) per k, (sampled_hr, sampled_ndcg) per k if sampled].
int n_columns(const Options& o) {
  return 2 + 4 * static_cast<int>(o.ks.size()) + (o.n_neg > 0 ? 2 * static_cast<int>(o.ks.size()) : 0);
}

inline double discount(int64_t rank1) { return 1.0 / std::log2(static_cast<double>(rank1) + 1.0); }

void user_metrics(const float* sc, int32_t n_items, int32_t u, const CsrView& train, const CsrView& test,
                  const Options& o, Scratch& s, double* out) {
  Row tr = checked_row(train, u, "train");
  Row te = checked_row(test, u, "test");
  if (o.gain != Gain::Binary && !te.val && te.n > 0) fail_arg("graded NDCG needs ratings in the test data");
  const int nk = static_cast<int>(o.ks.size());
  const int kmax = std::min<int32_t>(o.ks.back(), n_items);
  out[0] = te.n;
  out[1] = std::numeric_limits<double>::quiet_NaN();
  auto gain_of = [&](int32_t p) -> double {
    if (o.gain == Gain::Binary) return 1.0;
    double r = te.val[p];
    return o.gain == Gain::Raw ? r : std::exp2(r) - 1.0;
  };

  // Top-K over the catalogue, the user's training items excluded.
  TopKFilter f;
  f.seen = tr.idx;
  f.n_seen = tr.n;
  s.best.resize(std::max(kmax, 1));
  int got = topk(sc, n_items, kmax, f, s.best.data(), s.topk_scratch);
  if (!s.min_rank.empty())
    for (int j = 0; j < got; ++j) s.min_rank[s.best[j].item] = std::min(s.min_rank[s.best[j].item], j);

  // Ideal DCG: the largest gains first (binary: min(K, |test|) ones).
  s.gains.resize(te.n);
  for (int32_t p = 0; p < te.n; ++p) s.gains[p] = gain_of(p);
  if (o.gain != Gain::Binary) std::sort(s.gains.begin(), s.gains.end(), [](double a, double b) { return a > b; });

  // One pass down the list, recording the running sums at each cutoff (ks ascending, so the ideal DCG grows
  // monotonically too).
  double hits = 0, dcg = 0, ap = 0, rr = 0, idcg = 0;
  int64_t ideal_pos = 0;
  auto record = [&](int ki) {
    int64_t upto = std::min<int64_t>(o.ks[ki], te.n);
    for (; ideal_pos < upto; ++ideal_pos) idcg += s.gains[ideal_pos] * discount(ideal_pos + 1);
    double* c = out + 2 + 4 * ki;
    c[0] = hits;
    c[1] = idcg > 0 ? dcg / idcg : 0.0;
    c[2] = ap;
    c[3] = rr;
  };
  int ki = 0;
  for (int j = 0; j < kmax && ki < nk; ++j) {
    if (j < got) {
      int32_t q = te.find(s.best[j].item);
      if (q >= 0) {
        hits += 1;
        dcg += gain_of(q) * discount(j + 1);
        ap += hits / (j + 1);
        if (rr == 0) rr = 1.0 / (j + 1);
      }
    }
    while (ki < nk && o.ks[ki] == j + 1) record(ki++);
  }
  while (ki < nk) record(ki++);  // cutoffs past the catalogue size: nothing more can be ranked

  // AUC (Rendle et al. 2009): the share of (test item, other item) pairs ranked in the right order, over the items
  // the model can score: positives = test items in the catalogue and not in train, negatives = catalogue items in
  // neither. Ties count one half.
  if (o.auc) {
    s.pos_scores.clear();
    for (int32_t p = 0; p < te.n; ++p)
      if (te.idx[p] < n_items && !tr.contains(te.idx[p])) s.pos_scores.push_back(ord(sc[te.idx[p]]));
    std::sort(s.pos_scores.begin(), s.pos_scores.end());
    double right = 0;
    int64_t n_negative = 0;
    const int64_t P = static_cast<int64_t>(s.pos_scores.size());
    if (P > 0) {
      for_each_unseen(n_items, tr, te, [&](int32_t i) {
        double x = ord(sc[i]);
        if (P <= 64) {
          // Few positives: a branch-free count (vectorizes) beats a binary search on unpredictable scores.
          const double* ps = s.pos_scores.data();
          int64_t greater = 0, tied = 0;
          for (int64_t j = 0; j < P; ++j) {
            greater += ps[j] > x;
            tied += ps[j] == x;
          }
          right += static_cast<double>(greater) + 0.5 * static_cast<double>(tied);
        } else {
          // One binary search; ties are counted by walking back from it.
          int64_t below = std::upper_bound(s.pos_scores.begin(), s.pos_scores.end(), x) - s.pos_scores.begin();
          int64_t tied = 0;
          while (below - tied > 0 && s.pos_scores[below - tied - 1] == x) ++tied;
          right += static_cast<double>(P - below) + 0.5 * static_cast<double>(tied);
        }
        ++n_negative;
      });
    }
    if (P > 0 && n_negative > 0) out[1] = right / (static_cast<double>(P) * static_cast<double>(n_negative));
  }

  // Sampled protocol (He et al. 2017): each test item ranked against its sampled negatives. A negative scoring
  // the same as the positive ranks above it (the positive comes last among ties). Test items the model cannot
  // rank count as misses, so the user's value is the sum over ranked items divided by |test|.
  if (o.n_neg > 0) {
    double* c = out + 2 + 4 * nk;
    for (int ki2 = 0; ki2 < nk; ++ki2) c[2 * ki2] = c[2 * ki2 + 1] = 0;
    if (te.n > 0) {
      sample_negatives(n_items, o.seed, u, tr, te, o.n_neg, s, [&](int32_t p, const int32_t* negs, int n) {
        float ps = sc[te.idx[p]];
        if (std::isnan(ps)) return;
        int64_t rank = 1;
        for (int j = 0; j < n; ++j)
          if (sc[negs[j]] >= ps) ++rank;
        for (int ki2 = 0; ki2 < nk; ++ki2) {
          if (rank <= o.ks[ki2]) {
            c[2 * ki2] += 1;
            c[2 * ki2 + 1] += discount(rank);
          }
        }
      });
      for (int ki2 = 0; ki2 < 2 * nk; ++ki2) c[ki2] /= te.n;
    }
  }
}

Options read_options(const Napi::Value& v, const Napi::Value& ks_v, int32_t n_items) {
  Options o;
  auto ks = typed_array<const int32_t>(ks_v, "ks");
  if (ks.size == 0) fail_arg("ks must hold at least one cutoff");
  for (size_t j = 0; j < ks.size; ++j) {
    if (ks[j] < 1) fail_arg("every k must be >= 1, got " + std::to_string(ks[j]));
    if (j > 0 && ks[j] <= ks[j - 1]) fail_arg("ks must be ascending and unique");
    o.ks.push_back(ks[j]);
  }
  if (!v.IsObject()) fail_arg("options must be an object");
  auto obj = v.As<Napi::Object>();
  std::string g = string_req(obj, "gain");
  if (g == "binary") o.gain = Gain::Binary;
  else if (g == "raw") o.gain = Gain::Raw;
  else if (g == "exp") o.gain = Gain::Exp;
  else fail_arg("gain must be 'binary', 'raw' or 'exp', got '" + g + "'");
  o.auc = bool_req(obj, "auc");
  o.n_neg = static_cast<int>(int_req(obj, "negatives", 0, 1 << 24));
  o.seed = static_cast<uint64_t>(int_req(obj, "seed", 0, (int64_t{1} << 53)));
  o.threads = static_cast<int>(int_req(obj, "threads", 0, 1024));
  (void)n_items;
  return o;
}

// rankingMetrics(scores Float32Array(n * nItems), nItems, users Int32Array(n), train CSR | undefined, test CSR,
//                ks Int32Array (ascending), {gain, auc, negatives, seed, threads, minRank?: Int32Array(nItems)})
//   -> { values: Float64Array(n * columns), columns }
// minRank, when given, is lowered in place to the best (0-based) position at which each item was recommended
// (catalogue coverage: items with minRank < K were in someone's top K).
Napi::Value RankingMetrics(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto scores = typed_array<const float>(info[0], "scores");
    int32_t n_items = static_cast<int32_t>(int_arg(info[1], "nItems", 1, std::numeric_limits<int32_t>::max()));
    auto users = typed_array<const int32_t>(info[2], "users");
    CsrView train;
    // Only the listed users' rows are read: those are the ones checked (check_csr_rows below).
    if (!(info[3].IsUndefined() || info[3].IsNull())) train = csr_arg(info[3], "train", CsrCheck::Rows);
    CsrView test = csr_arg(info[4], "test", CsrCheck::Rows);
    Options o = read_options(info[6], info[5], n_items);
    const size_t n = users.size;
    if (scores.size != n * static_cast<size_t>(n_items))
      fail_arg("scores has " + std::to_string(scores.size) +
               " entries, expected users.length * nItems = " + std::to_string(n * static_cast<size_t>(n_items)));
    for (size_t r = 0; r < n; ++r)
      if (users[r] < 0 || users[r] >= test.rows)
        fail_arg("users[" + std::to_string(r) + "] = " + std::to_string(users[r]) + " is not a row of test");
    check_csr_rows(train, "train", users.data, n);
    check_csr_rows(test, "test", users.data, n);
    Span<int32_t> min_rank;
    auto obj = info[6].As<Napi::Object>();
    if (obj.Has("minRank") && !obj.Get("minRank").IsUndefined()) {
      min_rank = typed_array<int32_t>(obj.Get("minRank"), "minRank");
      if (min_rank.size != static_cast<size_t>(n_items)) fail_arg("minRank must have nItems entries");
    }
    const int cols = n_columns(o);
    std::vector<double> values(n * cols);
    int nt = resolve_threads(o.threads);
    std::vector<Scratch> scratch(nt);
    if (min_rank.data)
      for (auto& s : scratch) s.min_rank.assign(n_items, std::numeric_limits<int32_t>::max());
    parallel_for(
        static_cast<int64_t>(n), nt,
        [&](int64_t r, int tid) {
      user_metrics(scores.data + r * n_items, n_items, users[r], train, test, o, scratch[tid],
                   values.data() + r * cols);
        },
        8);
    if (min_rank.data)
      for (auto& s : scratch)
        for (int32_t i = 0; i < n_items; ++i) min_rank[i] = std::min(min_rank[i], s.min_rank[i]);
    auto out = Napi::Object::New(info.Env());
    out.Set("values", give_to_js(info.Env(), std::move(values)));
    out.Set("columns", Napi::Number::New(info.Env(), cols));
    return out;
  });
}

// _sampleNegatives(nItems, seed, user, trainRow Int32Array, testRow Int32Array, negatives)
//   -> { positions: Int32Array, offsets: Int32Array, negatives: Int32Array }
// The negatives rankingMetrics draws for one user (for tests: a reference implementation can score them).
Napi::Value SampleNegatives(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    int32_t n_items = static_cast<int32_t>(int_arg(info[0], "nItems", 1, std::numeric_limits<int32_t>::max()));
    uint64_t seed = static_cast<uint64_t>(int_arg(info[1], "seed", 0, int64_t{1} << 53));
    int32_t user = static_cast<int32_t>(int_arg(info[2], "user", 0, std::numeric_limits<int32_t>::max()));
    auto tr_a = typed_array<const int32_t>(info[3], "trainRow");
    auto te_a = typed_array<const int32_t>(info[4], "testRow");
    int n_neg = static_cast<int>(int_arg(info[5], "negatives", 1, 1 << 24));
    Row tr{tr_a.data, nullptr, static_cast<int32_t>(tr_a.size)};
    Row te{te_a.data, nullptr, static_cast<int32_t>(te_a.size)};
    for (const Row* row : {&tr, &te})
      for (int32_t p = 0; p < row->n; ++p)
        if (row->idx[p] < 0 || (p > 0 && row->idx[p] <= row->idx[p - 1]))
          fail_arg("rows must be sorted, unique and >= 0");
    Scratch s;
    std::vector<int32_t> positions, offsets{0}, negs;
    sample_negatives(n_items, seed, user, tr, te, n_neg, s, [&](int32_t p, const int32_t* ng, int n) {
      positions.push_back(p);
      negs.insert(negs.end(), ng, ng + n);
      offsets.push_back(static_cast<int32_t>(negs.size()));
    });
    auto out = Napi::Object::New(info.Env());
    out.Set("positions", give_to_js(info.Env(), std::move(positions)));
    out.Set("offsets", give_to_js(info.Env(), std::move(offsets)));
    out.Set("negatives", give_to_js(info.Env(), std::move(negs)));
    return out;
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("rankingMetrics", Napi::Function::New(env, RankingMetrics));
  exports.Set("_sampleNegatives", Napi::Function::New(env, SampleNegatives));
}

}  // namespace

RECSYS_REGISTER_EXPORTS(eval_metrics, init);

}  // namespace recsys
