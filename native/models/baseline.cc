// Baseline models: Popularity, Random, BaselineOnly. They fix the model interface for every later family.
#include "models/baseline.h"

#include <algorithm>
#include <limits>

#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/rating.h"
#include "core/rng.h"
#include "core/threads.h"

namespace recsys {

Baselines fit_baselines(const CsrView& R, const CsrView& C, const BaselineParams& p, int threads, FitContext* ctx) {
  Baselines b;
  b.bu.assign(R.rows, 0.f);
  b.bi.assign(R.cols, 0.f);
  int64_t nnz = R.nnz();
  if (nnz == 0) return b;
  double sum = 0;
  for (int64_t q = 0; q < nnz; ++q) sum += R.value(q);
  b.mu = sum / static_cast<double>(nnz);
  if (!p.sgd) {
    for (int e = 0; e < p.epochs; ++e) {
      parallel_for(
          C.rows, threads,
          [&](int64_t i, int) {
        double dev = 0;
        for (int32_t q = C.row_begin(i); q < C.row_end(i); ++q) dev += C.value(q) - b.mu - b.bu[C.indices[q]];
        b.bi[i] = static_cast<float>(dev / (p.reg_item + C.row_len(i)));
          },
          256);
      parallel_for(
          R.rows, threads,
          [&](int64_t u, int) {
        double dev = 0;
        for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) dev += R.value(q) - b.mu - b.bi[R.indices[q]];
        b.bu[u] = static_cast<float>(dev / (p.reg_user + R.row_len(u)));
          },
          256);
      if (ctx) ctx->progress(e + 1, p.epochs, NAN, "epoch");
    }
  } else {
    for (int e = 0; e < p.epochs; ++e) {
      for (int32_t u = 0; u < R.rows; ++u) {
        for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) {
          int32_t i = R.indices[q];
          double err = R.value(q) - (b.mu + b.bu[u] + b.bi[i]);
          b.bu[u] += static_cast<float>(p.lr * (err - p.reg * b.bu[u]));
          b.bi[i] += static_cast<float>(p.lr * (err - p.reg * b.bi[i]));
        }
      }
      if (ctx) ctx->progress(e + 1, p.epochs, NAN, "epoch");
    }
  }
  return b;
}

namespace {

// Random: a score per (user, item) from a stateless hash, so results do not depend on call order.
class RandomModel : public Model {
 public:
  int32_t users, items;
  uint64_t seed;
  std::string kind() const override { return "Random"; }
  int32_t n_users() const override { return users; }
  int32_t n_items() const override { return items; }
  void score_user(int32_t u, float* out) const override {
    for (int32_t i = 0; i < items; ++i) out[i] = static_cast<float>((hash3(seed, u, i) >> 40) * 0x1.0p-24);
  }
  void score_new_user(const int32_t* its, const float*, int n, float* out) const override {
    uint64_t h = 0x51ED27;
    for (int p = 0; p < n; ++p) h = hash3(h, its[p], p);
    for (int32_t i = 0; i < items; ++i) out[i] = static_cast<float>((hash3(seed ^ h, 0, i) >> 40) * 0x1.0p-24);
  }
  float predict(int32_t u, int32_t i) const override {
    return static_cast<float>((hash3(seed, static_cast<uint32_t>(u), static_cast<uint32_t>(i)) >> 40) * 0x1.0p-24);
  }
  // No state tensors: the seed is the model's option (restore_random reads it).
};

// Popularity scores items by how many users interacted with them; predict() returns that count.
class PopularityModel : public FactorModel {
 public:
  void score_new_user(const int32_t*, const float*, int, float* out) const override { score_vector(nullptr, 0.f, out); }
};

int threads_opt(const Napi::Object& o) { return static_cast<int>(int_req(o, "threads", 0, 1024)); }

// fitPopularity(csr, options, runOptions)
Napi::Value FitPopularity(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    // One counting pass over the indices, each checked as it is counted (read once into a local): a full check
    // first would cost as much as the fit. indptr is not read; nnz is fixed here (indices.length >= nnz).
    CsrView R = csr_arg(info[0], "train", CsrCheck::Rows);
    const int64_t nnz = R.nnz();
    auto o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    check_memory("Popularity", 4.0 * R.cols, "the item counts", max_memory_arg(o), "keep fewer items");
    auto run = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    return run_fit(info, run,
                   [R, nnz](FitContext& ctx) -> std::shared_ptr<Model> {
                     auto m = std::make_shared<PopularityModel>();
                     m->kind_name = "Popularity";
                     m->users = R.rows;
                     m->items = R.cols;
                     m->item_bias.assign(R.cols, 0.f);
                     const volatile int32_t* ix =
                         R.indices;  // volatile: each entry is read exactly once, then checked and used
                     for (int64_t q = 0; q < nnz; ++q) {
                       const int32_t j = ix[q];
                       if (static_cast<uint32_t>(j) >= static_cast<uint32_t>(R.cols))
                         fail_arg("train.indices[" + std::to_string(q) + "] = " + std::to_string(j) +
                                  " is outside [0, cols = " + std::to_string(R.cols) + ")");
                       m->item_bias[j] += 1.f;
                     }
                     ctx.progress(1, 1, NAN, "count");
                     return m;
                   },
                   {info[0]});
  });
}

// fitRandom(csr, {seed}, runOptions)
Napi::Value FitRandom(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_arg(info[0], "train", CsrCheck::Rows);  // Random reads only rows and cols
    auto o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    uint64_t seed = static_cast<uint64_t>(int_req(o, "seed", 0, (int64_t{1} << 53)));
    auto run = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    return run_fit(info, run,
                   [R, seed](FitContext&) -> std::shared_ptr<Model> {
                     auto m = std::make_shared<RandomModel>();
                     m->users = R.rows;
                     m->items = R.cols;
                     m->seed = seed;
                     return m;
                   },
                   {info[0]});
  });
}

// fitBaselineOnly(csr, csc, {method, epochs, regUser, regItem, reg, lr, ratingMin, ratingMax, threads}, runOptions)
Napi::Value FitBaselineOnly(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[3]);
    CsrView C = csr_fit_arg(info[1], "trainTransposed", info[3]);
    check_transposed(R, C, "trainTransposed");
    if (!R.data) fail_arg("BaselineOnly needs ratings: the training data has none");
    auto o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    BaselineParams p;
    std::string method = string_req(o, "method");
    if (method != "als" && method != "sgd") fail_arg("method must be 'als' or 'sgd', got '" + method + "'");
    p.sgd = method == "sgd";
    p.epochs = static_cast<int>(int_req(o, "epochs", 0, 100000));
    p.reg_user = real_req(o, "regUser", 0, INFINITY);
    p.reg_item = real_req(o, "regItem", 0, INFINITY);
    p.reg = real_req(o, "reg", 0, INFINITY);
    p.lr = real_req(o, "lr", 0, INFINITY, true);
    const RatingScale scale = rating_scale_arg(o, R);
    int threads = threads_opt(o);
    check_memory("BaselineOnly", 8.0 * (static_cast<double>(R.rows) + R.cols) * 2, "the user and item biases",
                 max_memory_arg(o), "keep fewer users and items");
    auto run = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(info.Env());
    return run_fit(info, run,
                   [R, C, p, scale, threads](FitContext& ctx) -> std::shared_ptr<Model> {
                     Baselines b = fit_baselines(R, C, p, threads, &ctx);
                     auto m = std::make_shared<FactorModel>();
                     m->kind_name = "BaselineOnly";
                     m->users = R.rows;
                     m->items = R.cols;
                     m->global = static_cast<float>(b.mu);
                     m->user_bias = std::move(b.bu);
                     m->item_bias = std::move(b.bi);
                     m->mark_known(R);
                     set_clip(*m, scale);
                     return m;
                   },
                   {info[0], info[1]});
  });
}

// ---- restorers (model files) ----
std::shared_ptr<Model> restore_popularity(StateReader& s) {
  auto m = std::make_shared<PopularityModel>();
  restore_factor_state(*m, s);
  return m;
}
std::shared_ptr<Model> restore_baseline_only(StateReader& s) {
  auto m = std::make_shared<FactorModel>();
  restore_factor_state(*m, s);
  return m;
}
std::shared_ptr<Model> restore_random(StateReader& s) {
  auto m = std::make_shared<RandomModel>();
  m->users = s.users();
  m->items = s.items();
  m->seed = static_cast<uint64_t>(s.int_param("seed", 0, int64_t{1} << 53));
  return m;
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("fitPopularity", Napi::Function::New(env, FitPopularity));
  exports.Set("fitRandom", Napi::Function::New(env, FitRandom));
  exports.Set("fitBaselineOnly", Napi::Function::New(env, FitBaselineOnly));
}

}  // namespace

RECSYS_REGISTER_EXPORTS(baseline, init);
RECSYS_REGISTER_RESTORER(Popularity, restore_popularity);
RECSYS_REGISTER_RESTORER(BaselineOnly, restore_baseline_only);
RECSYS_REGISTER_RESTORER(Random, restore_random);

}  // namespace recsys
