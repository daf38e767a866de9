// Slope One (Lemire & Maclachlan 2005). dev(i, j) = mean over users who rated both of r_ui - r_uj.
// Default (Surprise's SlopeOne): est(u, i) = mean_u + mean of dev(i, j) over the items j of u that share a user
// with i. weighted: true gives weighted Slope One: sum_j (dev(i, j) + r_uj) c_ij / sum_j c_ij, c_ij = common users.
// The deviations are kept sparse (only pairs with common users, 12 bytes each), built per item in parallel
// (same result for any thread count). Ratings stay real numbers (Surprise truncates them to integers).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/rating.h"
#include "core/threads.h"

namespace recsys {

namespace {

struct Pair {
  int32_t j;
  int32_t freq;
  float dev;
};

class SlopeOneModel : public Model {
 public:
  bool weighted = false;
  int32_t nu = 0, ni = 0;
  double mu = 0;
  RatingScale scale;
  Csr R;                        // users x items, owned
  std::vector<float> umean;     // per user (mu when no ratings)
  std::vector<uint8_t> iknown;  // item had ratings
  std::vector<int64_t> ptr;     // item i's pairs at [ptr[i], ptr[i+1]), sorted by j
  std::vector<Pair> pairs;

  // An upper bound of |estimate|: a mean (or a rating) plus an average deviation. Past the float range some
  // estimate is +-Infinity, though every number the model holds is finite.
  double score_bound() const {
    double dev = 0;
    for (const Pair& p : pairs) dev = std::max(dev, static_cast<double>(std::abs(p.dev)));
    return std::abs(mu) + max_abs_or_inf(umean) + max_abs_or_inf(R.data) + dev;
  }

  std::string kind() const override { return "SlopeOne"; }
  int32_t n_users() const override { return nu; }
  int32_t n_items() const override { return ni; }

  // The rule for item i against a user's sorted ratings (dense lookup `rated`, NaN = not rated) and mean.
  float estimate(int32_t i, const float* rated, double mean) const {
    double sum = 0, wsum = 0;
    int64_t cnt = 0;
    for (int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
      const float r = rated[pairs[p].j];
      if (std::isnan(r)) continue;
      if (weighted) {
        sum += (pairs[p].dev + r) * static_cast<double>(pairs[p].freq);
        wsum += pairs[p].freq;
      } else {
        sum += pairs[p].dev;
        ++cnt;
      }
    }
    if (weighted) return static_cast<float>(wsum > 0 ? sum / wsum : mean);
    return static_cast<float>(cnt > 0 ? mean + sum / static_cast<double>(cnt) : mean);
  }

  // Merge of i's pairs with u's ratings (both sorted by item).
  float estimate_merge(int32_t u, int32_t i) const {
    const int32_t* a = R.indices.data() + R.indptr[u];
    const int32_t* ae = R.indices.data() + R.indptr[u + 1];
    const float* av = R.data.data() + R.indptr[u];
    const Pair* b = pairs.data() + ptr[i];
    const Pair* be = pairs.data() + ptr[i + 1];
    double sum = 0, wsum = 0;
    int64_t cnt = 0;
    const int32_t* a0 = a;
    while (a != ae && b != be) {
      if (*a < b->j) ++a;
      else if (b->j < *a) ++b;
      else {
        if (weighted) {
          sum += (b->dev + av[a - a0]) * static_cast<double>(b->freq);
          wsum += b->freq;
        } else {
          sum += b->dev;
          ++cnt;
        }
        ++a;
        ++b;
      }
    }
    if (weighted) return static_cast<float>(wsum > 0 ? sum / wsum : umean[u]);
    return static_cast<float>(cnt > 0 ? umean[u] + sum / static_cast<double>(cnt) : umean[u]);
  }

  size_t memory_bytes() const override {
    return static_cast<size_t>(sizeof(Pair) * pairs.size() + sizeof(int64_t) * ptr.size() +
                               (sizeof(int32_t) + sizeof(float)) * R.indices.size() + sizeof(float) * umean.size());
  }

  std::map<std::string, Tensor> state() const override {
    std::map<std::string, Tensor> s;
    if (ptr.back() > std::numeric_limits<int32_t>::max())
      fail("E_STATE", "SlopeOne: too many item pairs to save (over 2^31)");
    const int64_t n = static_cast<int64_t>(pairs.size());
    std::vector<int32_t> items(n), freq(n);
    std::vector<float> dev(n);
    for (int64_t p = 0; p < n; ++p) {
      items[p] = pairs[p].j;
      freq[p] = pairs[p].freq;
      dev[p] = pairs[p].dev;
    }
    s["pair_indptr"] = Tensor{{ni + 1}, {}, std::vector<int32_t>(ptr.begin(), ptr.end())};
    s["pair_items"] = Tensor{{n}, {}, std::move(items)};
    s["pair_counts"] = Tensor{{n}, {}, std::move(freq)};
    s["pair_deviations"] = Tensor{{n}, std::move(dev), {}};
    put_ratings(s, "train", R);
    s["global_bias"] = Tensor{{1}, {static_cast<float>(mu)}, {}};
    s["clip"] = scale_tensor(scale);
    return s;
  }

  // User means and item flags from R (fit and restore share it).
  void derive_from_ratings() {
    umean.assign(nu, static_cast<float>(mu));
    iknown.assign(ni, 0);
    for (int32_t u = 0; u < nu; ++u) {
      double sum = 0;
      for (int32_t q = R.indptr[u]; q < R.indptr[u + 1]; ++q) {
        sum += R.data[q];
        iknown[R.indices[q]] = 1;
      }
      if (R.indptr[u + 1] > R.indptr[u]) umean[u] = static_cast<float>(sum / (R.indptr[u + 1] - R.indptr[u]));
    }
  }

  bool user_known(int32_t u) const { return u >= 0 && u < nu && R.indptr[u + 1] > R.indptr[u]; }
  bool item_known(int32_t i) const { return i >= 0 && i < ni && iknown[i]; }

  // Unknown item: the user's mean; unknown user: the global mean.
  float predict(int32_t u, int32_t i) const override {
    float est;
    if (!user_known(u)) est = static_cast<float>(mu);
    else if (!item_known(i)) est = umean[u];
    else est = estimate_merge(u, i);
    return clip_to(scale, est);
  }

  void score_dense(const float* rated, double mean, float* out) const {
    for (int32_t i = 0; i < ni; ++i) out[i] = iknown[i] ? estimate(i, rated, mean) : static_cast<float>(mean);
  }
  void score_user(int32_t u, float* out) const override {
    if (!user_known(u)) {
      std::fill(out, out + ni, static_cast<float>(mu));
      return;
    }
    std::vector<float> rated(ni, std::numeric_limits<float>::quiet_NaN());
    for (int32_t q = R.indptr[u]; q < R.indptr[u + 1]; ++q) rated[R.indices[q]] = R.data[q];
    score_dense(rated.data(), umean[u], out);
  }
  // Fold-in is the rule itself with the new user's ratings and mean.
  void score_new_user(const int32_t* its, const float* values, int n, float* out) const override {
    if (n > 0 && !values) fail_arg("SlopeOne fold-in needs the new user's ratings");
    std::vector<float> rated(ni, std::numeric_limits<float>::quiet_NaN());
    double sum = 0;
    int cnt = 0;
    for (int t = 0; t < n; ++t) {
      if (std::isnan(rated[its[t]])) ++cnt;
      else sum -= rated[its[t]];  // a repeated item: the last rating counts
      rated[its[t]] = values[t];
      sum += values[t];
    }
    score_dense(rated.data(), cnt > 0 ? sum / cnt : mu, out);
  }
};

// fitSlopeOne(csr, csc, {weighted, threads, ratingMin, ratingMax}, runOptions)
Napi::Value FitSlopeOne(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[3]);
    CsrView C = csr_fit_arg(info[1], "trainTransposed", info[3]);
    check_transposed(R, C, "trainTransposed");
    require_ratings(R, "SlopeOne");
    if (C.rows != R.cols || C.cols != R.rows || C.nnz() != R.nnz() || !C.data)
      fail_arg("trainTransposed is not the transpose of train");
    auto o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    const bool weighted = bool_req(o, "weighted");
    const int threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    RatingScale scale = rating_scale_arg(o, R);
    auto run = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(info.Env());
    {
      // Item pairs rated by a common user: at most items^2, and at most the sum of squared user degrees.
      const double ni = R.cols, nt = resolve_threads(threads);
      const double pairs = std::min(ni * ni, pair_bound(R));
      check_memory("SlopeOne", 2 * 12 * pairs + 12 * nt * ni + 12.0 * R.nnz(),
                   "the item-item deviations (" + std::to_string(static_cast<int64_t>(pairs)) + " pairs)",
                   max_memory_arg(o),
                   "keep fewer items (SlopeOne's memory grows with co-rated item pairs, up to items^2)");
    }
    return run_fit(info, run,
                   [R, C, weighted, threads, scale](FitContext& ctx) -> std::shared_ptr<Model> {
                     auto m = std::make_shared<SlopeOneModel>();
                     m->weighted = weighted;
                     m->nu = R.rows;
                     m->ni = R.cols;
                     m->scale = scale;
                     m->mu = as_f32(global_mean(R));  // float precision, as a saved model stores it
                     m->R.rows = R.rows;
                     m->R.cols = R.cols;
                     m->R.indptr.assign(R.indptr, R.indptr + R.rows + 1);
                     m->R.indices.assign(R.indices, R.indices + R.nnz());
                     m->R.data.assign(R.data, R.data + R.nnz());
                     m->derive_from_ratings();
                     // Per item i: over users who rated i, over their items j, accumulate count and r_ui - r_uj densely.
                     std::vector<std::vector<Pair>> lists(C.rows);
                     const int nt = resolve_threads(threads);
                     struct Acc {
                       std::vector<int32_t> freq, touched;
                       std::vector<double> dev;
                     };
                     std::vector<Acc> acc(nt);
                     parallel_for(
                         C.rows, nt,
                         [&](int64_t ii, int tid) {
        if (ctx.cancelled()) return;  // the check after the loop throws
        Acc& a = acc[tid];
        if (a.freq.empty()) {
          a.freq.assign(R.cols, 0);
          a.dev.assign(R.cols, 0.0);
        }
        const int32_t i = static_cast<int32_t>(ii);
        a.touched.clear();
        for (int32_t q = C.row_begin(i); q < C.row_end(i); ++q) {
          const int32_t u = C.indices[q];
          const double rui = C.data[q];
          for (int32_t t = R.row_begin(u); t < R.row_end(u); ++t) {
            const int32_t j = R.indices[t];
            if (a.freq[j]++ == 0) {
              a.touched.push_back(j);
              a.dev[j] = 0;
            }
            a.dev[j] += rui - R.data[t];
          }
        }
        std::sort(a.touched.begin(), a.touched.end());
        std::vector<Pair>& out = lists[i];
        out.reserve(a.touched.size());
        for (int32_t j : a.touched) {
          // (i, i) stays, with deviation 0: Surprise counts it when predicting a pair the user already rated.
          out.push_back(Pair{j, a.freq[j], static_cast<float>(a.dev[j] / a.freq[j])});
          a.freq[j] = 0;
        }
                         },
                         8);
                     ctx.check_cancelled();
                     m->ptr.assign(static_cast<size_t>(C.rows) + 1, 0);
                     for (int32_t i = 0; i < C.rows; ++i)
                       m->ptr[i + 1] = m->ptr[i] + static_cast<int64_t>(lists[i].size());
                     m->pairs.resize(m->ptr[C.rows]);
                     for (int32_t i = 0; i < C.rows; ++i) {
                       std::copy(lists[i].begin(), lists[i].end(), m->pairs.begin() + m->ptr[i]);
                       std::vector<Pair>().swap(lists[i]);
                     }
                     ctx.progress(1, 1, NAN, "deviations");
                     // A model that saves must load: the loader refuses what this refuses.
                     if (m->score_bound() > std::numeric_limits<float>::max())
                       fail_diverged("SlopeOne", "ratings so large that estimates overflow the float range");
                     return m;
                   },
                   {info[0], info[1]});
  });
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("fitSlopeOne", Napi::Function::New(env, FitSlopeOne)); }

std::shared_ptr<Model> restore_slope_one(StateReader& s) {
  auto m = std::make_shared<SlopeOneModel>();
  m->nu = s.users();
  m->ni = s.items();
  m->weighted = s.bool_param("weighted");
  m->mu = s.scalar("global_bias");
  m->scale = read_scale(s);
  m->R = read_ratings(s, "train", m->nu, m->ni);
  m->derive_from_ratings();
  auto ptr = s.i32("pair_indptr", {m->ni + 1});
  auto items = s.i32("pair_items", {-1});
  check_csr(s, ptr, items, m->ni, m->ni, "pair_indptr");
  for (int32_t i = 0; i < m->ni; ++i)  // predictions merge these lists with sorted user rows
    for (int32_t q = ptr[i] + 1; q < ptr[i + 1]; ++q)
      if (items[q] <= items[q - 1]) s.fail_tensor("pair_items", "must be sorted and unique within each item");
  const int64_t n = static_cast<int64_t>(items.size());
  auto freq = s.i32("pair_counts", {n});
  auto dev = s.f32("pair_deviations", {n});
  m->ptr.assign(ptr.begin(), ptr.end());
  m->pairs.resize(n);
  for (int64_t p = 0; p < n; ++p) {
    if (freq[p] < 1) s.fail_tensor("pair_counts", "must be >= 1");
    m->pairs[p] = Pair{items[p], freq[p], dev[p]};
  }
  if (m->score_bound() > std::numeric_limits<float>::max())
    s.fail_tensor("pair_deviations", "and the ratings are so large that estimates would overflow the float range");
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(slope_one, init);
RECSYS_REGISTER_RESTORER(SlopeOne, restore_slope_one);

}  // namespace recsys
