// BiasedMF: Funk's SGD matrix factorization with biases ("SVD" in Surprise; Koren, Bell & Volinsky 2009):
//   r_ui ~ mu + b_u + b_i + p_u . q_i, one SGD step per rating on squared error + reg * (b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2).
// The update rule, initialization N(initMean, initStd) and the defaults ts/models/biased_mf.ts sends
// are Surprise's, so results compare one to one. Parallel with the conflict-free block grid of core/grid.h:
// reproducible for a seed and a grid size, whatever the thread count.
#include <cmath>

#include "core/blas.h"
#include "core/common.h"
#include "core/fit.h"
#include "core/grid.h"
#include "core/model.h"
#include "core/rating.h"
#include "core/rng.h"

namespace recsys {

namespace {

class BiasedMfModel : public FactorModel {
 public:
  SgdParams params;
  // Fold-in: SGD epochs on the new user's vector and bias alone (core/rating.h sgd_fold_in).
  bool fold_in(const int32_t* its, const float* values, int n, float* p_out, float* bu_out) const override {
    if (n > 0 && !values) fail_arg(kind_name + " fold-in needs the new user's ratings");
    sgd_fold_in(*this, params, its, values, n, nullptr, p_out, bu_out);
    return true;
  }
};

// One SGD step per rating of a block. Returns the block's sum of squared errors (before each step).
RECSYS_KERNEL double sgd_block(const RatingEntry* first, const RatingEntry* last, BiasedMfModel& m,
                               const SgdParams& p) noexcept {
  const int k = m.factors;
  const float lr = static_cast<float>(p.lr), reg = static_cast<float>(p.reg);
  const float lrb = static_cast<float>(p.lr_bias), regb = static_cast<float>(p.reg_bias);
  float* bu = m.user_bias.data();
  float* bi = m.item_bias.data();
  const bool biased = p.biased;
  const float mu = m.global;
  double sse = 0;
  for (const RatingEntry* e = first; e != last; ++e) {
    // The rows of a rating two steps ahead are random accesses: start loading them now.
    if (last - e > 2) {
      const char* pn = reinterpret_cast<const char*>(m.U.data() + static_cast<int64_t>(e[2].u) * k);
      const char* qn = reinterpret_cast<const char*>(m.V.data() + static_cast<int64_t>(e[2].i) * k);
      for (int64_t b = 0; b < k * static_cast<int64_t>(sizeof(float)); b += 64) {
        __builtin_prefetch(pn + b, 1);
        __builtin_prefetch(qn + b, 1);
      }
    }
    float* __restrict pu = m.U.data() + static_cast<int64_t>(e->u) * k;
    float* __restrict qi = m.V.data() + static_cast<int64_t>(e->i) * k;
    float est = blas::dot(pu, qi, k);
    if (biased) est += mu + bu[e->u] + bi[e->i];
    const float err = e->r - est;
    sse += static_cast<double>(err) * err;
    if (biased) {
      bu[e->u] += lrb * (err - regb * bu[e->u]);
      bi[e->i] += lrb * (err - regb * bi[e->i]);
    }
    const float le = lr * err, decay = 1.f - lr * reg;
    for (int f = 0; f < k; ++f) {
      const float pf = pu[f], qf = qi[f];
      pu[f] = decay * pf + le * qf;
      qi[f] = decay * qf + le * pf;
    }
  }
  return sse;
}

// fitBiasedMF(csr, {factors, epochs, lr, reg, lrBias, regBias, initMean, initStd, biased, shuffle, blocks, threads,
// seed, ratingMin, ratingMax}, runOptions)
Napi::Value FitBiasedMF(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[2]);
    require_ratings(R, "BiasedMF");
    auto o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    SgdParams p = sgd_params_arg(o);
    p.blocks = static_cast<int>(int_req(o, "blocks", 0, 1024));
    if (p.blocks == 0) p.blocks = default_grid_blocks(p.threads);
    RatingScale scale = rating_scale_arg(o, R);
    auto run = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    check_memory("BiasedMF", 4.0 * (static_cast<double>(R.rows) + R.cols) * (p.factors + 1),
                 "the factors ((users + items) x factors floats)", max_memory_arg(o), "use fewer factors");
    return run_fit(info, run,
                   [R, p, scale](FitContext& ctx) -> std::shared_ptr<Model> {
                     auto m = std::make_shared<BiasedMfModel>();
                     m->kind_name = "BiasedMF";
                     m->params = p;
                     m->users = R.rows;
                     m->items = R.cols;
                     m->factors = p.factors;
                     const int64_t k = p.factors;
                     m->U.resize(static_cast<size_t>(R.rows) * k);
                     m->V.resize(static_cast<size_t>(R.cols) * k);
                     Rng init(p.seed, 1);
                     init.fill_normal(m->U.data(), static_cast<int64_t>(m->U.size()), p.init_mean, p.init_std);
                     init.fill_normal(m->V.data(), static_cast<int64_t>(m->V.size()), p.init_mean, p.init_std);
                     start_rating_model(*m, R, p.biased, scale);
                     RatingGrid grid(R, p.blocks, p.seed, p.shuffle);
                     Rng order(p.seed, 2);
                     const int B = grid.blocks();
                     // Squared errors per (epoch, row group): each slot is written by the one block running that row group.
                     std::vector<double> sse(static_cast<size_t>(p.epochs) * B, 0.0);
                     const double nnz = static_cast<double>(std::max<int64_t>(1, R.nnz()));
                     grid.run(
                         p.epochs, p.threads, order,
                         [&](const RatingEntry* first, const RatingEntry* last, int epoch, int rb, int, int) {
        sse[static_cast<size_t>(epoch) * B + rb] += sgd_block(first, last, *m, p);
                         },
                         [&](int e) {
        double total = 0;
        for (int rb = 0; rb < B; ++rb) total += sse[static_cast<size_t>(e) * B + rb];
        if (!std::isfinite(total)) fail_diverged("BiasedMF", "non-finite error in epoch " + std::to_string(e + 1));
        ctx.progress(e + 1, p.epochs, std::sqrt(total / nnz));
                     });
                     ctx.check_cancelled();
                     return m;
                   },
                   {info[0]});
  });
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("fitBiasedMF", Napi::Function::New(env, FitBiasedMF)); }

std::shared_ptr<Model> restore_biased_mf(StateReader& s) {
  auto m = std::make_shared<BiasedMfModel>();
  restore_factor_state(*m, s, true);
  m->params = read_sgd_params(s, m->factors);
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(biased_mf, init);
RECSYS_REGISTER_RESTORER(BiasedMF, restore_biased_mf);

}  // namespace recsys
