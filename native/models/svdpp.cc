// SVD++ (Koren 2008): r_ui ~ mu + b_u + b_i + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j), N(u) = items u rated.
// Surprise recomputes the implicit sum and updates every y_j of N(u) at each rating: O(|N(u)| k) per rating.
// Here ratings are visited user by user; the implicit sum z_u is computed once when the user's turn comes and
// then tracked exactly through their ratings (a per-rating step moves every y_j of N(u) by the same amount, so
// it moves z_u by a closed form), and the y_j steps are accumulated (g_u) and applied once when the user is done:
// y_j <- (1 - lr_y reg_y)^|R(u)| y_j + g_u. No other user touches y_j in between, so this is Surprise's update
// sequence exactly (up to rounding), at O(|N(u)| k) per user per epoch.
// The SGD runs on one thread: a user's y_j step touches every item they rated, so users sharing an item cannot
// be updated at once without races (no conflict-free block schedule exists), and Hogwild would make fits
// irreproducible. Users are visited in a seeded random order each epoch (shuffle: false: in index order).
#include <cmath>
#include <numeric>

#include "core/blas.h"
#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/rating.h"
#include "core/rng.h"
#include "core/threads.h"

namespace recsys {

namespace {

struct RatingPair {
  int32_t i;
  float r;
};

class SvdppModel : public FactorModel {
 public:
  SgdParams params;
  double lr_y = 0, reg_y = 0;
  std::vector<float> P;  // the explicit user factors p_u (U holds p_u + z_u, what scoring uses)
  std::vector<float> Y;  // items x factors: implicit-feedback factors y_j

  // z = |N|^-1/2 sum y_j over the given items.
  void implicit_sum(const int32_t* its, int n, float* z) const {
    std::fill(z, z + factors, 0.f);
    if (n == 0) return;
    for (int t = 0; t < n; ++t) blas::axpy(factors, 1.f, Y.data() + static_cast<int64_t>(its[t]) * factors, z);
    const float s = 1.f / std::sqrt(static_cast<float>(n));
    for (int f = 0; f < factors; ++f) z[f] *= s;
  }
  // Fold-in: the implicit part from the items, then SGD on p_u and b_u alone. Without ratings, the implicit part
  // alone (p_u = 0, b_u = 0): SVD++ can score a user from what they interacted with.
  bool fold_in(const int32_t* its, const float* values, int n, float* p_out, float* bu_out) const override {
    std::vector<float> z(factors);
    implicit_sum(its, n, z.data());
    if (values && n > 0) sgd_fold_in(*this, params, its, values, n, z.data(), p_out, bu_out);
    for (int f = 0; f < factors; ++f) p_out[f] += z[f];
    return true;
  }
  size_t memory_bytes() const override { return FactorModel::memory_bytes() + sizeof(float) * (P.size() + Y.size()); }
  std::map<std::string, Tensor> state() const override {
    auto s = FactorModel::state();
    s["user_explicit_factors"] = Tensor{{users, factors}, P, {}};
    s["item_implicit_factors"] = Tensor{{items, factors}, Y, {}};
    return s;
  }
};

// One epoch of SVD++ SGD over users in `order`; rows[] holds each user's ratings in visiting order. Returns the
// sum of squared errors (before each step). zbuf and gbuf: k floats of scratch each (a kernel must not allocate:
// core/dispatch.h).
RECSYS_KERNEL double svdpp_epoch(SvdppModel& m, const SgdParams& p, const std::vector<int32_t>& order, const CsrView& R,
                                 const std::vector<RatingPair>& rows, float* zbuf, float* gbuf) noexcept {
  const int k = m.factors;
  const float lr = static_cast<float>(p.lr), reg = static_cast<float>(p.reg);
  const float lrb = static_cast<float>(p.lr_bias), regb = static_cast<float>(p.reg_bias);
  const float lry = static_cast<float>(m.lr_y), ydecay = 1.f - static_cast<float>(m.lr_y * m.reg_y);
  const double log_ydecay = std::log1p(-m.lr_y * m.reg_y);
  const float decay = 1.f - lr * reg;
  const float mu = m.global;
  float* bu = m.user_bias.data();
  float* bi = m.item_bias.data();
  const bool biased = p.biased;
  float* __restrict zu = zbuf;
  float* __restrict gu = gbuf;
  double sse = 0;
  for (int32_t u : order) {
    const int32_t n = R.row_len(u);
    if (n == 0) continue;
    const RatingPair* first = rows.data() + R.row_begin(u);
    const float inv_sqrt_n = 1.f / std::sqrt(static_cast<float>(n));
    std::fill(zu, zu + k, 0.f);
    for (int32_t t = 0; t < n; ++t) blas::axpy(k, 1.f, m.Y.data() + static_cast<int64_t>(first[t].i) * k, zu);
    for (int f = 0; f < k; ++f) zu[f] *= inv_sqrt_n;
    std::fill(gu, gu + k, 0.f);
    float* __restrict pu = m.P.data() + static_cast<int64_t>(u) * k;
    for (int32_t t = 0; t < n; ++t) {
      const int32_t i = first[t].i;
      float* __restrict qi = m.V.data() + static_cast<int64_t>(i) * k;
      float est = blas::dot(qi, pu, k) + blas::dot(qi, zu, k);
      if (biased) est += mu + bu[u] + bi[i];
      const float err = first[t].r - est;
      sse += static_cast<double>(err) * err;
      if (biased) {
        bu[u] += lrb * (err - regb * bu[u]);
        bi[i] += lrb * (err - regb * bi[i]);
      }
      const float le = lr * err, ly = lry * err, lyg = ly * inv_sqrt_n;
      for (int f = 0; f < k; ++f) {
        const float pf = pu[f], qf = qi[f], zf = zu[f];
        pu[f] = decay * pf + le * qf;
        qi[f] = decay * qf + le * (pf + zf);
        // Every y_j of N(u) takes y_j <- ydecay y_j + ly q / sqrt|N(u)|, so their scaled sum takes:
        zu[f] = ydecay * zf + ly * qf;
        gu[f] = ydecay * gu[f] + lyg * qf;
      }
    }
    const float yd = static_cast<float>(std::exp(n * log_ydecay));
    for (int32_t t = 0; t < n; ++t) {
      float* __restrict y = m.Y.data() + static_cast<int64_t>(first[t].i) * k;
      for (int f = 0; f < k; ++f) y[f] = yd * y[f] + gu[f];
    }
  }
  return sse;
}

// fitSVDpp(csr, {factors, epochs, lr, reg, lrBias, regBias, lrY, regY, initMean, initStd, biased, shuffle,
// threads (final scoring vectors only), seed, ratingMin, ratingMax}, runOptions)
Napi::Value FitSVDpp(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[2]);
    require_ratings(R, "SVDpp");
    auto o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    SgdParams p = sgd_params_arg(o);
    double lr_y = real_param(o, "lrY", 0, INFINITY, true);
    double reg_y = real_param(o, "regY", 0, INFINITY);
    if (lr_y * reg_y >= 1) fail_arg("lrY * regY must be < 1");
    RatingScale scale = rating_scale_arg(o, R);
    auto run = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    check_memory("SVDpp", 4.0 * (2.0 * R.rows + 2.0 * R.cols) * (p.factors + 1),
                 "the factors (users x factors twice, items x factors twice)", max_memory_arg(o), "use fewer factors");
    return run_fit(info, run,
                   [R, p, lr_y, reg_y, scale](FitContext& ctx) -> std::shared_ptr<Model> {
                     auto m = std::make_shared<SvdppModel>();
                     m->kind_name = "SVDpp";
                     m->params = p;
                     m->lr_y = lr_y;
                     m->reg_y = reg_y;
                     m->users = R.rows;
                     m->items = R.cols;
                     m->factors = p.factors;
                     const int64_t k = p.factors;
                     m->P.resize(static_cast<size_t>(R.rows) * k);
                     m->V.resize(static_cast<size_t>(R.cols) * k);
                     m->Y.resize(static_cast<size_t>(R.cols) * k);
                     Rng init(p.seed, 1);
                     init.fill_normal(m->P.data(), static_cast<int64_t>(m->P.size()), p.init_mean, p.init_std);
                     init.fill_normal(m->V.data(), static_cast<int64_t>(m->V.size()), p.init_mean, p.init_std);
                     init.fill_normal(m->Y.data(), static_cast<int64_t>(m->Y.size()), p.init_mean, p.init_std);
                     start_rating_model(*m, R, p.biased, scale);

                     // Each user's ratings in the order they are visited: seeded random within the user (or CSR order).
                     std::vector<RatingPair> rows(R.nnz());
                     Rng rng(p.seed, 2);
                     for (int32_t u = 0; u < R.rows; ++u) {
                       RatingPair* row = rows.data() + R.row_begin(u);
                       const int32_t n = R.row_len(u);
                       for (int32_t t = 0; t < n; ++t)
                         row[t] = RatingPair{R.indices[R.row_begin(u) + t], R.value(R.row_begin(u) + t)};
                       if (p.shuffle)
                         for (int32_t t = n - 1; t > 0; --t)
                           std::swap(row[t], row[rng.below(static_cast<uint32_t>(t + 1))]);
                     }
                     std::vector<int32_t> order(R.rows);
                     std::iota(order.begin(), order.end(), 0);
                     const double nnz = static_cast<double>(std::max<int64_t>(1, R.nnz()));
                     std::vector<float> zbuf(p.factors), gbuf(p.factors);
                     for (int e = 0; e < p.epochs; ++e) {
                       if (p.shuffle)
                         for (int32_t t = R.rows - 1; t > 0; --t)
                           std::swap(order[t], order[rng.below(static_cast<uint32_t>(t + 1))]);
                       double sse = svdpp_epoch(*m, p, order, R, rows, zbuf.data(), gbuf.data());
                       if (!std::isfinite(sse))
                         fail_diverged("SVDpp", "non-finite error in epoch " + std::to_string(e + 1));
                       ctx.progress(e + 1, p.epochs, std::sqrt(sse / nnz));
                     }
                     ctx.check_cancelled();
                     // Scoring uses p_u + z_u as the user's vector.
                     m->U.assign(static_cast<size_t>(R.rows) * k, 0.f);
                     parallel_for(
                         R.rows, p.threads,
                         [&](int64_t u, int) {
        m->implicit_sum(R.indices + R.row_begin(static_cast<int32_t>(u)), R.row_len(static_cast<int32_t>(u)),
                        m->U.data() + u * k);
                         },
                         64);
                     for (size_t x = 0; x < m->U.size(); ++x) m->U[x] += m->P[x];
                     return m;
                   },
                   {info[0]});
  });
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("fitSVDpp", Napi::Function::New(env, FitSVDpp)); }

std::shared_ptr<Model> restore_svdpp(StateReader& s) {
  auto m = std::make_shared<SvdppModel>();
  restore_factor_state(*m, s, true);
  m->params = read_sgd_params(s, m->factors);
  m->P = s.f32("user_explicit_factors", {m->users, m->factors});
  m->Y = s.f32("item_implicit_factors", {m->items, m->factors});
  // lrY / regY: TS derives them from lr / reg when not given (ts/models/svdpp.ts), also for old files.
  m->lr_y = s.real_param("lrY");
  m->reg_y = s.real_param("regY");
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(svdpp, init);
RECSYS_REGISTER_RESTORER(SVDpp, restore_svdpp);

}  // namespace recsys
