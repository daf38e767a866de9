#include "core/optim.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/common.h"

namespace recsys {

namespace {
struct AdamCoef {
  float b1, b2, lr_t, eps;
};
AdamCoef adam_coef(const OptimizerParams& p) {
  const double t = static_cast<double>(std::max<int64_t>(1, p.step));
  // Bias correction folded into the step size (Kingma & Ba 2015, section 2; TensorFlow's formulation).
  const double lr_t = p.lr * std::sqrt(1 - std::pow(p.beta2, t)) / (1 - std::pow(p.beta1, t));
  return {static_cast<float>(p.beta1), static_cast<float>(p.beta2), static_cast<float>(lr_t),
          static_cast<float>(p.eps)};
}
inline void update(float* w, float g, float* m, float* v, const AdamCoef& c, const OptimizerParams& p) {
  if (!p.adam) {
    *w -= static_cast<float>(p.lr) * g;
    return;
  }
  *m = c.b1 * *m + (1 - c.b1) * g;
  *v = c.b2 * *v + (1 - c.b2) * g * g;
  *w -= c.lr_t * *m / (std::sqrt(*v) + c.eps);
}
}  // namespace

void optimizer_step(float* w, const float* g, float* m, float* v, int64_t n, const OptimizerParams& p) {
  const AdamCoef c = adam_coef(p);
  const float l2 = static_cast<float>(p.l2);
  for (int64_t j = 0; j < n; ++j) update(w + j, g[j] + l2 * w[j], m ? m + j : nullptr, v ? v + j : nullptr, c, p);
}

void optimizer_rows_step(float* table, float* m, float* v, int32_t n_rows, int dim, const int32_t* rows, int64_t n,
                         const float* grads, const OptimizerParams& p) {
  const AdamCoef c = adam_coef(p);
  const float l2 = static_cast<float>(p.l2);
  std::vector<int64_t> order(n);
  for (int64_t j = 0; j < n; ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return rows[a] < rows[b]; });
  std::vector<float> g(dim);
  for (int64_t s = 0; s < n;) {
    const int32_t r = rows[order[s]];
    std::fill(g.begin(), g.end(), 0.f);
    int64_t e = s;
    for (; e < n && rows[order[e]] == r; ++e) {
      const float* gr = grads + order[e] * dim;
      for (int d = 0; d < dim; ++d) g[d] += gr[d];
    }
    if (r >= 0 && r < n_rows) {
      const int64_t base = static_cast<int64_t>(r) * dim;
      for (int d = 0; d < dim; ++d)
        update(table + base + d, g[d] + l2 * table[base + d], m ? m + base + d : nullptr, v ? v + base + d : nullptr, c,
               p);
    }
    s = e;
  }
}

void embedding_bag(const float* table, int32_t n_rows, int dim, const int32_t* row_of, const int32_t* indices,
                   const float* values, int64_t n, int32_t n_out, float* out) {
  std::fill(out, out + static_cast<int64_t>(n_out) * dim, 0.f);
  for (int64_t p = 0; p < n; ++p) {
    const int32_t i = indices[p];
    if (i < 0 || i >= n_rows) continue;
    const float x = values[p];
    const float* src = table + static_cast<int64_t>(i) * dim;
    float* dst = out + static_cast<int64_t>(row_of[p]) * dim;
    for (int d = 0; d < dim; ++d) dst[d] += x * src[d];
  }
}

void embedding_bag_step(float* table, float* m, float* v, int32_t n_rows, int dim, const int32_t* row_of,
                        const int32_t* indices, const float* values, int64_t n, const float* d_out,
                        const OptimizerParams& p) {
  const AdamCoef c = adam_coef(p);
  const float l2 = static_cast<float>(p.l2);
  std::vector<int64_t> order(n);
  for (int64_t j = 0; j < n; ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return indices[a] < indices[b]; });
  std::vector<float> g(dim);
  for (int64_t s = 0; s < n;) {
    const int32_t r = indices[order[s]];
    std::fill(g.begin(), g.end(), 0.f);
    int64_t e = s;
    for (; e < n && indices[order[e]] == r; ++e) {
      const float x = values[order[e]];
      const float* dr = d_out + static_cast<int64_t>(row_of[order[e]]) * dim;
      for (int d = 0; d < dim; ++d) g[d] += x * dr[d];
    }
    if (r >= 0 && r < n_rows) {
      const int64_t base = static_cast<int64_t>(r) * dim;
      for (int d = 0; d < dim; ++d)
        update(table + base + d, g[d] + l2 * table[base + d], m ? m + base + d : nullptr, v ? v + base + d : nullptr, c,
               p);
    }
    s = e;
  }
}

void gather_rows(const float* table, int32_t n_rows, int dim, const int32_t* rows, int64_t n, float* out) {
  for (int64_t j = 0; j < n; ++j) {
    const int32_t r = rows[j];
    float* o = out + j * dim;
    if (r >= 0 && r < n_rows) std::copy_n(table + static_cast<int64_t>(r) * dim, dim, o);
    else std::fill(o, o + dim, 0.f);
  }
}

// ---- JS exports --------------------------------------------------------------------------------------------
// Results are arrays V8 allocates (not adopted native vectors): these run once per mini-batch step, often in a
// synchronous loop, and adopted buffers are only freed by finalizers that wait for the event loop.
namespace {

OptimizerParams opt_params(const Napi::Value& v) {
  auto o = v.IsObject() ? v.As<Napi::Object>() : Napi::Object::New(v.Env());
  OptimizerParams p;
  std::string method = string_req(o, "method");
  if (method != "adam" && method != "sgd") fail_arg("method must be 'adam' or 'sgd', got '" + method + "'");
  p.adam = method == "adam";
  p.lr = real_req(o, "lr", 0, INFINITY);
  p.beta1 = real_req(o, "beta1", 0, 1);
  p.beta2 = real_req(o, "beta2", 0, 1);
  if (p.beta1 >= 1 || p.beta2 >= 1) fail_arg("beta1 and beta2 must be < 1");
  p.eps = real_req(o, "eps", 0, INFINITY, true);
  p.l2 = real_req(o, "l2", 0, INFINITY);
  p.step = int_req(o, "step", 1, int64_t{1} << 53);
  return p;
}

// Adam's moment arrays must match the parameter (or be absent for SGD).
void check_moments(const Span<float>& m, const Span<float>& v, size_t n, bool adam) {
  if (!adam) return;
  if (m.size != n || v.size != n) fail_arg("m and v must have one entry per parameter (" + std::to_string(n) + ")");
}

// optimizerStep(w, grad, m?, v?, {method, lr, beta1, beta2, eps, l2, step}): updates w (and m, v) in place.
Napi::Value OptimizerStep(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto w = typed_array<float>(info[0], "w");
    auto g = typed_array<const float>(info[1], "grad");
    auto m = optional_typed_array<float>(info[2], "m");
    auto v = optional_typed_array<float>(info[3], "v");
    OptimizerParams p = opt_params(info[4]);
    if (g.size != w.size)
      fail_arg("grad must have the size of w (" + std::to_string(w.size) + "), got " + std::to_string(g.size));
    check_moments(m, v, w.size, p.adam);
    optimizer_step(w.data, g.data, m.data, v.data, static_cast<int64_t>(w.size), p);
    return info.Env().Undefined();
  });
}

// optimizerRowsStep(table, m?, v?, dim, rows Int32Array, grads Float32Array (rows x dim), options)
Napi::Value OptimizerRowsStep(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto t = typed_array<float>(info[0], "table");
    auto m = optional_typed_array<float>(info[1], "m");
    auto v = optional_typed_array<float>(info[2], "v");
    int dim = static_cast<int>(int_arg(info[3], "dim", 1, 1 << 24));
    auto rows = typed_array<const int32_t>(info[4], "rows");
    auto g = typed_array<const float>(info[5], "grads");
    OptimizerParams p = opt_params(info[6]);
    if (t.size % dim != 0) fail_arg("table size is not a multiple of dim");
    if (g.size != rows.size * static_cast<size_t>(dim)) fail_arg("grads must hold rows.length x dim values");
    check_moments(m, v, t.size, p.adam);
    int32_t n_rows = static_cast<int32_t>(t.size / dim);
    for (size_t j = 0; j < rows.size; ++j)
      if (rows[j] < 0 || rows[j] >= n_rows)
        fail_arg("rows[" + std::to_string(j) + "] = " + std::to_string(rows[j]) + " is outside the table");
    optimizer_rows_step(t.data, m.data, v.data, n_rows, dim, rows.data, static_cast<int64_t>(rows.size), g.data, p);
    return info.Env().Undefined();
  });
}

// gatherRows(table, dim, rows Int32Array) -> Float32Array (rows.length x dim); out-of-range rows are zeros.
Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto t = typed_array<const float>(info[0], "table");
    int dim = static_cast<int>(int_arg(info[1], "dim", 1, 1 << 24));
    auto rows = typed_array<const int32_t>(info[2], "rows");
    if (t.size % dim != 0) fail_arg("table size is not a multiple of dim");
    auto out = Napi::Float32Array::New(info.Env(), rows.size * static_cast<size_t>(dim));
    gather_rows(t.data, static_cast<int32_t>(t.size / dim), dim, rows.data, static_cast<int64_t>(rows.size),
                out.Data());
    return out;
  });
}

// The entries of a bag: rowOf, indices, values of equal length; rowOf in [0, nOut). Checked here.
struct Bag {
  Span<const int32_t> row_of, indices;
  Span<const float> values;
};
Bag bag_arg(const Napi::Value& v, int32_t n_out, int32_t n_rows) {
  if (!v.IsObject()) fail_arg("entries must be { rowOf, indices, values }");
  auto o = v.As<Napi::Object>();
  Bag b{typed_array<const int32_t>(o.Get("rowOf"), "entries.rowOf"),
        typed_array<const int32_t>(o.Get("indices"), "entries.indices"),
        typed_array<const float>(o.Get("values"), "entries.values")};
  if (b.indices.size != b.row_of.size || b.values.size != b.row_of.size)
    fail_arg("entries.rowOf, indices and values must have the same length");
  for (size_t p = 0; p < b.row_of.size; ++p) {
    if (b.row_of[p] < 0 || b.row_of[p] >= n_out) fail_arg("entries.rowOf holds a row outside [0, rows)");
    if (b.indices[p] < 0 || b.indices[p] >= n_rows) fail_arg("entries.indices holds a row outside the table");
  }
  return b;
}

// embeddingBag(table, dim, entries {rowOf, indices, values}, rows) -> Float32Array rows x dim
Napi::Value EmbeddingBag(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto t = typed_array<const float>(info[0], "table");
    int dim = static_cast<int>(int_arg(info[1], "dim", 1, 1 << 24));
    if (t.size % dim != 0) fail_arg("table size is not a multiple of dim");
    const int32_t n_rows = static_cast<int32_t>(t.size / dim);
    int32_t n_out = static_cast<int32_t>(int_arg(info[3], "rows", 0, std::numeric_limits<int32_t>::max()));
    Bag b = bag_arg(info[2], n_out, n_rows);
    auto out = Napi::Float32Array::New(info.Env(), static_cast<size_t>(n_out) * dim);
    embedding_bag(t.data, n_rows, dim, b.row_of.data, b.indices.data, b.values.data,
                  static_cast<int64_t>(b.row_of.size), n_out, out.Data());
    return out;
  });
}

// embeddingBagStep(table, m?, v?, dim, entries, dOut Float32Array (rows x dim), options): in place.
Napi::Value EmbeddingBagStep(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto t = typed_array<float>(info[0], "table");
    auto m = optional_typed_array<float>(info[1], "m");
    auto v = optional_typed_array<float>(info[2], "v");
    int dim = static_cast<int>(int_arg(info[3], "dim", 1, 1 << 24));
    if (t.size % dim != 0) fail_arg("table size is not a multiple of dim");
    const int32_t n_rows = static_cast<int32_t>(t.size / dim);
    auto d = typed_array<const float>(info[5], "dOut");
    if (d.size % dim != 0) fail_arg("dOut size is not a multiple of dim");
    const int32_t n_out = static_cast<int32_t>(d.size / dim);
    Bag b = bag_arg(info[4], n_out, n_rows);
    OptimizerParams p = opt_params(info[6]);
    check_moments(m, v, t.size, p.adam);
    embedding_bag_step(t.data, m.data, v.data, n_rows, dim, b.row_of.data, b.indices.data, b.values.data,
                       static_cast<int64_t>(b.row_of.size), d.data, p);
    return info.Env().Undefined();
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("embeddingBag", Napi::Function::New(env, EmbeddingBag));
  exports.Set("embeddingBagStep", Napi::Function::New(env, EmbeddingBagStep));
  exports.Set("optimizerStep", Napi::Function::New(env, OptimizerStep));
  exports.Set("optimizerRowsStep", Napi::Function::New(env, OptimizerRowsStep));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
}

}  // namespace

RECSYS_REGISTER_EXPORTS(optim, init);

}  // namespace recsys
