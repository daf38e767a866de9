// NMF: non-negative matrix factorization of the ratings by regularized multiplicative updates (Luo et al. 2014;
// Surprise's NMF): r_ui ~ p_u . q_i with p, q >= 0, started uniform in [initLow, initHigh]. Each epoch gathers,
// for every user and item, sum q_i r and sum q_i est (resp. p_u r, p_u est) with the factors of the previous
// epoch, then p_uf <- p_uf * num / (den + n_u reg_pu p_uf), and the same for q_if: Surprise's update exactly. Users
// and items are independent within an epoch, so the unbiased model runs in parallel and the same for any thread
// count. The biased variant (Surprise's biased=True: SGD steps on b_u, b_i inside the pass) is sequential in
// user order, as Surprise's is. The defaults (ts/models/nmf.ts) are Surprise's.
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

// The options TS resolved (ts/models/params.ts owns their defaults); zero until the fit / a restorer sets them.
struct NmfParams {
  int factors = 0, epochs = 0;
  double reg_pu = 0, reg_qi = 0;
  double reg_bu = 0, reg_bi = 0, lr_bu = 0, lr_bi = 0;
  double init_low = 0, init_high = 0;
  bool biased = false;
  int threads = 0;
  uint64_t seed = 0;
};

// x_f <- x_f * num_f / (den_f + n reg x_f), skipping zeros as Surprise does (a zero factor stays zero).
inline void multiplicative_step(float* x, const double* num, const double* den, int k, int n, double reg) {
  for (int f = 0; f < k; ++f) {
    if (x[f] == 0.f) continue;
    const double d = den[f] + n * reg * x[f];
    x[f] = d > 0 ? static_cast<float>(x[f] * num[f] / d) : 0.f;
  }
}

class NmfModel : public FactorModel {
 public:
  NmfParams params;
  // Fold-in: multiplicative updates of the new user's vector alone (and SGD on the bias when biased).
  bool fold_in(const int32_t* its, const float* values, int n, float* p_out, float* bu_out) const override {
    if (n > 0 && !values) fail_arg("NMF fold-in needs the new user's ratings");
    const int k = factors;
    std::vector<float> p(k);
    Rng rng(params.seed, 0xF01D1A);
    for (float& x : p) x = static_cast<float>(params.init_low + (params.init_high - params.init_low) * rng.uniform());
    std::vector<double> num(k), den(k);
    float bu = 0.f;
    for (int e = 0; e < params.epochs && n > 0; ++e) {
      std::fill(num.begin(), num.end(), 0.0);
      std::fill(den.begin(), den.end(), 0.0);
      for (int t = 0; t < n; ++t) {
        const float* q = V.data() + static_cast<int64_t>(its[t]) * k;
        double est = blas::dot(p.data(), q, k);
        if (params.biased) {
          est += global + bu + item_bias[its[t]];
          bu += static_cast<float>(params.lr_bu * ((values[t] - est) - params.reg_bu * bu));
        }
        for (int f = 0; f < k; ++f) {
          num[f] += static_cast<double>(q[f]) * values[t];
          den[f] += q[f] * est;
        }
      }
      multiplicative_step(p.data(), num.data(), den.data(), k, n, params.reg_pu);
    }
    std::copy(p.begin(), p.end(), p_out);
    *bu_out = bu;
    return true;
  }
};

// fitNMF(csr, csc, {factors, epochs, regUser, regItem, biased, regBiasUser, regBiasItem, lrBiasUser, lrBiasItem,
// initLow, initHigh, threads, seed, ratingMin, ratingMax}, runOptions)
Napi::Value FitNMF(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[3]);
    CsrView C = csr_fit_arg(info[1], "trainTransposed", info[3]);
    check_transposed(R, C, "trainTransposed");
    require_ratings(R, "NMF");
    if (C.rows != R.cols || C.cols != R.rows || C.nnz() != R.nnz() || !C.data)
      fail_arg("trainTransposed is not the transpose of train");
    auto o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    NmfParams p;
    p.factors = static_cast<int>(int_req(o, "factors", 1, 4096));
    p.epochs = static_cast<int>(int_req(o, "epochs", 0, 1000000));
    p.reg_pu = real_param(o, "regUser", 0, INFINITY);
    p.reg_qi = real_param(o, "regItem", 0, INFINITY);
    p.biased = bool_req(o, "biased");
    p.reg_bu = real_param(o, "regBiasUser", 0, INFINITY);
    p.reg_bi = real_param(o, "regBiasItem", 0, INFINITY);
    p.lr_bu = real_param(o, "lrBiasUser", 0, INFINITY, true);
    p.lr_bi = real_param(o, "lrBiasItem", 0, INFINITY, true);
    p.init_low = real_param(o, "initLow", 0, 3e38);
    p.init_high = real_param(o, "initHigh", 0, 3e38);
    if (p.init_high < p.init_low) fail_arg("initHigh must be >= initLow");
    for (int32_t q = 0; q < R.nnz(); ++q)
      if (R.data[q] < 0)
        fail_arg("NMF needs non-negative ratings; rating " + std::to_string(R.data[q]) + " at position " +
                 std::to_string(q));
    p.threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    p.seed = static_cast<uint64_t>(int_req(o, "seed", 0, int64_t{1} << 53));
    RatingScale scale = rating_scale_arg(o, R);
    auto run = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(info.Env());
    check_memory("NMF", 4.0 * 3 * (static_cast<double>(R.rows) + R.cols) * (p.factors + 1),
                 "the factors and their update numerators and denominators", max_memory_arg(o), "use fewer factors");
    return run_fit(info, run,
                   [R, C, p, scale](FitContext& ctx) -> std::shared_ptr<Model> {
                     auto m = std::make_shared<NmfModel>();
                     m->kind_name = "NMF";
                     m->params = p;
                     m->users = R.rows;
                     m->items = R.cols;
                     const int k = p.factors;
                     m->factors = k;
                     m->U.resize(static_cast<size_t>(R.rows) * k);
                     m->V.resize(static_cast<size_t>(R.cols) * k);
                     Rng init(p.seed, 1);
                     const double span = p.init_high - p.init_low;
                     for (float& x : m->U) x = static_cast<float>(p.init_low + span * init.uniform());
                     for (float& x : m->V) x = static_cast<float>(p.init_low + span * init.uniform());
                     const double mu = start_rating_model(*m, R, p.biased, scale);
                     std::vector<float> U2(m->U.size()), V2(m->V.size());
                     std::vector<double> user_sse(R.rows);
                     const int nt = resolve_threads(p.threads);
                     std::vector<std::vector<double>> acc(nt, std::vector<double>(2 * static_cast<size_t>(k)));
                     std::vector<double> unum, uden, inum, iden;
                     if (p.biased) {
                       unum.resize(static_cast<size_t>(R.rows) * k);
                       uden.resize(unum.size());
                       inum.resize(static_cast<size_t>(R.cols) * k);
                       iden.resize(inum.size());
                     }
                     for (int e = 0; e < p.epochs; ++e) {
                       double sse = 0;
                       if (!p.biased) {
                         // Users: accumulate over their ratings with last epoch's factors, step into U2.
                         parallel_for(
                             R.rows, nt,
                             [&](int64_t u, int tid) {
            double* num = acc[tid].data();
            double* den = num + k;
            std::fill(num, num + 2 * k, 0.0);
            const float* pu = m->U.data() + u * k;
            double s = 0;
            for (int32_t q = R.row_begin(static_cast<int32_t>(u)); q < R.row_end(static_cast<int32_t>(u)); ++q) {
              const float* qi = m->V.data() + static_cast<int64_t>(R.indices[q]) * k;
              const double est = blas::dot(pu, qi, k), r = R.data[q];
              s += (r - est) * (r - est);
              for (int f = 0; f < k; ++f) {
                num[f] += qi[f] * r;
                den[f] += qi[f] * est;
              }
            }
            user_sse[u] = s;
            float* out = U2.data() + u * k;
            std::copy_n(pu, k, out);
            multiplicative_step(out, num, den, k, R.row_len(static_cast<int32_t>(u)), p.reg_pu);
                             },
                             32);
                         // Items, the same against last epoch's user factors.
                         parallel_for(
                             C.rows, nt,
                             [&](int64_t i, int tid) {
            double* num = acc[tid].data();
            double* den = num + k;
            std::fill(num, num + 2 * k, 0.0);
            const float* qi = m->V.data() + i * k;
            for (int32_t q = C.row_begin(static_cast<int32_t>(i)); q < C.row_end(static_cast<int32_t>(i)); ++q) {
              const float* pu = m->U.data() + static_cast<int64_t>(C.indices[q]) * k;
              const double est = blas::dot(pu, qi, k), r = C.data[q];
              for (int f = 0; f < k; ++f) {
                num[f] += pu[f] * r;
                den[f] += pu[f] * est;
              }
            }
            float* out = V2.data() + i * k;
            std::copy_n(qi, k, out);
            multiplicative_step(out, num, den, k, C.row_len(static_cast<int32_t>(i)), p.reg_qi);
                             },
                             32);
                         m->U.swap(U2);
                         m->V.swap(V2);
                         for (double s : user_sse) sse += s;
                       } else {
                         // Surprise's biased pass: bias SGD steps interleaved, so one thread in user order.
                         std::fill(unum.begin(), unum.end(), 0.0);
                         std::fill(uden.begin(), uden.end(), 0.0);
                         std::fill(inum.begin(), inum.end(), 0.0);
                         std::fill(iden.begin(), iden.end(), 0.0);
                         float* bu = m->user_bias.data();
                         float* bi = m->item_bias.data();
                         for (int32_t u = 0; u < R.rows; ++u) {
                           const float* pu = m->U.data() + static_cast<int64_t>(u) * k;
                           for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) {
                             const int32_t i = R.indices[q];
                             const float* qi = m->V.data() + static_cast<int64_t>(i) * k;
                             const double r = R.data[q];
                             const double est = mu + bu[u] + bi[i] + blas::dot(pu, qi, k);
                             const double err = r - est;
                             sse += err * err;
                             bu[u] += static_cast<float>(p.lr_bu * (err - p.reg_bu * bu[u]));
                             bi[i] += static_cast<float>(p.lr_bi * (err - p.reg_bi * bi[i]));
                             double* un = unum.data() + static_cast<int64_t>(u) * k;
                             double* ud = uden.data() + static_cast<int64_t>(u) * k;
                             double* in = inum.data() + static_cast<int64_t>(i) * k;
                             double* id = iden.data() + static_cast<int64_t>(i) * k;
                             for (int f = 0; f < k; ++f) {
                               un[f] += qi[f] * r;
                               ud[f] += qi[f] * est;
                               in[f] += pu[f] * r;
                               id[f] += pu[f] * est;
                             }
                           }
                         }
                         parallel_for(
                             R.rows, nt,
                             [&](int64_t u, int) {
            multiplicative_step(m->U.data() + u * k, unum.data() + u * k, uden.data() + u * k, k,
                                R.row_len(static_cast<int32_t>(u)), p.reg_pu);
                             },
                             64);
                         parallel_for(
                             C.rows, nt,
                             [&](int64_t i, int) {
            multiplicative_step(m->V.data() + i * k, inum.data() + i * k, iden.data() + i * k, k,
                                C.row_len(static_cast<int32_t>(i)), p.reg_qi);
                             },
                             64);
                       }
                       ctx.progress(e + 1, p.epochs,
                                    std::sqrt(sse / std::max<double>(1, static_cast<double>(R.nnz()))));
                     }
                     return m;
                   },
                   {info[0], info[1]});
  });
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("fitNMF", Napi::Function::New(env, FitNMF)); }

std::shared_ptr<Model> restore_nmf(StateReader& s) {
  auto m = std::make_shared<NmfModel>();
  restore_factor_state(*m, s, true);
  // Non-negative factors are what makes it NMF (the fit starts them >= 0 and its multiplicative updates keep them
  // there); a state with a negative one is another model's (e.g. a FactorModel's relabelled as NMF).
  for (const auto* side : {&m->U, &m->V})
    for (float x : *side)
      if (x < 0.f)
        s.fail_tensor(side == &m->U ? "user_factors" : "item_factors",
                      "holds a negative value (NMF factors are non-negative)");
  NmfParams& p = m->params;
  p.factors = m->factors;
  p.reg_pu = s.real_param("regUser");
  p.reg_qi = s.real_param("regItem");
  p.reg_bu = s.real_param("regBiasUser");
  p.reg_bi = s.real_param("regBiasItem");
  p.lr_bu = s.real_param("lrBiasUser");
  p.lr_bi = s.real_param("lrBiasItem");
  p.init_low = s.real_param("initLow");
  p.init_high = s.real_param("initHigh");
  p.epochs = static_cast<int>(s.int_param("epochs", 0, 1000000));
  p.biased = s.bool_param("biased");
  if (p.biased && (m->item_bias.empty() || m->user_bias.empty()))
    s.fail_tensor("item_bias", "is missing (biased model)");
  p.seed = static_cast<uint64_t>(s.int_param("seed", 0, int64_t{1} << 53));
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(nmf, init);
RECSYS_REGISTER_RESTORER(NMF, restore_nmf);

}  // namespace recsys
