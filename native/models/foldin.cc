// Factor models fitted elsewhere (Spark MLlib ALS, implicit, a saved model) that fold a new user in by solving the
// least-squares problem an ALS fit solves for a user, against the model's fixed item factors V:
//   explicit (ALS-WR):  (sum_j v_j v_j^T + reg' I) x = sum_j r_j v_j
//   implicit (Hu et al., with Spark's extension to r <= 0):
//                       (V^T V + sum_j c_j v_j v_j^T + reg' I) x = sum_{j: r_j > 0} (1 + c_j) v_j,  c_j = alpha |r_j|
// reg' = reg * (number of interactions, positive ones for implicit) when scale_reg (Spark: "weight lambda by the
// number of explicit ratings"), else reg. The implicit system goes to ImplicitALS's fold-in solver (models/als.h);
// the explicit one is accumulated in double and solved in float. Where float cannot hold a system (or it is
// singular), both are solved in double with the smallest ridge that makes it definite (blas::solve_psd_ridged): every
// model the constructor accepts folds any user in.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "core/blas.h"
#include "core/common.h"
#include "core/model.h"
#include "models/als.h"

namespace recsys {
namespace {

// alpha and reg are in [0, kMaxFoldIn], at construction and in a model file (ImplicitALS's own range).
constexpr double kMaxFoldIn = 1e12;

class LeastSquaresFoldIn : public FactorModel {
 public:
  bool implicit = false, scale_reg = true;
  double alpha = 1.0, reg = 0.1;

  // Model files: the factors plus the fold-in settings (VtV is rebuilt on the first fold-in).
  std::map<std::string, Tensor> state() const override {
    auto s = FactorModel::state();
    s["foldin"] = Tensor{{2}, {static_cast<float>(alpha), static_cast<float>(reg)}, {}};
    s["foldin_flags"] = Tensor{{2}, {}, {implicit ? 1 : 0, scale_reg ? 1 : 0}};
    return s;
  }

 private:
  // implicit: V^T V over every item (the unobserved pairs' confidence-1 term), built on the first fold-in so that
  // loading a large model does not pay for it.
  mutable std::vector<double> VtV;
  mutable std::once_flag vtv_once;

  void build_vtv() const {
    const int k = factors;
    VtV.assign(static_cast<size_t>(k) * k, 0.0);
    for (int32_t it = 0; it < items; ++it) {
      const float* v = V.data() + static_cast<int64_t>(it) * k;
      for (int i = 0; i < k; ++i)
        for (int j = 0; j <= i; ++j) VtV[static_cast<size_t>(i) * k + j] += static_cast<double>(v[i]) * v[j];
    }
  }

 public:
  bool fold_in(const int32_t* its, const float* values, int n, float* p_out, float* bu_out) const override {
    // No usable interactions: the user is the zero vector, as in Spark.
    if (factors > 0 && !solve(its, values, n, p_out)) std::fill(p_out, p_out + factors, 0.f);
    *bu_out = 0.f;
    return true;
  }

 private:
  bool solve(const int32_t* its, const float* values, int n, float* x) const {
    const int k = factors;
    for (int q = 0; q < n; ++q)
      if (its[q] < 0 || its[q] >= items)
        fail_arg("fold-in item index " + std::to_string(its[q]) + " is outside the model");
    if (implicit) {
      // ImplicitALS's own solver; only the regularization differs (Spark scales it by the positive count).
      int64_t positive = 0;
      for (int q = 0; q < n; ++q) positive += (values ? values[q] : 1.f) > 0.f;
      if (positive == 0) return false;
      std::call_once(vtv_once, [this] { build_vtv(); });
      const double lambda = scale_reg ? reg * static_cast<double>(positive) : reg;
      std::vector<float> G(static_cast<size_t>(k) * k);
      for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j)
          G[static_cast<size_t>(i) * k + j] = static_cast<float>(
              VtV[static_cast<size_t>(std::max(i, j)) * k + std::min(i, j)] + (i == j ? lambda : 0.0));
      als::solve_implicit(its, values, n, V.data(), G.data(), k, static_cast<float>(alpha), x);
      return true;
    }
    // Explicit (ALS-WR): A = sum v v^T + reg' I, b = sum r v, accumulated in double.
    if (n == 0) return false;
    std::vector<double> A(static_cast<size_t>(k) * k, 0.0), b(static_cast<size_t>(k), 0.0);
    for (int q = 0; q < n; ++q) {
      const double r = values ? values[q] : 1.0;
      const float* v = V.data() + static_cast<int64_t>(its[q]) * k;
      for (int i = 0; i < k; ++i) {
        for (int j = 0; j <= i; ++j) A[static_cast<size_t>(i) * k + j] += static_cast<double>(v[i]) * v[j];
        b[i] += r * v[i];
      }
    }
    const double lambda = scale_reg ? reg * static_cast<double>(n) : reg;
    std::vector<float> Af(static_cast<size_t>(k) * k);
    for (int i = 0; i < k; ++i) {
      A[static_cast<size_t>(i) * k + i] += lambda;
      for (int j = 0; j <= i; ++j)
        Af[static_cast<size_t>(i) * k + j] = Af[static_cast<size_t>(j) * k + i] =
            static_cast<float>(A[static_cast<size_t>(i) * k + j]);
    }
    if (blas::potrf_lower(k, Af.data(), k) == 0) {
      for (int i = 0; i < k; ++i) x[i] = static_cast<float>(b[i]);
      blas::potrs_lower(k, 1, Af.data(), k, x, k);
      if (std::all_of(x, x + k, [](float v) { return std::isfinite(v); })) return true;
    }
    // Singular (reg = 0 and fewer interactions than factors) or beyond float: in double, where the ridge gives the
    // minimum-norm answer of a singular system.
    blas::solve_psd_ridged(k, A.data(), b.data(), x);
    return true;
  }
};

// createFoldInFactorModel({ users, items, factors, userFactors, itemFactors, userBias?, itemBias?, global?, kind?,
//                           implicit, alpha, reg, scaleReg })
Napi::Value JsCreateFoldInFactorModel(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    if (!info[0].IsObject()) fail_arg("createFoldInFactorModel expects an options object");
    auto o = info[0].As<Napi::Object>();
    auto m = std::make_shared<LeastSquaresFoldIn>();
    factor_model_from_options(o, *m, 1, 4096);
    m->implicit = bool_req(o, "implicit");
    m->alpha = real_req(o, "alpha", 0, kMaxFoldIn);
    m->reg = real_req(o, "reg", 0, kMaxFoldIn);
    m->scale_reg = bool_req(o, "scaleReg");
    return wrap_model(info.Env(), m);
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("createFoldInFactorModel", Napi::Function::New(env, JsCreateFoldInFactorModel));
}

// Restores the "FactorModel" kind: with least-squares fold-in when the state has its settings, else plain.
std::shared_ptr<Model> restore_factor_model(StateReader& s) {
  if (!s.has("foldin")) {
    auto m = std::make_shared<FactorModel>();
    restore_factor_state(*m, s);
    return m;
  }
  auto m = std::make_shared<LeastSquaresFoldIn>();
  restore_factor_state(*m, s);
  if (m->factors == 0) s.fail_tensor("item_factors", "is missing (fold-in needs factors)");
  auto f = s.f32("foldin", {2});
  auto flags = s.i32("foldin_flags", {2});
  // The constructor's ranges: a file with alpha = 1e30 loaded, then failed every fold-in (fuzz modelfile case 5380).
  if (!(f[0] >= 0 && f[0] <= kMaxFoldIn && f[1] >= 0 && f[1] <= kMaxFoldIn))
    s.fail_tensor("foldin", "holds alpha or reg outside [0, 1e12]");
  if (flags[0] < 0 || flags[0] > 1 || flags[1] < 0 || flags[1] > 1) s.fail_tensor("foldin_flags", "must hold 0 or 1");
  m->alpha = f[0];
  m->reg = f[1];
  m->implicit = flags[0] == 1;
  m->scale_reg = flags[1] == 1;
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(foldin, init);
RECSYS_REGISTER_RESTORER(FactorModel, restore_factor_model);

}  // namespace recsys
