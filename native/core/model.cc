#include "core/model.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/async.h"
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
      std::copy_n(U.data() + static_cast<int64_t>(us[r]) * factors, factors,
                  P.data() + static_cast<int64_t>(r) * factors);
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
  if (!user_known.empty())
    s["user_known"] = Tensor{{users}, {}, std::vector<int32_t>(user_known.begin(), user_known.end())};
  if (!item_known.empty())
    s["item_known"] = Tensor{{items}, {}, std::vector<int32_t>(item_known.begin(), item_known.end())};
  if (clip) s["clip"] = Tensor{{2}, {clip_min, clip_max}, {}};
  if (!std::isnan(unknown_fallback)) s["unknown_fallback"] = Tensor{{1}, {unknown_fallback}, {}};
  if (ann) ann->put_state(s);
  return s;
}

namespace {
// The index's search for query vector p and user bias bu, rescored exactly; -1 when the index cannot answer.
int search_index(const FactorModel& m, const float* p, float bu, int k, const TopKFilter& f, ScoredItem* out) {
  // (An index over another catalogue size, e.g. from before items were added, is never searched.)
  if (!m.ann || m.factors == 0 || m.ann->items() != m.items) return -1;
  // A zero vector ranks by the bias alone, which the graph (built on the vectors) does not order.
  bool nonzero = false;
  for (int32_t f2 = 0; f2 < m.factors && !nonzero; ++f2) nonzero = p[f2] != 0.f;
  if (!nonzero) return -1;
  const float base = m.global + bu;
  return m.ann->topk(
      p, k, f,
      [&](int32_t i) {
    return base + (m.item_bias.empty() ? 0.f : m.item_bias[i]) +
           blas::dot(p, m.V.data() + static_cast<int64_t>(i) * m.factors, m.factors);
      },
      out);
}
}  // namespace

int FactorModel::approx_topk(int32_t u, int k, const TopKFilter& f, ScoredItem* out) const {
  if (!ann || factors == 0 || !is_user_known(u)) return -1;
  return search_index(*this, U.data() + static_cast<int64_t>(u) * factors, user_bias.empty() ? 0.f : user_bias[u], k, f,
                      out);
}

int FactorModel::approx_topk_new(const int32_t* its, const float* values, int n, int k, const TopKFilter& f,
                                 ScoredItem* out) const {
  if (!ann || factors == 0 || ann->items() != items) return -1;
  std::vector<float> p(factors, 0.f);
  float bu = 0.f;
  if (!fold_in(its, values, n, p.data(), &bu)) return -1;
  return search_index(*this, p.data(), bu, k, f, out);
}

void FactorModel::score_new_user(const int32_t* its, const float* values, int n, float* out) const {
  std::vector<float> p(factors, 0.f);
  float bu = 0.f;
  if (!fold_in(its, values, n, p.data(), &bu)) return Model::score_new_user(its, values, n, out);
  score_vector(p.data(), bu, out);
}

void UserRows::assign(const CsrView& R, bool binary_) {
  binary = binary_;
  indptr.assign(R.indptr, R.indptr + R.rows + 1);
  indices.assign(R.indices, R.indices + R.nnz());
  if (R.data) values.assign(R.data, R.data + R.nnz());
  else values.clear();
}

void UserRows::put_state(std::map<std::string, Tensor>& s) const {
  s["user_indptr"] = Tensor{{static_cast<int64_t>(indptr.size())}, {}, indptr};
  s["user_items"] = Tensor{{static_cast<int64_t>(indices.size())}, {}, indices};
  if (!values.empty()) s["user_values"] = Tensor{{static_cast<int64_t>(values.size())}, values, {}};
}

void UserRows::restore(StateReader& s, int32_t users, int32_t items) {
  indptr = s.i32("user_indptr", {users + 1});
  indices = s.i32("user_items", {-1});
  check_csr(s, indptr, indices, users, items, "user_indptr");
  if (s.has("user_values")) values = s.f32("user_values", {static_cast<int64_t>(indices.size())});
  binary = s.bool_param("binary");
}

namespace {
// An upper bound of |score| over every (user, item): |global| + max|b_u| + max|b_i| + k max|U| max|V|. Past the
// float range some score is +-Infinity (or NaN), though every number the model holds is finite.
double score_bound(const FactorModel& m) {
  auto max_abs = [](const std::vector<float>& v) {
    double a = 0;
    for (float x : v) a = std::max(a, static_cast<double>(std::abs(x)));
    return a;
  };
  return std::abs(static_cast<double>(m.global)) + max_abs(m.user_bias) + max_abs(m.item_bias) +
         static_cast<double>(m.factors) * max_abs(m.U) * max_abs(m.V);
}
constexpr double kFloatMax = std::numeric_limits<float>::max();
}  // namespace

void restore_factor_state(FactorModel& m, StateReader& s, bool needs_factors) {
  m.kind_name = s.kind();
  m.users = s.users();
  m.items = s.items();
  bool hu = s.has("user_factors"), hi = s.has("item_factors");
  if (hu != hi) s.fail_tensor(hu ? "item_factors" : "user_factors", "is missing (factor models store both sides)");
  if (hi) {
    const auto& shape = s.shape("item_factors");
    if (shape.size() != 2 || shape[1] > (1 << 16)) s.fail_tensor("item_factors", "must be items x factors");
    m.factors = static_cast<int32_t>(shape[1]);
    m.U = s.f32("user_factors", {m.users, m.factors});
    m.V = s.f32("item_factors", {m.items, m.factors});
  }
  if (needs_factors && m.factors == 0) s.fail_tensor("item_factors", "is missing");
  if (s.has("user_bias")) m.user_bias = s.f32("user_bias", {m.users});
  if (s.has("item_bias")) m.item_bias = s.f32("item_bias", {m.items});
  m.global = s.scalar("global_bias");
  if (score_bound(m) > kFloatMax)
    s.fail_tensor(hi ? "item_factors" : "global_bias",
                  "holds values so large that scores would overflow the float range");
  auto flags = [&](const char* name, int32_t n, std::vector<uint8_t>& dst) {
    if (!s.has(name)) return;
    auto v = s.i32(name, {n});
    for (int32_t x : v)
      if (x != 0 && x != 1) s.fail_tensor(name, "must hold only 0 and 1");
    dst.assign(v.begin(), v.end());
  };
  flags("user_known", m.users, m.user_known);
  flags("item_known", m.items, m.item_known);
  if (s.has("clip")) {
    auto c = s.f32("clip", {2});
    if (c[0] > c[1]) s.fail_tensor("clip", "must be [min, max] with min <= max");
    m.clip = true;
    m.clip_min = c[0];
    m.clip_max = c[1];
  }
  if (s.has("unknown_fallback")) { m.unknown_fallback = s.scalar("unknown_fallback"); }
  if (s.has("ann_config"))
    m.ann = AnnIndex::restore(s, m.V.data(), m.item_bias.empty() ? nullptr : m.item_bias.data(), m.items, m.factors);
}

// ---- StateReader and the restorer registry -----------------------------------------------------------------
StateReader::StateReader(std::string kind, int32_t users, int32_t items, TensorMap tensors, ParamMap params)
    : kind_(std::move(kind)), users_(users), items_(items), tensors_(std::move(tensors)), params_(std::move(params)) {
  if (users_ < 0 || items_ < 0) fail("E_FORMAT", kind_ + ": negative user or item count");
}

const ParamValue& StateReader::param(const std::string& name, ParamValue::Type type) const {
  auto it = params_.find(name);
  static const char* const types[] = {"a number", "a boolean", "a string"};
  if (it == params_.end()) fail_arg(kind_ + " restore: option '" + name + "' is missing");
  if (it->second.type != type) fail_arg(kind_ + " restore: option '" + name + "' must be " + types[type]);
  return it->second;
}

double StateReader::real_param(const std::string& name) const {
  double v = param(name, ParamValue::Number).num;
  if (!std::isfinite(v)) fail_arg(kind_ + " restore: option '" + name + "' must be finite");
  return v;
}

int64_t StateReader::int_param(const std::string& name, int64_t lo, int64_t hi) const {
  double v = param(name, ParamValue::Number).num;
  if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) || v != std::floor(v))
    fail_arg(kind_ + " restore: option '" + name + "' must be an integer in [" + std::to_string(lo) + ", " +
             std::to_string(hi) + "]");
  return static_cast<int64_t>(v);
}

bool StateReader::bool_param(const std::string& name) const { return param(name, ParamValue::Bool).num != 0; }

std::string StateReader::string_param(const std::string& name) const { return param(name, ParamValue::String).str; }

ParamMap params_arg(const Napi::Value& v) {
  ParamMap out;
  if (v.IsUndefined()) return out;
  if (!v.IsObject()) fail_arg("params must be an object");
  auto o = v.As<Napi::Object>();
  auto keys = o.GetPropertyNames();
  for (uint32_t k = 0; k < keys.Length(); ++k) {
    std::string name = keys.Get(k).ToString().Utf8Value();
    Napi::Value x = o.Get(name);
    ParamValue p;
    if (x.IsNumber()) {
      p.num = x.As<Napi::Number>().DoubleValue();
    } else if (x.IsBoolean()) {
      p.type = ParamValue::Bool;
      p.num = x.As<Napi::Boolean>().Value() ? 1 : 0;
    } else if (x.IsString()) {
      p.type = ParamValue::String;
      p.str = x.As<Napi::String>().Utf8Value();
    } else {
      continue;
    }
    out[name] = std::move(p);
  }
  return out;
}

void StateReader::fail_tensor(const std::string& name, const std::string& why) const {
  fail("E_FORMAT", kind_ + " state: tensor '" + name + "' " + why);
}

const std::vector<int64_t>& StateReader::shape(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail_tensor(name, "is missing");
  return it->second.shape;
}

namespace {
std::string shape_text(const std::vector<int64_t>& shape) {
  std::string t = "[";
  for (size_t d = 0; d < shape.size(); ++d)
    t += (d ? ", " : "") + (shape[d] < 0 ? std::string("*") : std::to_string(shape[d]));
  return t + "]";
}
}  // namespace

const Tensor& StateReader::get(const std::string& name, bool want_f32) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail_tensor(name, "is missing");
  const Tensor& t = it->second;
  int64_t numel = 1;
  for (int64_t d : t.shape) numel *= d;
  size_t have = want_f32 ? t.f32.size() : t.i32.size();
  if ((want_f32 ? !t.i32.empty() : !t.f32.empty()) || static_cast<int64_t>(have) != numel)
    fail_tensor(name, std::string("must be ") + (want_f32 ? "float32" : "int32") + " with " + std::to_string(numel) +
                          " values");
  read_.insert(name);
  return t;
}

void StateReader::check_all_read() const {
  for (const auto& [name, t] : tensors_)
    if (!read_.count(name)) fail_tensor(name, "is not part of a " + kind_ + " state");
}

std::vector<float> StateReader::f32(const std::string& name, const std::vector<int64_t>& shape) {
  const Tensor& t = get(name, true);
  bool ok = t.shape.size() == shape.size();
  for (size_t d = 0; ok && d < shape.size(); ++d) ok = shape[d] < 0 || t.shape[d] == shape[d];
  if (!ok) fail_tensor(name, "has shape " + shape_text(t.shape) + ", expected " + shape_text(shape));
  for (size_t p = 0; p < t.f32.size(); ++p)
    if (!std::isfinite(t.f32[p])) fail_tensor(name, "holds a non-finite value at " + std::to_string(p));
  return std::move(tensors_.find(name)->second.f32);
}

std::vector<int32_t> StateReader::i32(const std::string& name, const std::vector<int64_t>& shape) {
  const Tensor& t = get(name, false);
  bool ok = t.shape.size() == shape.size();
  for (size_t d = 0; ok && d < shape.size(); ++d) ok = shape[d] < 0 || t.shape[d] == shape[d];
  if (!ok) fail_tensor(name, "has shape " + shape_text(t.shape) + ", expected " + shape_text(shape));
  return std::move(tensors_.find(name)->second.i32);
}

float StateReader::scalar(const std::string& name) { return f32(name, {1})[0]; }

int32_t StateReader::int_scalar(const std::string& name, int32_t lo, int32_t hi) {
  int32_t v = i32(name, {1})[0];
  if (v < lo || v > hi) fail_tensor(name, "is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

void check_csr(const StateReader& s, const std::vector<int32_t>& indptr, const std::vector<int32_t>& indices,
               int64_t rows, int32_t cols, const char* name) {
  if (static_cast<int64_t>(indptr.size()) != rows + 1 || indptr[0] != 0)
    s.fail_tensor(name, "indptr must have rows + 1 entries starting at 0");
  for (int64_t r = 0; r < rows; ++r)
    if (indptr[r + 1] < indptr[r]) s.fail_tensor(name, "indptr must be non-decreasing");
  if (indptr[rows] != static_cast<int64_t>(indices.size()))
    s.fail_tensor(name, "indptr must end at the number of indices");
  for (int32_t i : indices)
    if (i < 0 || i >= cols) s.fail_tensor(name, "has an index outside [0, " + std::to_string(cols) + ")");
}

namespace {
std::map<std::string, Restorer>& restorers() {
  static std::map<std::string, Restorer> r;
  return r;
}
}  // namespace

RestorerRegistrar::RestorerRegistrar(const char* kind, Restorer fn) { restorers()[kind] = fn; }

bool can_restore(const std::string& kind) { return restorers().count(kind) > 0; }

std::vector<std::string> restorable_kinds() {
  std::vector<std::string> k;
  for (auto& [name, fn] : restorers()) k.push_back(name);
  return k;
}

std::shared_ptr<Model> restore_model(const std::string& kind, int32_t users, int32_t items, TensorMap tensors,
                                     ParamMap params) {
  auto it = restorers().find(kind);
  if (it == restorers().end()) fail("E_FORMAT", "no model family of this build restores models of kind '" + kind + "'");
  StateReader reader(kind, users, items, std::move(tensors), std::move(params));
  std::shared_ptr<Model> m = it->second(reader);
  // A state with tensors its restorer never read is another kind's (a file whose class and kind were renamed
  // together, say a fold-in FactorModel's state as NMF): refused instead of silently dropping what they held.
  reader.check_all_read();
  if (!m || m->n_users() != users || m->n_items() != items || m->kind() != kind)
    fail("E_STATE", "the restorer of '" + kind + "' built a model of another kind or size");
  return m;
}
// The "FactorModel" kind (plain or with least-squares fold-in) registers its restorer in models/foldin.cc.

void fail_diverged(const std::string& model, const std::string& what) {
  fail("E_STATE", model + " diverged (" + what + "): its numbers overflowed; lower the learning rate or the " +
                      "initial scale, raise the regularization, or rescale the data");
}

void check_fit_finite(const Model& model) {
  const auto* m = dynamic_cast<const FactorModel*>(&model);
  if (!m) return;
  auto check = [&](const std::vector<float>& v, const char* name) {
    for (size_t p = 0; p < v.size(); ++p) {
      if (!std::isfinite(v[p])) fail_diverged(m->kind(), std::string("non-finite ") + name + " after the fit");
    }
  };
  if (!std::isfinite(m->global)) fail_diverged(m->kind(), "non-finite global mean after the fit");
  check(m->U, "user factors");
  check(m->V, "item factors");
  check(m->user_bias, "user biases");
  check(m->item_bias, "item biases");
  if (score_bound(*m) > kFloatMax) fail_diverged(m->kind(), "factors so large that scores overflow the float range");
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

void factor_model_from_options(const Napi::Object& o, FactorModel& m, int min_factors, int max_factors) {
  m.users = static_cast<int32_t>(int_req(o, "users", 0, std::numeric_limits<int32_t>::max() - 1));
  m.items = static_cast<int32_t>(int_req(o, "items", 0, std::numeric_limits<int32_t>::max() - 1));
  m.factors = static_cast<int32_t>(int_req(o, "factors", min_factors, max_factors));
  m.kind_name = string_req(o, "kind");
  m.global = static_cast<float>(real_req(o, "global", -INFINITY, INFINITY));
  auto copy = [&](const char* key, size_t expected, std::vector<float>& dst, bool required) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) {
      if (required) fail_arg(std::string(key) + " is required");
      return;
    }
    auto a = typed_array<const float>(v, key);
    if (a.size != expected)
      fail_arg(std::string(key) + " must have " + std::to_string(expected) + " entries, got " + std::to_string(a.size));
    for (size_t p = 0; p < a.size; ++p)
      if (!std::isfinite(a[p])) fail_arg(std::string(key) + "[" + std::to_string(p) + "] is not finite");
    dst.assign(a.begin(), a.end());
  };
  copy("userFactors", static_cast<size_t>(m.users) * m.factors, m.U, m.factors > 0);
  copy("itemFactors", static_cast<size_t>(m.items) * m.factors, m.V, m.factors > 0);
  copy("userBias", static_cast<size_t>(m.users), m.user_bias, false);
  copy("itemBias", static_cast<size_t>(m.items), m.item_bias, false);
}

// ---- ModelHandle: the JS object around a fitted model -------------------------------------------------
namespace {

class ModelHandle : public Napi::ObjectWrap<ModelHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(
        env, "NativeModel",
        {InstanceAccessor<&ModelHandle::Kind>("kind"), InstanceAccessor<&ModelHandle::NUsers>("nUsers"),
         InstanceAccessor<&ModelHandle::NItems>("nItems"), InstanceMethod<&ModelHandle::Recommend>("recommend"),
         InstanceMethod<&ModelHandle::RecommendBatch>("recommendBatch"),
         InstanceMethod<&ModelHandle::RecommendNew>("recommendNew"), InstanceMethod<&ModelHandle::Predict>("predict"),
         InstanceMethod<&ModelHandle::ScoreUsers>("scoreUsers"), InstanceMethod<&ModelHandle::Similar>("similarItems"),
         InstanceMethod<&ModelHandle::SimilarUsers>("similarUsers"), InstanceMethod<&ModelHandle::State>("state"),
         InstanceMethod<&ModelHandle::BuildAnn>("buildAnn"),
         InstanceMethod<&ModelHandle::BuildAnnAsync>("buildAnnAsync"), InstanceMethod<&ModelHandle::AnnInfo>("annInfo"),
         InstanceMethod<&ModelHandle::SetAnnSearch>("setAnnSearch"), InstanceMethod<&ModelHandle::DropAnn>("dropAnn"),
         InstanceMethod<&ModelHandle::AnnSupported>("annSupported")});
    addon_data(env).get("NativeModel") = Napi::Persistent(f);
    exports.Set("NativeModel", f);
  }
  explicit ModelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandle>(info) {}
  ~ModelHandle() override {
    if (reported > 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -reported);
  }
  std::shared_ptr<Model> model;
  int64_t reported = 0;  // bytes announced to V8 for this model

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
      k = std::min(k, mod.n_items());
      std::vector<ScoredItem> best(k);
      int n = mod.approx_topk(u, k, f, best.data());
      if (n < 0) {
        std::vector<float> scores(mod.n_items());
        mod.score_user(u, scores.data());
        std::vector<int32_t> scratch;
        n = topk(scores.data(), mod.n_items(), k, f, best.data(), scratch);
      }
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
      int64_t seen_rows = 0;
      if (!(info[2].IsUndefined() || info[2].IsNull())) {
        CsrView s = csr_arg(info[2], "seen", CsrCheck::Rows);
        check_csr_rows(s, "seen", users.data, users.size);  // only the requested users' rows are read
        sp = s.indptr;
        si = s.indices;
        seen_rows = s.rows;
      }
      TopKFilter base = filter_args(info.Env().Undefined(), info[3], info[4]);
      int threads = static_cast<int>(int_arg(info[5], "threads", 0, 1024));
      size_t n = users.size;
      for (size_t r = 0; r < n; ++r)
        if (users[r] < 0 || users[r] >= mod.n_users())
          fail_arg("users[" + std::to_string(r) + "] = " + std::to_string(users[r]) + " is not a trained user");
      std::vector<int32_t> out_items(n * k, -1);
      std::vector<float> out_scores(n * k, std::numeric_limits<float>::quiet_NaN());
      std::vector<int32_t> counts(n, 0);
      // Blocks of users: one score_users (gemm) per block keeps memory at block x n_items per thread.
      const bool approx = mod.has_approx();
      const int64_t block = approx ? 8 : 64;
      int64_t n_blocks = (static_cast<int64_t>(n) + block - 1) / block;
      int nt = resolve_threads(threads);
      std::vector<std::vector<float>> buf(nt);
      std::vector<std::vector<ScoredItem>> best(nt, std::vector<ScoredItem>(std::max(k, 1)));
      std::vector<std::vector<int32_t>> scratch(nt);
      parallel_for(
          n_blocks, nt,
          [&](int64_t b, int tid) {
        int64_t r0 = b * block, r1 = std::min<int64_t>(n, r0 + block);
        int cnt = static_cast<int>(r1 - r0);
        auto& sc = buf[tid];
        // With an approximate index each user goes through it; the ones it cannot answer are scored one by one.
        if (!approx) {
          sc.resize(static_cast<size_t>(cnt) * mod.n_items());
          mod.score_users(users.data + r0, cnt, sc.data());
        }
        for (int64_t r = r0; r < r1; ++r) {
          TopKFilter f = base;
          int32_t u = users[r];
          if (sp && u < seen_rows) {
            f.seen = si + sp[u];
            f.n_seen = sp[u + 1] - sp[u];
          }
          int got = approx ? mod.approx_topk(u, k, f, best[tid].data()) : -1;
          if (got < 0 && approx) {
            sc.resize(mod.n_items());
            mod.score_user(u, sc.data());
            got = topk(sc.data(), mod.n_items(), k, f, best[tid].data(), scratch[tid]);
          } else if (got < 0) {
            got = topk(sc.data() + (r - r0) * mod.n_items(), mod.n_items(), k, f, best[tid].data(), scratch[tid]);
          }
          counts[r] = got;
          for (int j = 0; j < got; ++j) {
            out_items[r * k + j] = best[tid][j].item;
            out_scores[r * k + j] = best[tid][j].score;
          }
        }
          },
          1);
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
        if (items[p] < 0 || items[p] >= mod.n_items())
          fail_arg("items[" + std::to_string(p) + "] is not a trained item");
      int k = static_cast<int>(int_arg(info[2], "k", 0, std::numeric_limits<int32_t>::max()));
      k = std::min(k, mod.n_items());
      bool filter_seen = info[3].ToBoolean().Value();
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
      const float* vals = values.empty() ? nullptr : values.data;
      int n = mod.has_approx() ? mod.approx_topk_new(items.data, vals, static_cast<int>(items.size), k, f, best.data())
                               : -1;
      if (n < 0) {
        std::vector<float> scores(mod.n_items());
        mod.score_new_user(items.data, vals, static_cast<int>(items.size), scores.data());
        std::vector<int32_t> scratch;
        n = topk(scores.data(), mod.n_items(), k, f, best.data(), scratch);
      }
      return result(info.Env(), best, n);
    });
  }

  // predict(users Int32Array, items Int32Array, threads) -> Float32Array; ids of -1 (or out of range) are unknown.
  Napi::Value Predict(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      const Model& mod = m(info.Env());
      auto us = typed_array<const int32_t>(info[0], "users");
      auto is = typed_array<const int32_t>(info[1], "items");
      if (us.size != is.size) fail_arg("users and items must have the same length");
      int threads = static_cast<int>(int_arg(info[2], "threads", 0, 1024));
      std::vector<float> out(us.size);
      parallel_for(
          static_cast<int64_t>(us.size), us.size > 20000 ? threads : 1,
          [&](int64_t p, int) { out[p] = mod.predict(us[p], is[p]); }, 4096);
      return give_to_js(info.Env(), std::move(out));
    });
  }

  // scoreUsers(users Int32Array, threads) -> Float32Array(n * nItems); rows split over threads in blocks.
  Napi::Value ScoreUsers(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      const Model& mod = m(info.Env());
      auto us = typed_array<const int32_t>(info[0], "users");
      int threads = static_cast<int>(int_arg(info[1], "threads", 0, 1024));
      for (size_t r = 0; r < us.size; ++r)
        if (us[r] < 0 || us[r] >= mod.n_users()) fail_arg("users[" + std::to_string(r) + "] is not a trained user");
      const size_t ni = static_cast<size_t>(mod.n_items());
      std::vector<float> out(us.size * ni);
      const int64_t block = 64;
      int64_t n_blocks = (static_cast<int64_t>(us.size) + block - 1) / block;
      parallel_for(
          n_blocks, threads,
          [&](int64_t b, int) {
        int64_t r0 = b * block, r1 = std::min<int64_t>(static_cast<int64_t>(us.size), r0 + block);
        mod.score_users(us.data + r0, static_cast<int>(r1 - r0), out.data() + r0 * ni);
          },
          1);
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

  // ---- approximate top-K (FactorModel kinds only) ----
  FactorModel& factor_model(Napi::Env env) {
    m(env);
    auto* fm = dynamic_cast<FactorModel*>(model.get());
    if (!fm || fm->factors == 0 || fm->items == 0)
      fail("E_UNSUPPORTED", model->kind() + " has no item factors to index for approximate search");
    return *fm;
  }
  static AnnOptions ann_options(const Napi::Value& v) {
    if (!v.IsObject()) fail_arg("ann options must be an object");
    auto o = v.As<Napi::Object>();
    AnnOptions a;
    a.M = static_cast<int>(int_req(o, "M", 2, 256));
    a.ef_construction = static_cast<int>(int_req(o, "efConstruction", 1, 100000));
    a.ef_search = static_cast<int>(int_req(o, "efSearch", 1, 100000));
    a.seed = static_cast<uint64_t>(int_req(o, "seed", 0, int64_t{1} << 53));
    a.threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    return a;
  }
  void attach_ann(Napi::Env env, FactorModel& fm, std::shared_ptr<AnnIndex> index) {
    fm.ann = std::move(index);
    int64_t now = static_cast<int64_t>(fm.memory_bytes());
    if (now != reported) Napi::MemoryManagement::AdjustExternalMemory(env, now - reported);
    reported = now;
  }
  // buildAnn({ M, efConstruction, efSearch, seed, threads }): builds (or rebuilds) the index on this thread.
  Napi::Value BuildAnn(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      FactorModel& fm = factor_model(info.Env());
      AnnOptions o = ann_options(info[0]);
      auto index =
          AnnIndex::build(fm.V.data(), fm.item_bias.empty() ? nullptr : fm.item_bias.data(), fm.items, fm.factors, o);
      attach_ann(info.Env(), fm, std::move(index));
      return info.Env().Undefined();
    });
  }
  // buildAnnAsync(options) -> Promise<void>: the build on a worker thread; the index is attached on this thread
  // when it is done (the factors it reads never change after the fit).
  Napi::Value BuildAnnAsync(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      FactorModel& fm = factor_model(info.Env());
      AnnOptions o = ann_options(info[0]);
      std::shared_ptr<Model> keep = model;
      FactorModel* p = &fm;
      return run_async<std::shared_ptr<AnnIndex>>(
          info.Env(), "recsys.buildAnn",
          [keep, p, o](const auto&) {
        return AnnIndex::build(p->V.data(), p->item_bias.empty() ? nullptr : p->item_bias.data(), p->items, p->factors,
                               o);
          },
          [this, keep, p](Napi::Env env, std::shared_ptr<AnnIndex>& index) -> Napi::Value {
            if (model == keep) attach_ann(env, *p, std::move(index));
            return env.Undefined();
          },
          {}, {info.This()});
    });
  }
  // annInfo() -> { items, M, efConstruction, efSearch, landmarks, bytes } | null
  Napi::Value AnnInfo(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      auto* fm = dynamic_cast<const FactorModel*>(&m(info.Env()));
      if (!fm || !fm->ann) return info.Env().Null();
      auto o = Napi::Object::New(info.Env());
      o.Set("items", fm->ann->items());
      o.Set("M", fm->ann->M());
      o.Set("efConstruction", fm->ann->ef_construction());
      o.Set("efSearch", fm->ann->ef_search());
      o.Set("landmarks", fm->ann->landmarks());
      o.Set("bytes", static_cast<double>(fm->ann->bytes()));
      return o;
    });
  }
  // setAnnSearch(efSearch, landmarks?): the search-time candidate list and the landmark search (serving settings,
  // not part of the graph).
  Napi::Value SetAnnSearch(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      auto* fm = dynamic_cast<FactorModel*>(model.get());
      int ef = static_cast<int>(int_arg(info[0], "efSearch", 1, 100000));
      if (!info[1].IsUndefined() && !info[1].IsBoolean()) fail_arg("landmarks must be a boolean");
      if (fm && fm->ann) fm->ann->set_ef_search(ef);
      if (fm && fm->ann && info[1].IsBoolean()) fm->ann->set_landmarks(info[1].As<Napi::Boolean>().Value());
      return info.Env().Undefined();
    });
  }
  // annSupported(): whether this model has item factors an index can be built over.
  Napi::Value AnnSupported(const Napi::CallbackInfo& info) {
    auto* fm = dynamic_cast<const FactorModel*>(model.get());
    return Napi::Boolean::New(info.Env(), fm && fm->factors > 0 && fm->items > 0);
  }
  // dropAnn(): back to exact top-K only.
  Napi::Value DropAnn(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      auto* fm = dynamic_cast<FactorModel*>(model.get());
      if (fm && fm->ann) attach_ann(info.Env(), *fm, nullptr);
      return info.Env().Undefined();
    });
  }

  // state() -> { name: { shape: number[], data: Float32Array | Int32Array } }
  Napi::Value State(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      auto o = Napi::Object::New(env);
      for (auto& [name, t] : m(env).state()) {
        auto e = Napi::Object::New(env);
        auto shape = Napi::Array::New(env, t.shape.size());
        for (size_t d = 0; d < t.shape.size(); ++d)
          shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(t.shape[d])));
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
    auto m = std::make_shared<FactorModel>();
    factor_model_from_options(info[0].As<Napi::Object>(), *m, 0, 1 << 16);
    return wrap_model(info.Env(), m);
  });
}

// Reads {name: {shape: number[], data: Float32Array | Int32Array}} (what state() returns) into tensors (copies).
TensorMap tensors_arg(const Napi::Value& v) {
  if (!v.IsObject()) fail_arg("tensors must be an object of { shape, data }");
  auto o = v.As<Napi::Object>();
  TensorMap out;
  Napi::Array names = o.GetPropertyNames();
  for (uint32_t k = 0; k < names.Length(); ++k) {
    std::string name = names.Get(k).ToString().Utf8Value();
    Napi::Value e = o.Get(name);
    if (!e.IsObject()) fail_arg("tensors." + name + " must be { shape, data }");
    auto eo = e.As<Napi::Object>();
    Napi::Value sv = eo.Get("shape");
    if (!sv.IsArray()) fail_arg("tensors." + name + ".shape must be an array");
    auto sa = sv.As<Napi::Array>();
    Tensor t;
    int64_t numel = 1;
    for (uint32_t d = 0; d < sa.Length(); ++d) {
      int64_t x = int_arg(sa.Get(d), "shape", 0, std::numeric_limits<int32_t>::max());
      t.shape.push_back(x);
      numel *= x;
      if (numel > (int64_t{1} << 40)) fail_arg("tensors." + name + " is too large");
    }
    Napi::Value dv = eo.Get("data");
    if (!dv.IsTypedArray()) fail_arg("tensors." + name + ".data must be a Float32Array or an Int32Array");
    if (dv.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
      auto a = typed_array<const int32_t>(dv, "data");
      t.i32.assign(a.begin(), a.end());
    } else {
      auto a = typed_array<const float>(dv, ("tensors." + name + ".data").c_str());
      t.f32.assign(a.begin(), a.end());
    }
    if (static_cast<int64_t>(t.f32.size() + t.i32.size()) != numel)
      fail_arg("tensors." + name + " has " + std::to_string(t.f32.size() + t.i32.size()) + " values for a shape of " +
               std::to_string(numel));
    out[name] = std::move(t);
  }
  return out;
}

// restoreModel(kind, { users, items }, tensors, params): a model rebuilt from what its state() returned and the
// model's resolved options (E_FORMAT when the kind is unknown or the tensors do not describe a valid model of it).
Napi::Value JsRestoreModel(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    if (!info[0].IsString()) fail_arg("kind must be a string");
    if (!info[1].IsObject()) fail_arg("restoreModel expects { users, items }");
    auto dims = info[1].As<Napi::Object>();
    int32_t users =
        static_cast<int32_t>(int_arg(dims.Get("users"), "users", 0, std::numeric_limits<int32_t>::max() - 1));
    int32_t items =
        static_cast<int32_t>(int_arg(dims.Get("items"), "items", 0, std::numeric_limits<int32_t>::max() - 1));
    return wrap_model(info.Env(), restore_model(info[0].As<Napi::String>().Utf8Value(), users, items,
                                                tensors_arg(info[2]), params_arg(info[3])));
  });
}

Napi::Value JsRestorableKinds(const Napi::CallbackInfo& info) {
  auto kinds = restorable_kinds();
  auto a = Napi::Array::New(info.Env(), kinds.size());
  for (size_t i = 0; i < kinds.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::String::New(info.Env(), kinds[i]));
  return a;
}

void init(Napi::Env env, Napi::Object exports) {
  ModelHandle::Init(env, exports);
  exports.Set("createFactorModel", Napi::Function::New(env, JsCreateFactorModel));
  exports.Set("restoreModel", Napi::Function::New(env, JsRestoreModel));
  exports.Set("restorableKinds", Napi::Function::New(env, JsRestorableKinds));
}

}  // namespace

Napi::Object wrap_model(Napi::Env env, std::shared_ptr<Model> model) {
  Napi::Object o = addon_data(env).get("NativeModel").New({});
  ModelHandle* h = ModelHandle::Unwrap(o);
  h->reported = static_cast<int64_t>(model ? model->memory_bytes() : 0);
  if (h->reported > 0) Napi::MemoryManagement::AdjustExternalMemory(env, h->reported);
  h->model = std::move(model);
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
