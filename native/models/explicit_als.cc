// ExplicitALS: alternating least squares on explicit ratings with weighted-lambda regularization (ALS-WR, Zhou
// et al. 2008) and biases: r_ui ~ mu + b_u + b_i + p_u . q_i, minimizing squared error + reg * (n_u (|p_u|^2 + b_u^2)
// + n_i (|q_i|^2 + b_i^2)) where n_u, n_i count ratings. Each half-sweep solves one small ridge system per user
// (item): [p_u, b_u] from the rows [q_i, 1] with targets r_ui - mu - b_i, through the BLAS layer (syrk, gemv,
// Cholesky potrf/potrs). Rows are independent, so the result is the same for any thread count. Fold-in is the
// same exact solve for the new user's ratings.
#include <cmath>

#include "core/blas.h"
#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/rating.h"
#include "core/rng.h"
#include "core/threads.h"

namespace recsys {

namespace {

struct AlsScratch {
  std::vector<float> X, t, A, b;
  std::function<void()> between;  // a fit's cancellation check inside one long row (large factors), or empty
};

// w[0..k) and *bias (when biased) = the ridge solution for one row from its n ratings of `other` rows idx[] with
// values vals[]. The other side's factors are `other` (stride k) and biases `other_bias` (null when unbiased).
void solve_row(const float* other, const float* other_bias, int k, bool biased, float mu, double reg,
               const int32_t* idx, const float* vals, int n, float* w, float* bias, AlsScratch& s) {
  if (n == 0) {
    std::fill(w, w + k, 0.f);
    if (biased) *bias = 0.f;
    return;
  }
  const int d = k + (biased ? 1 : 0);
  s.X.resize(static_cast<size_t>(n) * d);
  s.t.resize(n);
  s.A.resize(static_cast<size_t>(d) * d);
  s.b.resize(d);
  for (int r = 0; r < n; ++r) {
    const int64_t y = idx[r];
    float* x = s.X.data() + static_cast<int64_t>(r) * d;
    std::copy_n(other + y * k, k, x);
    float target = vals[r] - mu;
    if (biased) {
      x[k] = 1.f;
      target -= other_bias[y];
    }
    s.t[r] = target;
  }
  blas::syrk_t_blocked(d, n, 1.f, s.X.data(), d, 0.f, s.A.data(), d, s.between);
  blas::gemv(blas::Trans::Yes, n, d, 1.f, s.X.data(), d, s.t.data(), 0.f, s.b.data());
  const float lam = static_cast<float>(reg * n);
  for (int f = 0; f < d; ++f) s.A[static_cast<size_t>(f) * d + f] += lam;
  if (blas::potrf_lower_blocked(d, s.A.data(), d, s.between) != 0)
    fail("E_STATE", "ExplicitALS: a normal-equation matrix is not positive definite");
  blas::potrs_lower(d, 1, s.A.data(), d, s.b.data(), d);
  std::copy_n(s.b.data(), k, w);
  if (biased) *bias = s.b[k];
}

class ExplicitAlsModel : public FactorModel {
 public:
  double reg = 0;
  bool biased = true;
  bool fold_in(const int32_t* its, const float* values, int n, float* p_out, float* bu_out) const override {
    if (n > 0 && !values) fail_arg("ExplicitALS fold-in needs the new user's ratings");
    AlsScratch s;
    solve_row(V.data(), biased ? item_bias.data() : nullptr, factors, biased, global, reg, its, values, n, p_out,
              bu_out, s);
    return true;
  }
};

// One half-sweep: every row of M (rows of this side) solved against the other side.
void solve_side(const CsrView& M, const std::vector<float>& other, const std::vector<float>& other_bias,
                std::vector<float>& mine, std::vector<float>& my_bias, int k, bool biased, float mu, double reg,
                int threads, const FitContext& ctx) {
  int nt = resolve_threads(threads);
  std::vector<AlsScratch> scratch(nt);
  if (k >= 512)
    for (auto& s : scratch) s.between = [&ctx] { ctx.check_cancelled(); };
  parallel_for(
      M.rows, nt,
      [&](int64_t r, int tid) {
    ctx.check_cancelled();
    const int32_t row = static_cast<int32_t>(r);
    float bias = 0.f;
    solve_row(other.data(), biased ? other_bias.data() : nullptr, k, biased, mu, reg, M.indices + M.row_begin(row),
              M.data + M.row_begin(row), M.row_len(row), mine.data() + r * k, &bias, scratch[tid]);
    if (biased) my_bias[r] = bias;
      },
      16);
}

// fitExplicitALS(csr, csc, {factors, epochs, reg, biased, initStd, threads, seed, ratingMin, ratingMax}, runOptions)
Napi::Value FitExplicitALS(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[3]);
    CsrView C = csr_fit_arg(info[1], "trainTransposed", info[3]);
    check_transposed(R, C, "trainTransposed");
    require_ratings(R, "ExplicitALS");
    if (C.rows != R.cols || C.cols != R.rows || C.nnz() != R.nnz() || !C.data)
      fail_arg("trainTransposed is not the transpose of train");
    auto o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    const int k = static_cast<int>(int_req(o, "factors", 1, 4096));
    const int epochs = static_cast<int>(int_req(o, "epochs", 0, 1000000));
    const double reg = real_param(o, "reg", 0, INFINITY, true);
    const bool biased = bool_req(o, "biased");
    const double init_std = real_req(o, "initStd", 0, INFINITY);
    const int threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    const uint64_t seed = static_cast<uint64_t>(int_req(o, "seed", 0, int64_t{1} << 53));
    RatingScale scale = rating_scale_arg(o, R);
    auto run = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(info.Env());
    {
      double longest = 0;  // the longest row or column: a row's solve holds its ratings x (factors + 1) floats
      for (int32_t u = 0; u < R.rows; ++u) longest = std::max<double>(longest, R.row_len(u));
      for (int32_t i = 0; i < C.rows; ++i) longest = std::max<double>(longest, C.row_len(i));
      const double d = k + 1.0, nt = resolve_threads(threads);
      check_memory("ExplicitALS", 4 * ((static_cast<double>(R.rows) + R.cols) * d + nt * (d * d + longest * d)),
                   "the factors and each thread's normal equations", max_memory_arg(o), "use fewer factors or threads");
    }
    return run_fit(info, run,
                   [=](FitContext& ctx) -> std::shared_ptr<Model> {
                     auto m = std::make_shared<ExplicitAlsModel>();
                     m->kind_name = "ExplicitALS";
                     m->reg = reg;
                     m->biased = biased;
                     m->users = R.rows;
                     m->items = R.cols;
                     m->factors = k;
                     m->U.assign(static_cast<size_t>(R.rows) * k, 0.f);
                     m->V.resize(static_cast<size_t>(R.cols) * k);
                     Rng init(seed, 1);
                     init.fill_normal(m->V.data(), static_cast<int64_t>(m->V.size()), 0.0, init_std);
                     start_rating_model(*m, R, biased, scale);
                     std::vector<double> user_sse(R.rows);
                     for (int e = 0; e < epochs; ++e) {
                       solve_side(R, m->V, m->item_bias, m->U, m->user_bias, k, biased, m->global, reg, threads, ctx);
                       ctx.check_cancelled();
                       solve_side(C, m->U, m->user_bias, m->V, m->item_bias, k, biased, m->global, reg, threads, ctx);
                       parallel_for(
                           R.rows, threads,
                           [&](int64_t u, int) {
          double s = 0;
          const float* pu = m->U.data() + u * k;
          for (int32_t q = R.row_begin(static_cast<int32_t>(u)); q < R.row_end(static_cast<int32_t>(u)); ++q) {
            const int32_t i = R.indices[q];
            float est = blas::dot(pu, m->V.data() + static_cast<int64_t>(i) * k, k);
            if (biased) est += m->global + m->user_bias[u] + m->item_bias[i];
            const double err = R.data[q] - est;
            s += err * err;
          }
          user_sse[u] = s;
                           },
                           64);
                       double sse = 0;
                       for (double s : user_sse) sse += s;
                       ctx.progress(e + 1, epochs, std::sqrt(sse / std::max<double>(1, static_cast<double>(R.nnz()))),
                                    "sweep");
                     }
                     return m;
                   },
                   {info[0], info[1]});
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("fitExplicitALS", Napi::Function::New(env, FitExplicitALS));
}

std::shared_ptr<Model> restore_explicit_als(StateReader& s) {
  auto m = std::make_shared<ExplicitAlsModel>();
  restore_factor_state(*m, s, true);
  m->reg = s.real_param("reg");
  if (!(m->reg > 0)) fail_arg("ExplicitALS restore: option 'reg' must be > 0");
  m->biased = s.bool_param("biased");
  if (m->biased && (m->item_bias.empty() || m->user_bias.empty()))
    s.fail_tensor("item_bias", "is missing (biased model)");
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(explicit_als, init);
RECSYS_REGISTER_RESTORER(ExplicitALS, restore_explicit_als);

}  // namespace recsys
