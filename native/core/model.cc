#include "core/model.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/blas.h"
#include "core/common.h"
#include "core/threads.h"

namespace recsys {

// ---- Model defaults ------------------------------------------------------------------------------------
void Model::score_users(const int32_t* users, int n, float* out) const {
  for (int r = 0; r < n; ++r) score_user(users[r], out + static_cast<int64_t>(r) * n_items());
}
void Model::score_new_user(const int32_t*, const float*, int, float*) const {
  fail("E_UNSUPPORTED", kind() + " cannot score a user who was not in training (no fold-in)");
}
void Model::similar_items(int32_t, float*) const { fail("E_UNSUPPORTED", kind() + " has no item similarity"); }
void Model::similar_users(int32_t, float*) const { fail("E_UNSUPPORTED", kind() + " has no user similarity"); }

// ---- FactorModel -----------------------------------------------------------------------------------------
void FactorModel::score_vector(const float* p, float bu, float* out) const {
  float base = global + bu;
  if (factors > 0 && p) {
    blas::gemv(blas::Trans::No, items, factors, 1.f, V.data(), factors, p, 0.f, out);
    for (int32_t i = 0; i < items; ++i) out[i] += base;
  } else {
    std::fill(out, out + items, base);
  }
  if (!item_bias.empty())
    for (int32_t i = 0; i < items; ++i) out[i] += item_bias[i];
}

void FactorModel::score_user(int32_t u, float* out) const {
  bool known = is_user_known(u);
  score_vector(known && factors > 0 ? U.data() + static_cast<int64_t>(u) * factors : nullptr,
               known && !user_bias.empty() ? user_bias[u] : 0.f, out);
}

void FactorModel::score_users(const int32_t* us, int n, float* out) const {
  if (factors == 0) {
    Model::score_users(us, n, out);
    return;
  }
  // Gather the users' vectors (zero for unknown users), one gemm, then the bias terms.
  std::vector<float> P(static_cast<size_t>(n) * factors, 0.f);
  for (int r = 0; r < n; ++r)
    if (is_user_known(us[r]))
      std::copy_n(U.data() + static_cast<int64_t>(us[r]) * factors, factors, P.data() + static_cast<int64_t>(r) * factors);
  blas::gemm(blas::Trans::No, blas::Trans::Yes, n, items, factors, 1.f, P.data(), factors, V.data(), factors, 0.f, out,
             items);
  for (int r = 0; r < n; ++r) {
    float* o = out + static_cast<int64_t>(r) * items;
    float base = global + (is_user_known(us[r]) && !user_bias.empty() ? user_bias[us[r]] : 0.f);
    if (item_bias.empty()) {
      for (int32_t i = 0; i < items; ++i) o[i] += base;
    } else {
      for (int32_t i = 0; i < items; ++i) o[i] += base + item_bias[i];
    }
  }
}

float FactorModel::predict(int32_t u, int32_t i) const {
  bool ku = is_user_known(u), ki = is_item_known(i);
  if (!(ku && ki) && !std::isnan(unknown_fallback))
    return clip ? std::min(clip_max, std::max(clip_min, unknown_fallback)) : unknown_fallback;
  float s = global;
  if (ku && !user_bias.empty()) s += user_bias[u];
  if (ki && !item_bias.empty()) s += item_bias[i];
  if (ku && ki && factors > 0)
    s += blas::dot(U.data() + static_cast<int64_t>(u) * factors, V.data() + static_cast<int64_t>(i) * factors, factors);
  if (clip) s = std::min(clip_max, std::max(clip_min, s));
  return s;
}

namespace {
// Cosine of row r of M (n x k) against every row.
void cosine_rows(const std::vector<float>& M, int32_t n, int32_t k, int32_t r, float* out) {
  const float* q = M.data() + static_cast<int64_t>(r) * k;
  blas::gemv(blas::Trans::No, n, k, 1.f, M.data(), k, q, 0.f, out);
  float qn = std::sqrt(blas::dot(q, q, k));
  for (int32_t j = 0; j < n; ++j) {
    const float* m = M.data() + static_cast<int64_t>(j) * k;
    float mn = std::sqrt(blas::dot(m, m, k));
    out[j] = (qn > 0.f && mn > 0.f) ? out[j] / (qn * mn) : 0.f;
  }
}
}  // namespace

void FactorModel::similar_items(int32_t i, float* out) const {
  if (factors == 0) Model::similar_items(i, out);
  cosine_rows(V, items, factors, i, out);
}
void FactorModel::similar_users(int32_t u, float* out) const {
  if (factors == 0) Model::similar_users(u, out);
  cosine_rows(U, users, factors, u, out);
}

std::map<std::string, Tensor> FactorModel::state() const {
  std::map<std::string, Tensor> s;
  if (factors > 0) {
    s["user_factors"] = Tensor{{users, factors}, U, {}};
    s["item_factors"] = Tensor{{items, factors}, V, {}};
  }
  if (!user_bias.empty()) s["user_bias"] = Tensor{{users}, user_bias, {}};
  if (!item_bias.empty()) s["item_bias"] = Tensor{{items}, item_bias, {}};
  s["global_bias"] = Tensor{{1}, {global}, {}};
  return s;
}

void FactorModel::mark_known(const CsrView& m) {
  user_known.assign(users, 0);
  item_known.assign(items, 0);
  for (int32_t u = 0; u < std::min(users, m.rows); ++u) {
    if (m.row_len(u) > 0) user_known[u] = 1;
    for (int32_t p = m.row_begin(u); p < m.row_end(u); ++p)
      if (m.indices[p] < items) item_known[m.indices[p]] = 1;
  }
}

// ---- ModelHandle: the JS object around a fitted model -------------------------------------------------
namespace {

class ModelHandle : public Napi::ObjectWrap<ModelHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "NativeModel",
                                   {InstanceAccessor<&ModelHandle::Kind>("kind"),
                                    InstanceAccessor<&ModelHandle::NUsers>("nUsers"),
                                    InstanceAccessor<&ModelHandle::NItems>("nItems"),
                                    InstanceMethod<&ModelHandle::Recommend>("recommend"),
                                    InstanceMethod<&ModelHandle::RecommendBatch>("recommendBatch"),
                                    InstanceMethod<&ModelHandle::RecommendNew>("recommendNew"),
                                    InstanceMethod<&ModelHandle::Predict>("predict"),
                                    InstanceMethod<&ModelHandle::ScoreUsers>("scoreUsers"),
                                    InstanceMethod<&ModelHandle::Similar>("similarItems"),
                                    InstanceMethod<&ModelHandle::SimilarUsers>("similarUsers"),
                                    InstanceMethod<&ModelHandle::State>("state")});
    addon_data(env).get("NativeModel") = Napi::Persistent(f);
    exports.Set("NativeModel", f);
  }
  explicit ModelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandle>(info) {}
  ~ModelHandle() override {
    if (external > 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external);
  }
  std::shared_ptr<Model> model;
  int64_t external = 0;  // bytes reported with AdjustExternalMemory

 private:
  const Model& m(Napi::Env env) const {
    if (!model) throw to_js_error(env, Error("E_STATE", "this native model handle holds no model"));
    return *model;
  }
  Napi::Value Kind(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), m(info.Env()).kind()); }
  Napi::Value NUsers(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), m(info.Env()).n_users()); }
  Napi::Value NItems(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), m(info.Env()).n_items()); }

  // Filters from JS: seen (sorted Int32Array or undefined), exclude (Int32Array or undefined), include
  // (Int32Array or undefined = no include list; an empty Int32Array = nothing is a candidate).
  static TopKFilter filter_args(const Napi::Value& seen, const Napi::Value& exclude, const Napi::Value& include) {
    TopKFilter f;
    auto s = optional_typed_array<const int32_t>(seen, "seen");
    auto e = optional_typed_array<const int32_t>(exclude, "exclude");
    f.seen = s.data;
    f.n_seen = static_cast<int64_t>(s.size);
    for (size_t p = 1; p < s.size; ++p)
      if (s[p] <= s[p - 1]) fail_arg("seen items must be sorted ascending and unique");
    f.exclude = e.data;
    f.n_exclude = static_cast<int64_t>(e.size);
    if (!(include.IsUndefined() || include.IsNull())) {
      auto in = typed_array<const int32_t>(include, "include");
      f.include = in.data;
      f.n_include = static_cast<int64_t>(in.size);
      f.has_include = true;
    }
    return f;
  }

  static Napi::Object result(Napi::Env env, const std::vector<ScoredItem>& best, int n) {
    auto items = Napi::Int32Array::New(env, n);
    auto scores = Napi::Float32Array::New(env, n);
    for (int j = 0; j < n; ++j) {
      items[j] = best[j].item;
      scores[j] = best[j].score;
    }
    auto o = Napi::Object::New(env);
    o.Set("items", items);
    o.Set("scores", scores);
    return o;
  }

  // recommend(user, k, seen?, exclude?, include?)
  Napi::Value Recommend(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      const Model& mod = m(info.Env());
      int32_t u = static_cast<int32_t>(int_arg(info[0], "user", 0, mod.n_users() - 1));
      int k = static_cast<int>(int_arg(info[1], "k", 0, std::numeric_limits<int32_t>::max()));
      TopKFilter f = filter_args(info[2], info[3], info[4]);
      std::vector<float> scores(mod.n_items());
      mod.score_user(u, scores.data());
      k = std::min(k, mod.n_items());
      std::vector<ScoredItem> best(k);
      std::vector<int32_t> scratch;
      int n = topk(scores.data(), mod.n_items(), k, f, best.data(), scratch);
      return result(info.Env(), best, n);
    });
  }

  // recommendBatch(users Int32Array, k, seen {indptr, indices}? (rows indexed by user id), exclude?, include?, threads)
  // -> {items: Int32Array(n*k), scores: Float32Array(n*k), counts: Int32Array(n)}; unused slots hold -1 / NaN.
  Napi::Value RecommendBatch(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      const Model& mod = m(info.Env());
      auto users = typed_array<const int32_t>(info[0], "users");
      int k = static_cast<int>(int_arg(info[1], "k", 0, std::numeric_limits<int32_t>::max()));
      k = std::min(k, mod.n_items());
      const int32_t* sp = nullptr;
      const int32_t* si = nullptr;
      int64_t seen_rows = 0, seen_nnz = 0;
      if (!(info[2].IsUndefined() || info[2].IsNull())) {
        CsrView s = csr_arg(info[2], "seen", false);
        sp = s.indptr;
        si = s.indices;
        seen_rows = s.rows;
        seen_nnz = s.nnz();
      }
      TopKFilter base = filter_args(info.Env().Undefined(), info[3], info[4]);
      int threads = static_cast<int>(int_arg(info[5], "threads", 0, 1024));
      size_t n = users.size;
      for (size_t r = 0; r < n; ++r)
        if (users[r] < 0 || users[r] >= mod.n_users()) fail_arg("users[" + std::to_string(r) + "] = " + std::to_string(users[r]) + " is not a trained user");
      for (int64_t r = 0; r < seen_rows; ++r)
        if (sp[r] > sp[r + 1] || sp[r + 1] > seen_nnz) fail_arg("seen.indptr is not monotone");
      std::vector<int32_t> out_items(n * k, -1);
      std::vector<float> out_scores(n * k, std::numeric_limits<float>::quiet_NaN());
      std::vector<int32_t> counts(n, 0);
      // Blocks of users: one score_users (gemm) per block keeps memory at block x n_items per thread.
      const int64_t block = 64;
      int64_t n_blocks = (static_cast<int64_t>(n) + block - 1) / block;
      int nt = resolve_threads(threads);
      std::vector<std::vector<float>> buf(nt);
      std::vector<std::vector<ScoredItem>> best(nt, std::vector<ScoredItem>(std::max(k, 1)));
      std::vector<std::vector<int32_t>> scratch(nt);
      parallel_for(n_blocks, nt, [&](int64_t b, int tid) {
        int64_t r0 = b * block, r1 = std::min<int64_t>(n, r0 + block);
        int cnt = static_cast<int>(r1 - r0);
        auto& sc = buf[tid];
        sc.resize(static_cast<size_t>(cnt) * mod.n_items());
        mod.score_users(users.data + r0, cnt, sc.data());
        for (int64_t r = r0; r < r1; ++r) {
          TopKFilter f = base;
          int32_t u = users[r];
          if (sp && u < seen_rows) {
            f.seen = si + sp[u];
            f.n_seen = sp[u + 1] - sp[u];
          }
          int got = topk(sc.data() + (r - r0) * mod.n_items(), mod.n_items(), k, f, best[tid].data(), scratch[tid]);
          counts[r] = got;
          for (int j = 0; j < got; ++j) {
            out_items[r * k + j] = best[tid][j].item;
            out_scores[r * k + j] = best[tid][j].score;
          }
        }
      }, 1);
      auto o = Napi::Object::New(info.Env());
      o.Set("items", give_to_js(info.Env(), std::move(out_items)));
      o.Set("scores", give_to_js(info.Env(), std::move(out_scores)));
      o.Set("counts", give_to_js(info.Env(), std::move(counts)));
      o.Set("k", Napi::Number::New(info.Env(), k));
      return o;
    });
  }

  // recommendNew(items Int32Array, values Float32Array?, k, filterSeen, exclude?, include?)
  Napi::Value RecommendNew(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      const Model& mod = m(info.Env());
      auto items = typed_array<const int32_t>(info[0], "items");
      auto values = optional_typed_array<const float>(info[1], "values");
      if (!values.empty() && values.size != items.size) fail_arg("values must have one entry per item");
      for (size_t p = 0; p < items.size; ++p)
        if (items[p] < 0 || items[p] >= mod.n_items()) fail_arg("items[" + std::to_string(p) + "] is not a trained item");
      int k = static_cast<int>(int_arg(info[2], "k", 0, std::numeric_limits<int32_t>::max()));
      k = std::min(k, mod.n_items());
      bool filter_seen = info[3].ToBoolean().Value();
      std::vector<float> scores(mod.n_items());
      mod.score_new_user(items.data, values.empty() ? nullptr : values.data, static_cast<int>(items.size), scores.data());
      std::vector<int32_t> seen;
      if (filter_seen) {
        seen.assign(items.begin(), items.end());
        std::sort(seen.begin(), seen.end());
        seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
      }
      TopKFilter f = filter_args(info.Env().Undefined(), info[4], info[5]);
      f.seen = seen.data();
      f.n_seen = static_cast<int64_t>(seen.size());
      std::vector<ScoredItem> best(k);
      std::vector<int32_t> scratch;
      int n = topk(scores.data(), mod.n_items(), k, f, best.data(), scratch);
      return result(info.Env(), best, n);
    });
  }

  // predict(users Int32Array, items Int32Array) -> Float32Array; ids of -1 (or out of range) are unknown.
  Napi::Value Predict(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      const Model& mod = m(info.Env());
      auto us = typed_array<const int32_t>(info[0], "users");
      auto is = typed_array<const int32_t>(info[1], "items");
      if (us.size != is.size) fail_arg("users and items must have the same length");
      int threads = info.Length() > 2 ? static_cast<int>(int_arg(info[2], "threads", 0, 1024)) : 0;
      std::vector<float> out(us.size);
      parallel_for(static_cast<int64_t>(us.size), us.size > 20000 ? threads : 1,
                   [&](int64_t p, int) { out[p] = mod.predict(us[p], is[p]); }, 4096);
      return give_to_js(info.Env(), std::move(out));
    });
  }

  // scoreUsers(users Int32Array, threads?) -> Float32Array(n * nItems); rows split over threads in blocks.
  Napi::Value ScoreUsers(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      const Model& mod = m(info.Env());
      auto us = typed_array<const int32_t>(info[0], "users");
      int threads = info.Length() > 1 && !info[1].IsUndefined() ? static_cast<int>(int_arg(info[1], "threads", 0, 1024)) : 1;
      for (size_t r = 0; r < us.size; ++r)
        if (us[r] < 0 || us[r] >= mod.n_users()) fail_arg("users[" + std::to_string(r) + "] is not a trained user");
      const size_t ni = static_cast<size_t>(mod.n_items());
      std::vector<float> out(us.size * ni);
      const int64_t block = 64;
      int64_t n_blocks = (static_cast<int64_t>(us.size) + block - 1) / block;
      parallel_for(n_blocks, threads, [&](int64_t b, int) {
        int64_t r0 = b * block, r1 = std::min<int64_t>(static_cast<int64_t>(us.size), r0 + block);
        mod.score_users(us.data + r0, static_cast<int>(r1 - r0), out.data() + r0 * ni);
      }, 1);
      return give_to_js(info.Env(), std::move(out));
    });
  }

  Napi::Value SimilarImpl(const Napi::CallbackInfo& info, bool items_side) {
    return guard(info, [&]() -> Napi::Value {
      const Model& mod = m(info.Env());
      int32_t n = items_side ? mod.n_items() : mod.n_users();
      int32_t q = static_cast<int32_t>(int_arg(info[0], items_side ? "item" : "user", 0, n - 1));
      int k = static_cast<int>(int_arg(info[1], "k", 0, std::numeric_limits<int32_t>::max()));
      k = std::min(k, n);
      TopKFilter f = filter_args(info.Env().Undefined(), info[2], info[3]);
      std::vector<float> scores(n);
      if (items_side) mod.similar_items(q, scores.data());
      else mod.similar_users(q, scores.data());
      std::vector<ScoredItem> best(k);
      std::vector<int32_t> scratch;
      int got = topk(scores.data(), n, k, f, best.data(), scratch);
      return result(info.Env(), best, got);
    });
  }
  // similarItems(item, k, exclude?, include?) — the item itself is a candidate (it is its own best match).
  Napi::Value Similar(const Napi::CallbackInfo& info) { return SimilarImpl(info, true); }
  Napi::Value SimilarUsers(const Napi::CallbackInfo& info) { return SimilarImpl(info, false); }

  // state() -> { name: { shape: number[], data: Float32Array | Int32Array } }
  Napi::Value State(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      auto o = Napi::Object::New(env);
      for (auto& [name, t] : m(env).state()) {
        auto e = Napi::Object::New(env);
        auto shape = Napi::Array::New(env, t.shape.size());
        for (size_t d = 0; d < t.shape.size(); ++d) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(t.shape[d])));
        e.Set("shape", shape);
        if (!t.i32.empty()) e.Set("data", to_js(env, t.i32));
        else e.Set("data", to_js(env, t.f32));
        o.Set(name, e);
      }
      return o;
    });
  }
};

// createFactorModel({ users, items, factors, userFactors, itemFactors, userBias?, itemBias?, global?, kind? }):
// a FactorModel from vectors fitted elsewhere (Spark, a deep model's embeddings, a saved file).
Napi::Value JsCreateFactorModel(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    if (!info[0].IsObject()) fail_arg("createFactorModel expects an options object");
    auto o = info[0].As<Napi::Object>();
    auto m = std::make_shared<FactorModel>();
    m->users = static_cast<int32_t>(int_arg(o, "users", 0, 0, std::numeric_limits<int32_t>::max() - 1));
    m->items = static_cast<int32_t>(int_arg(o, "items", 0, 0, std::numeric_limits<int32_t>::max() - 1));
    m->factors = static_cast<int32_t>(int_arg(o, "factors", 0, 0, 1 << 16));
    m->kind_name = string_arg(o, "kind", "FactorModel");
    m->global = static_cast<float>(real_arg(o, "global", 0, -INFINITY, INFINITY));
    auto copy = [&](const char* key, size_t expected, std::vector<float>& dst, bool required) {
      Napi::Value v = o.Get(key);
      if (v.IsUndefined() || v.IsNull()) {
        if (required) fail_arg(std::string(key) + " is required");
        return;
      }
      auto a = typed_array<const float>(v, key);
      if (a.size != expected) fail_arg(std::string(key) + " must have " + std::to_string(expected) + " entries, got " + std::to_string(a.size));
      for (size_t p = 0; p < a.size; ++p)
        if (!std::isfinite(a[p])) fail_arg(std::string(key) + "[" + std::to_string(p) + "] is not finite");
      dst.assign(a.begin(), a.end());
    };
    copy("userFactors", static_cast<size_t>(m->users) * m->factors, m->U, m->factors > 0);
    copy("itemFactors", static_cast<size_t>(m->items) * m->factors, m->V, m->factors > 0);
    copy("userBias", static_cast<size_t>(m->users), m->user_bias, false);
    copy("itemBias", static_cast<size_t>(m->items), m->item_bias, false);
    return wrap_model(info.Env(), m);
  });
}

void init(Napi::Env env, Napi::Object exports) {
  ModelHandle::Init(env, exports);
  exports.Set("createFactorModel", Napi::Function::New(env, JsCreateFactorModel));
}

}  // namespace

Napi::Object wrap_model(Napi::Env env, std::shared_ptr<Model> model) {
  Napi::Object o = addon_data(env).get("NativeModel").New({});
  ModelHandle* h = ModelHandle::Unwrap(o);
  h->external = model ? model->memory_bytes() : 0;
  h->model = std::move(model);
  if (h->external > 0) Napi::MemoryManagement::AdjustExternalMemory(env, h->external);
  return o;
}

std::shared_ptr<Model> model_arg(const Napi::Value& v, const char* name) {
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(addon_data(v.Env()).get("NativeModel").Value()))
    fail_arg(std::string(name) + " must be a fitted native model");
  auto h = ModelHandle::Unwrap(v.As<Napi::Object>());
  if (!h->model) fail("E_STATE", std::string(name) + " holds no model");
  return h->model;
}

RECSYS_REGISTER_EXPORTS(model, init);

}  // namespace recsys
