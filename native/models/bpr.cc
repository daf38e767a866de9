// BPR: Bayesian Personalized Ranking (Rendle et al. 2009), matrix factorization with item biases trained by SGD
// on (user, seen item, unseen item) triples. Each epoch draws as many triples as there are interactions: the
// positive pair uniformly among the interactions, the negative uniformly among the items the user has not seen
// (core/sampling.h's NegativeSampler, shared with the deep models). Threads split an epoch's samples and update
// the shared factors without locks (Hogwild, as implicit does): one thread gives the same model for the same seed; several threads give a model that varies
// slightly from run to run, because the order in which they overwrite each other's updates varies.
#include <algorithm>
#include <cmath>
#include <memory>

#include "core/blas.h"
#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "core/threads.h"

namespace recsys {
namespace {

// The options TS resolved (ts/models/params.ts owns their defaults); zero until the fit / a restorer sets them.
struct BprParams {
  int factors = 0;
  float lr = 0.f;
  float reg = 0.f;
  int epochs = 0;
  bool loss = false;
  uint64_t seed = 0;
  int threads = 0;
};

// Streams of the sampling generators: (epoch, thread), one for positives and one for negatives. Initialisation
// uses streams per row (below 2^41).
constexpr uint64_t kSampleStream = uint64_t{1} << 48;
constexpr uint64_t kNegativeStream = uint64_t{1} << 49;
constexpr int kAhead = 16;
constexpr uint64_t kFoldInSalt = 0xB9E0F01D5EEDull;

// One SGD step on (u, i, j) with z = 1 - sigmoid(x_uij); adds -log sigmoid(x_uij) to *loss when asked.
template <int K>
RECSYS_KERNEL void bpr_step(float* x, float* yi, float* yj, float* bi, float* bj, int k_, float lr, float reg,
                            double* loss) noexcept {
  const int k = K > 0 ? K : k_;
  float d = (*bi - *bj) + blas::dot<K>(x, yi, k) - blas::dot<K>(x, yj, k);
  float z = 1.f / (1.f + std::exp(d));
  if (loss)
    *loss += d > 0 ? std::log1p(std::exp(-static_cast<double>(d))) : -d + std::log1p(std::exp(static_cast<double>(d)));
  for (int f = 0; f < k; ++f) {
    float xf = x[f];
    x[f] += lr * (z * (yi[f] - yj[f]) - reg * xf);
    yi[f] += lr * (z * xf - reg * yi[f]);
    yj[f] += lr * (-z * xf - reg * yj[f]);
  }
  *bi += lr * (z - reg * *bi);
  *bj += lr * (-z - reg * *bj);
}

class BprModel : public FactorModel {
 public:
  BprParams params;
  // Model files: the factors (FactorModel::state()); what fold-in reads besides comes from the options.
  // Fold-in: SGD on the new user's vector alone (item factors and biases fixed), `epochs` passes over the given
  // items, seeded from the seed and the items, so the same input gives the same scores.
  bool fold_in(const int32_t* its, const float*, int n, float* p_out, float* bu_out) const override {
    const int k = factors;
    std::vector<float> x(k, 0.f);
    std::vector<int32_t> set(its, its + n);
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    if (!set.empty() && static_cast<int32_t>(set.size()) < items) {
      uint64_t h = kFoldInSalt;
      for (int32_t i : set) h = hash3(h, static_cast<uint64_t>(i), 1);
      Rng rng(params.seed ^ h, 0);
      std::vector<float> gi(k), gj(k);
      const int64_t steps = static_cast<int64_t>(params.epochs) * static_cast<int64_t>(set.size());
      for (int64_t s = 0; s < steps; ++s) {
        int32_t i = set[rng.below(static_cast<uint32_t>(set.size()))];
        int32_t j = -1;
        for (int t = 0; t < 64; ++t) {
          int32_t c = static_cast<int32_t>(rng.below(static_cast<uint32_t>(items)));
          if (!std::binary_search(set.begin(), set.end(), c)) {
            j = c;
            break;
          }
        }
        if (j < 0) continue;
        const float* yi = V.data() + static_cast<int64_t>(i) * k;
        const float* yj = V.data() + static_cast<int64_t>(j) * k;
        float d = (item_bias[i] - item_bias[j]) + blas::dot(x.data(), yi, k) - blas::dot(x.data(), yj, k);
        float z = 1.f / (1.f + std::exp(d));
        for (int f = 0; f < k; ++f) x[f] += params.lr * (z * (yi[f] - yj[f]) - params.reg * x[f]);
      }
    }
    std::copy(x.begin(), x.end(), p_out);
    *bu_out = 0.f;
    return true;
  }
};

// fitBPR(csr, options, runOptions)
Napi::Value FitBPR(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[2]);
    auto o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    BprParams p;
    p.factors = static_cast<int>(int_req(o, "factors", 1, 4096));
    p.lr = static_cast<float>(real_req(o, "lr", 0, 1e6, true));
    p.reg = static_cast<float>(real_req(o, "reg", 0, 1e6));
    p.epochs = static_cast<int>(int_req(o, "epochs", 0, 1000000));
    p.loss = bool_req(o, "computeLoss");
    p.seed = static_cast<uint64_t>(int_req(o, "seed", 0, int64_t{1} << 53));
    p.threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    if (R.nnz() > static_cast<int64_t>(UINT32_MAX)) fail_arg("BPR: too many interactions");
    auto run = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    check_memory("BPR", 4.0 * (static_cast<double>(R.rows) + R.cols) * (p.factors + 1),
                 "the factors ((users + items) x factors floats)", max_memory_arg(o), "use fewer factors");
    return run_fit(info, run,
                   [R, p](FitContext& ctx) -> std::shared_ptr<Model> {
                     const int k = p.factors;
                     auto m = std::make_shared<BprModel>();
                     m->kind_name = "BPR";
                     m->params = p;
                     m->users = R.rows;
                     m->items = R.cols;
                     m->factors = k;
                     m->mark_known(R);
                     // (uniform - 0.5) / factors per row from the row's own stream; rows without data start (and stay) at zero.
                     m->U.assign(static_cast<size_t>(R.rows) * k, 0.f);
                     m->V.assign(static_cast<size_t>(R.cols) * k, 0.f);
                     m->item_bias.assign(R.cols, 0.f);
                     for (int32_t u = 0; u < R.rows; ++u) {
                       if (!m->user_known[u]) continue;
                       Rng rng(p.seed, static_cast<uint64_t>(u));
                       for (int f = 0; f < k; ++f)
                         m->U[static_cast<int64_t>(u) * k + f] = static_cast<float>((rng.uniform() - 0.5) / k);
                     }
                     for (int32_t i = 0; i < R.cols; ++i) {
                       if (!m->item_known[i]) continue;
                       Rng rng(p.seed, (uint64_t{1} << 40) + static_cast<uint64_t>(i));
                       for (int f = 0; f < k; ++f)
                         m->V[static_cast<int64_t>(i) * k + f] = static_cast<float>((rng.uniform() - 0.5) / k);
                     }
                     const int64_t nnz = R.nnz();
                     std::vector<int32_t> row_of(nnz);
                     for (int32_t u = 0; u < R.rows; ++u)
                       std::fill(row_of.begin() + R.row_begin(u), row_of.begin() + R.row_end(u), u);
                     const NegativeSampler sampler(R);
                     const int nt =
                         static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(resolve_threads(p.threads), nnz)));
                     auto step = blas::with_factors(k, [](auto kc) { return &bpr_step<decltype(kc)::value>; });
                     std::vector<double> losses(nt);
                     std::vector<int64_t> used(nt);
                     for (int e = 0; e < p.epochs; ++e) {
                       std::fill(losses.begin(), losses.end(), 0.0);
                       std::fill(used.begin(), used.end(), 0);
                       parallel_blocks(nnz, nt,
                                       [&](int64_t b, int64_t end, int tid) {
          // Positives and negatives come from two streams, so the positives can be drawn kAhead samples early and
          // their rows fetched while earlier samples compute: the loads are random and would otherwise stall.
          const uint64_t stream = (static_cast<uint64_t>(e) << 12) + static_cast<uint64_t>(tid);
          Rng pos(p.seed, kSampleStream + stream), neg(p.seed, kNegativeStream + stream);
          double* loss = p.loss ? &losses[tid] : nullptr;
          int64_t n_used = 0;
          uint32_t ring[kAhead];
          auto draw = [&](int64_t s) {
            uint32_t q = pos.below(static_cast<uint32_t>(nnz));
            ring[s % kAhead] = q;
            __builtin_prefetch(&row_of[q]);
            __builtin_prefetch(&R.indices[q]);
          };
          for (int64_t s = b; s < std::min(end, b + kAhead); ++s) draw(s);
          for (int64_t s = b; s < end; ++s) {
            uint32_t q = ring[s % kAhead];
            if (s + kAhead < end) draw(s + kAhead);
            if (s + kAhead / 2 < end) {  // the sample half a ring ahead: its ids are cached by now
              uint32_t qa = ring[(s + kAhead / 2) % kAhead];
              __builtin_prefetch(m->U.data() + static_cast<int64_t>(row_of[qa]) * k);
              __builtin_prefetch(m->V.data() + static_cast<int64_t>(R.indices[qa]) * k);
            }
            int32_t u = row_of[q], i = R.indices[q];
            const int32_t j = sampler.draw(u, neg);  // -1: the user has seen every item, no negative exists
            if (j < 0) continue;
            step(m->U.data() + static_cast<int64_t>(u) * k, m->V.data() + static_cast<int64_t>(i) * k,
                 m->V.data() + static_cast<int64_t>(j) * k, &m->item_bias[i], &m->item_bias[j], k, p.lr, p.reg, loss);
            ++n_used;
          }
          used[tid] = n_used;
                       });
                       double loss = NAN;
                       if (p.loss) {
                         double l = 0;
                         int64_t n = 0;
                         for (int t = 0; t < nt; ++t) {
                           l += losses[t];
                           n += used[t];
                         }
                         loss = n ? l / static_cast<double>(n) : 0.0;
                       }
                       ctx.progress(e + 1, p.epochs, loss, "epoch");
                     }
                     return m;
                   },
                   {info[0]});
  });
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("fitBPR", Napi::Function::New(env, FitBPR)); }

std::shared_ptr<Model> restore_bpr(StateReader& s) {
  auto m = std::make_shared<BprModel>();
  restore_factor_state(*m, s, true);
  if (m->item_bias.empty()) s.fail_tensor("item_bias", "is missing");
  m->params.factors = m->factors;
  m->params.lr = static_cast<float>(s.real_param("lr"));
  m->params.reg = static_cast<float>(s.real_param("reg"));
  m->params.epochs = static_cast<int>(s.int_param("epochs", 0, 1000000));
  m->params.seed = static_cast<uint64_t>(s.int_param("seed", 0, int64_t{1} << 53));
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(bpr, init);
RECSYS_REGISTER_RESTORER(BPR, restore_bpr);

}  // namespace recsys
