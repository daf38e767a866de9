// LightGCN (He et al. 2020): graph collaborative filtering without feature transforms or non-linearities. Layer-0
// embeddings E0 of users and items are propagated K times over the symmetric-normalized user-item bipartite graph
// (entry (u, i) weighted 1 / sqrt(d_u d_i)); a node's final embedding is the mean of its K + 1 layers and a score is
// the dot product of final embeddings. Training: mini-batches of (user, seen item, unseen item) triples (the
// positive uniform among the interactions, the negative from core/sampling.h's NegativeSampler), BPR loss
// mean(-log sigmoid(x_uij)) plus reg/2 * |layer-0 rows of the triple|^2 / batch (the paper's code), and one Adam
// step (core/optim.h) on the whole E0 table per batch.
//
// Every batch propagates the whole graph forward and its gradient backward. The normalized adjacency A is
// symmetric, so the gradient of E0 is the same propagation applied to the gradient G of the final embeddings:
// dE0 = (1/(K+1)) sum_l A^l G. Each A-product is two SpMMs (users <- items over the normalized CSR, items <- users
// over its transpose), parallel over output rows with each row summed in order by one thread; per-sample
// gradients are computed in parallel and summed in sample order; negatives are drawn from per-position streams.
// So a seed gives the same model for any thread count.
//
// Fold-in of a new user with items S (from the item side): with no layer-0 vector of its own, the user's layer
// l + 1 is sum_{i in S} E_i^l / sqrt(|S| d_i) over the fitted item layers (the new user's effect on the items is
// left out), and its final embedding the mean over layers 0 (zero) .. K. The model keeps item layers 0 .. K-1.
#include <algorithm>
#include <cmath>
#include <memory>

#include "core/blas.h"
#include "core/common.h"
#include "core/csr.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "core/threads.h"

namespace recsys {
namespace {

// The options TS resolved (ts/models/lightgcn.ts owns their defaults); zero until the fit / a restorer sets them.
struct LightGcnParams {
  int factors = 0;
  int layers = 0;
  double lr = 0;
  double reg = 0;
  int epochs = 0;
  int batch = 0;
  bool loss = false;
  uint64_t seed = 0;
  int threads = 0;
};

constexpr int kMaxLayers = 16;
// The paper's initialisation (normal, std 0.1) and Adam's usual moments.
constexpr double kInitStd = 0.1;
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
// Streams: positives per epoch; initialisation per row (users, then items after 2^40).
constexpr uint64_t kSampleStream = uint64_t{1} << 48;
constexpr uint64_t kItemStream = uint64_t{1} << 40;

class LightGcnModel : public FactorModel {
 public:
  int layers = 0;
  std::vector<float> item_layers;  // layers x items x factors: item layers 0 .. K-1 (fold-in)
  std::vector<float> item_norm;    // 1 / sqrt(training degree), 0 for items without interactions

  std::map<std::string, Tensor> state() const override {
    auto s = FactorModel::state();
    s["item_layers"] = Tensor{{layers, items, factors}, item_layers, {}};
    s["item_norm"] = Tensor{{items}, item_norm, {}};
    return s;
  }
  size_t memory_bytes() const override {
    return FactorModel::memory_bytes() + (item_layers.size() + item_norm.size()) * sizeof(float);
  }

  bool fold_in(const int32_t* its, const float*, int n, float* p_out, float* bu_out) const override {
    for (int q = 0; q < n; ++q)
      if (its[q] < 0 || its[q] >= items)
        fail_arg("fold-in item index " + std::to_string(its[q]) + " is outside the model");
    std::vector<int32_t> set(its, its + n);
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    const int k = factors;
    std::vector<float> x(k, 0.f);
    if (!set.empty()) {
      // In double: the sum runs over the user's items for every layer.
      std::vector<double> acc(k, 0.0);
      const double su = 1.0 / std::sqrt(static_cast<double>(set.size()));
      for (int l = 0; l < layers; ++l) {
        const float* E = item_layers.data() + static_cast<int64_t>(l) * items * k;
        for (int32_t i : set) {
          const double w = su * item_norm[i];
          const float* e = E + static_cast<int64_t>(i) * k;
          for (int f = 0; f < k; ++f) acc[f] += w * e[f];
        }
      }
      for (int f = 0; f < k; ++f) x[f] = static_cast<float>(acc[f] / (layers + 1));
    }
    std::copy(x.begin(), x.end(), p_out);
    *bu_out = 0.f;
    return true;
  }
};

// The normalized bipartite graph: Rn (users x items, 1/sqrt(d_u d_i)) and its transpose.
struct Graph {
  Csr Rn, RnT;
  std::vector<float> item_norm;
};

Graph normalized_graph(const CsrView& R) {
  Graph g;
  g.Rn.rows = R.rows;
  g.Rn.cols = R.cols;
  g.Rn.indptr.assign(R.indptr, R.indptr + R.rows + 1);
  g.Rn.indices.assign(R.indices, R.indices + R.nnz());
  g.Rn.data.resize(R.nnz());
  std::vector<int64_t> deg(R.cols, 0);
  for (int64_t p = 0; p < R.nnz(); ++p) ++deg[R.indices[p]];
  g.item_norm.assign(R.cols, 0.f);
  for (int32_t i = 0; i < R.cols; ++i)
    if (deg[i] > 0) g.item_norm[i] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(deg[i])));
  for (int32_t u = 0; u < R.rows; ++u) {
    const double su = R.row_len(u) > 0 ? 1.0 / std::sqrt(static_cast<double>(R.row_len(u))) : 0.0;
    for (int32_t p = R.row_begin(u); p < R.row_end(u); ++p)
      g.Rn.data[p] = static_cast<float>(su * g.item_norm[R.indices[p]]);
  }
  g.RnT = transpose(g.Rn.view());
  return g;
}

// Forward: final (users + items) x k = mean of layers 0..K of E0 (users first). When item_layers is given it
// receives item layers 0 .. K-1.
void propagate(const Graph& g, const float* E0, int k, int K, int threads, float* final, float* item_layers,
               std::vector<float>& cur, std::vector<float>& next) {
  const int64_t nu = g.Rn.rows, ni = g.Rn.cols, n = (nu + ni) * k;
  const float scale = 1.f / static_cast<float>(K + 1);
  cur.assign(E0, E0 + n);
  next.resize(n);
  std::copy(E0, E0 + n, final);
  for (int l = 0; l < K; ++l) {
    if (item_layers) std::copy(cur.data() + nu * k, cur.data() + n, item_layers + static_cast<int64_t>(l) * ni * k);
    spmm(g.Rn.view(), cur.data() + nu * k, k, k, next.data(), k, threads);
    spmm(g.RnT.view(), cur.data(), k, k, next.data() + nu * k, k, threads);
    cur.swap(next);
    parallel_for(
        n, threads, [&](int64_t j, int) { final[j] += cur[j]; }, 1 << 14);
  }
  parallel_for(
      n, threads, [&](int64_t j, int) { final[j] *= scale; }, 1 << 14);
}

// One mini-batch: the loss and its gradient with respect to E0. Buffers live across batches.
struct BatchStep {
  const Graph& g;
  int k, K, threads;
  double reg;
  std::vector<float> final, cur, next, grad, gs;
  std::vector<double> bl;

  BatchStep(const Graph& graph, int factors, int layers, int nt, double r)
      : g(graph), k(factors), K(layers), threads(nt), reg(r) {}

  // Triples (bu[s], bi[s], bj[s]) for s < nb (bj[s] = -1: no negative, the sample is skipped but still counts in
  // the batch mean, as a dropped sample of the paper's code would not; such users have seen every item). Writes
  // the gradient of mean(-log sigmoid(x_uij)) + reg/2 * sum |E0 rows|^2 / nb into out (nodes x k); returns
  // sum over samples of -log sigmoid(x_uij) and the number of samples in *used.
  double run(const float* E0, const int32_t* bu, const int32_t* bi, const int32_t* bj, int64_t nb, float* out,
             int64_t* used) {
    const int64_t nu = g.Rn.rows, n = (nu + g.Rn.cols) * k;
    final.resize(n);
    grad.assign(n, 0.f);
    gs.resize(static_cast<size_t>(nb) * 3 * k);
    bl.resize(nb);
    propagate(g, E0, k, K, threads, final.data(), nullptr, cur, next);
    // Per-sample gradients with respect to the final rows, in parallel; summed below in sample order.
    const float* Fu = final.data();
    const float* Fi = final.data() + nu * k;
    parallel_for(
        nb, threads,
        [&](int64_t s, int) {
      float* gd = gs.data() + s * 3 * k;
      if (bj[s] < 0) {
        std::fill(gd, gd + 3 * k, 0.f);
        bl[s] = 0;
        return;
      }
      const float* eu = Fu + static_cast<int64_t>(bu[s]) * k;
      const float* ei = Fi + static_cast<int64_t>(bi[s]) * k;
      const float* ej = Fi + static_cast<int64_t>(bj[s]) * k;
      double x = 0;
      for (int f = 0; f < k; ++f) x += static_cast<double>(eu[f]) * (static_cast<double>(ei[f]) - ej[f]);
      // d/dx of -log sigmoid(x) = -sigmoid(-x), over the batch mean.
      const float c = static_cast<float>(-1.0 / (1.0 + std::exp(x)) / static_cast<double>(nb));
      for (int f = 0; f < k; ++f) {
        gd[f] = c * (ei[f] - ej[f]);
        gd[k + f] = c * eu[f];
        gd[2 * k + f] = -c * eu[f];
      }
      bl[s] = x > 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x));
        },
        256);
    double loss = 0;
    int64_t n_used = 0;
    for (int64_t s = 0; s < nb; ++s) {
      if (bj[s] < 0) continue;
      const float* gd = gs.data() + s * 3 * k;
      blas::axpy(k, 1.f, gd, grad.data() + static_cast<int64_t>(bu[s]) * k);
      blas::axpy(k, 1.f, gd + k, grad.data() + (nu + bi[s]) * k);
      blas::axpy(k, 1.f, gd + 2 * k, grad.data() + (nu + bj[s]) * k);
      loss += bl[s];
      ++n_used;
    }
    *used = n_used;
    // Backward through the layers (A is symmetric): out = (1/(K+1)) sum_{l=0..K} A^l grad.
    std::copy(grad.begin(), grad.end(), out);
    for (int l = 0; l < K; ++l) {
      next.resize(n);
      spmm(g.Rn.view(), grad.data() + nu * k, k, k, next.data(), k, threads);
      spmm(g.RnT.view(), grad.data(), k, k, next.data() + nu * k, k, threads);
      grad.swap(next);
      parallel_for(
          n, threads, [&](int64_t j, int) { out[j] += grad[j]; }, 1 << 14);
    }
    const float scale = 1.f / static_cast<float>(K + 1);
    parallel_for(
        n, threads, [&](int64_t j, int) { out[j] *= scale; }, 1 << 14);
    // L2 on the batch's layer-0 rows: reg/2 * sum |e|^2 / nb (a row drawn twice counts twice).
    if (reg > 0) {
      const float r = static_cast<float>(reg / static_cast<double>(nb));
      for (int64_t s = 0; s < nb; ++s) {
        if (bj[s] < 0) continue;
        for (int64_t row : {static_cast<int64_t>(bu[s]), nu + bi[s], nu + bj[s]})
          blas::axpy(k, r, E0 + row * k, out + row * k);
      }
    }
    return loss;
  }
};

// fitLightGCN(csr, options, runOptions)
Napi::Value FitLightGCN(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[2]);
    auto o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    LightGcnParams p;
    p.factors = static_cast<int>(int_req(o, "factors", 1, 4096));
    p.layers = static_cast<int>(int_req(o, "layers", 1, kMaxLayers));
    p.lr = real_req(o, "lr", 0, 1e6, true);
    p.reg = real_req(o, "reg", 0, 1e6);
    p.epochs = static_cast<int>(int_req(o, "epochs", 0, 1000000));
    p.batch = static_cast<int>(int_req(o, "batchSize", 1, 1 << 24));
    p.loss = bool_req(o, "computeLoss");
    p.seed = static_cast<uint64_t>(int_req(o, "seed", 0, int64_t{1} << 53));
    p.threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    if (R.nnz() > static_cast<int64_t>(UINT32_MAX)) fail_arg("LightGCN: too many interactions");
    auto run = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    const double nodes = static_cast<double>(R.rows) + R.cols;
    // E0, Adam's two moments, the gradient, the final embeddings and two propagation buffers (each nodes x k), the
    // kept item layers, the normalized graph twice, and the batch's per-sample gradients.
    check_memory("LightGCN",
                 4.0 * nodes * p.factors * 8 + 4.0 * R.cols * p.factors * p.layers + 16.0 * R.nnz() +
                     4.0 * std::min<double>(p.batch, R.nnz()) * (3.0 * p.factors + 4),
                 "the embeddings, optimizer state and normalized graph", max_memory_arg(o),
                 "use fewer factors or layers");
    return run_fit(
        info, run,
        [R, p](FitContext& ctx) -> std::shared_ptr<Model> {
          const int k = p.factors, K = p.layers, nt = resolve_threads(p.threads);
          const int32_t nu = R.rows, ni = R.cols;
          const int64_t n = (static_cast<int64_t>(nu) + ni) * k, nnz = R.nnz();
          auto m = std::make_shared<LightGcnModel>();
          m->kind_name = "LightGCN";
          m->users = nu;
          m->items = ni;
          m->factors = k;
          m->layers = K;
          m->mark_known(R);
          Graph g = normalized_graph(R);
          // Layer-0 embeddings, normal(0, 0.1) per row from the row's own stream; rows without data stay zero (they
          // get no gradient, so Adam never moves them).
          std::vector<float> E0(n, 0.f);
          for (int32_t u = 0; u < nu; ++u)
            if (m->user_known[u]) Rng(p.seed, u).fill_normal(E0.data() + static_cast<int64_t>(u) * k, k, 0.0, kInitStd);
          for (int32_t i = 0; i < ni; ++i)
            if (m->item_known[i])
              Rng(p.seed, kItemStream + i)
                  .fill_normal(E0.data() + (static_cast<int64_t>(nu) + i) * k, k, 0.0, kInitStd);
          std::vector<float> grad(n), mom(n, 0.f), vel(n, 0.f);
          BatchStep stepper(g, k, K, nt, p.reg);
          std::vector<int32_t> row_of(nnz);
          for (int32_t u = 0; u < nu; ++u) std::fill(row_of.begin() + R.row_begin(u), row_of.begin() + R.row_end(u), u);
          const NegativeSampler sampler(R);
          const int64_t B = std::min<int64_t>(p.batch, std::max<int64_t>(nnz, 1));
          const int64_t batches = nnz == 0 ? 0 : (nnz + B - 1) / B;
          std::vector<int32_t> bu(B), bi(B), bj(B);
          OptimizerParams op;
          op.adam = true;
          op.lr = p.lr;
          op.beta1 = kBeta1;
          op.beta2 = kBeta2;
          op.eps = kEps;
          op.l2 = 0;
          int64_t step = 0;
          for (int e = 0; e < p.epochs; ++e) {
            Rng pos(p.seed, kSampleStream + static_cast<uint64_t>(e));
            double loss_sum = 0;
            int64_t loss_n = 0;
            for (int64_t b = 0; b < batches; ++b) {
              ctx.check_cancelled();
              const int64_t nb = std::min<int64_t>(B, nnz - b * B);
              for (int64_t s = 0; s < nb; ++s) {
                const uint32_t q = pos.below(static_cast<uint32_t>(nnz));
                bu[s] = row_of[q];
                bi[s] = R.indices[q];
              }
              sample_for_users(sampler, bu.data(), nb, p.seed, static_cast<uint64_t>(e) * batches + b, bj.data(), nt);
              int64_t used = 0;
              const double l = stepper.run(E0.data(), bu.data(), bi.data(), bj.data(), nb, grad.data(), &used);
              loss_sum += l;
              loss_n += used;
              op.step = ++step;
              // Elementwise: split over threads in blocks.
              parallel_blocks(n, nt, [&](int64_t lo, int64_t hi, int) {
                optimizer_step(E0.data() + lo, grad.data() + lo, mom.data() + lo, vel.data() + lo, hi - lo, op);
              });
            }
            ctx.progress(e + 1, p.epochs, p.loss ? (loss_n ? loss_sum / static_cast<double>(loss_n) : 0.0) : NAN,
                         "epoch");
          }
          m->item_layers.resize(static_cast<size_t>(K) * ni * k);
          std::vector<float> final(n), cur, next;
          propagate(g, E0.data(), k, K, nt, final.data(), m->item_layers.data(), cur, next);
          m->U.assign(final.begin(), final.begin() + static_cast<int64_t>(nu) * k);
          m->V.assign(final.begin() + static_cast<int64_t>(nu) * k, final.end());
          m->item_norm = std::move(g.item_norm);
          return m;
        },
        {info[0]});
  });
}

// lightgcnBatchLoss(csr, E0, users, positives, negatives, { factors, layers, reg, threads }) -> { loss, grad }: one
// batch's loss (mean BPR + L2 term) and its gradient with respect to E0 ((users + items) x factors, users first),
// by the code the fit runs. A seam for the tests, which check it against finite differences of a float64 forward.
Napi::Value LightGcnBatchLoss(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_arg(info[0], "train");
    auto E0 = typed_array<float>(info[1], "E0");
    auto bu = typed_array<int32_t>(info[2], "users");
    auto bi = typed_array<int32_t>(info[3], "positives");
    auto bj = typed_array<int32_t>(info[4], "negatives");
    if (!info[5].IsObject()) fail_arg("lightgcnBatchLoss expects an options object");
    auto o = info[5].As<Napi::Object>();
    const int k = static_cast<int>(int_req(o, "factors", 1, 4096));
    const int K = static_cast<int>(int_req(o, "layers", 1, kMaxLayers));
    const double reg = real_req(o, "reg", 0, 1e6);
    const int nt = resolve_threads(static_cast<int>(int_req(o, "threads", 0, 1024)));
    const int64_t n = (static_cast<int64_t>(R.rows) + R.cols) * k;
    if (static_cast<int64_t>(E0.size) != n) fail_arg("E0 must hold (users + items) x factors floats");
    if (bu.size == 0 || bi.size != bu.size || bj.size != bu.size)
      fail_arg("users, positives and negatives must have the same, non-zero length");
    check_indices(bu.data, bu.size, R.rows, "users", "users");
    check_indices(bi.data, bi.size, R.cols, "positives", "items");
    check_indices(bj.data, bj.size, R.cols, "negatives", "items");
    Graph g = normalized_graph(R);
    BatchStep step(g, k, K, nt, reg);
    std::vector<float> grad(n);
    int64_t used = 0;
    const int64_t nb = static_cast<int64_t>(bu.size);
    double loss = step.run(E0.data, bu.data, bi.data, bj.data, nb, grad.data(), &used) / static_cast<double>(nb);
    double sq = 0;
    for (int64_t s = 0; s < nb; ++s)
      for (int64_t row :
           {static_cast<int64_t>(bu[s]), static_cast<int64_t>(R.rows) + bi[s], static_cast<int64_t>(R.rows) + bj[s]})
        for (int f = 0; f < k; ++f) sq += static_cast<double>(E0[row * k + f]) * E0[row * k + f];
    loss += reg / 2 * sq / static_cast<double>(nb);
    auto out = Napi::Object::New(info.Env());
    out.Set("loss", Napi::Number::New(info.Env(), loss));
    out.Set("grad", give_to_js(info.Env(), std::move(grad)));
    return out;
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("fitLightGCN", Napi::Function::New(env, FitLightGCN));
  exports.Set("lightgcnBatchLoss", Napi::Function::New(env, LightGcnBatchLoss));
}

std::shared_ptr<Model> restore_lightgcn(StateReader& s) {
  auto m = std::make_shared<LightGcnModel>();
  restore_factor_state(*m, s, true);
  m->layers = static_cast<int>(s.int_param("layers", 1, kMaxLayers));
  m->item_layers = s.f32("item_layers", {m->layers, m->items, m->factors});
  m->item_norm = s.f32("item_norm", {m->items});
  for (float w : m->item_norm)
    if (!(w >= 0.f && w <= 1.f)) s.fail_tensor("item_norm", "holds a value outside [0, 1]");
  // A fold-in vector has |x_f| <= sqrt(items) * max |item layer| (the weights 1/sqrt(|S| d_i) over |S| items sum
  // to at most sqrt(|S|)); its scores are at most factors * that * max |item factor|.
  const double fold = std::sqrt(static_cast<double>(m->items)) * max_abs_or_inf(m->item_layers);
  if (!(fold * m->factors * max_abs_or_inf(m->V) <= 3.4e38))
    s.fail_tensor("item_layers", "holds values so large that scores would overflow the float range");
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(lightgcn, init);
RECSYS_REGISTER_RESTORER(LightGCN, restore_lightgcn);

}  // namespace recsys
