// EASE (Steck 2019): a linear item-item model with a zero diagonal in closed form. With G = X^T X + lambda I and
// P = G^-1, B = I - P diag(1 / diag(P)), i.e. B_ij = -P_ij / P_jj off the diagonal and 0 on it; a user's scores
// are x_u B. The Gram matrix goes through the BLAS layer (syrk over dense blocks of users, or a sparse
// accumulation when the data is sparse enough that this costs less), then potrf + potri; B overwrites P in place,
// so the fit holds one items x items float matrix.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "core/blas.h"
#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/threads.h"

namespace recsys {
namespace {

class EaseModel : public Model {
 public:
  int32_t users = 0, items = 0;
  UserRows rows;         // the training interactions, scoring known users
  std::vector<float> B;  // items x items, row i = weights from item i to every item

  // An upper bound of |score| of a known user: past the float range some score is +-Infinity, though every number
  // the model holds is finite.
  double score_bound() const { return rows.max_abs_row_sum() * max_abs_or_inf(B); }

  std::string kind() const override { return "EASE"; }
  int32_t n_users() const override { return users; }
  int32_t n_items() const override { return items; }
  void accumulate(const int32_t* its, const float* vals, int64_t n, float* out) const {
    std::fill(out, out + items, 0.f);
    for (int64_t p = 0; p < n; ++p) {
      if (its[p] < 0 || its[p] >= items) continue;
      blas::axpy(items, vals && !rows.binary ? vals[p] : 1.f, B.data() + static_cast<int64_t>(its[p]) * items, out);
    }
  }
  void score_user(int32_t u, float* out) const override {
    accumulate(rows.items_of(u), rows.values_of(u), rows.length(u), out);
  }
  void score_new_user(const int32_t* its, const float* vals, int n, float* out) const override {
    accumulate(its, vals, n, out);
  }
  float predict(int32_t u, int32_t j) const override {
    if (u < 0 || u >= users || j < 0 || j >= items) return 0.f;
    float s = 0.f;
    for (int32_t p = rows.indptr[u]; p < rows.indptr[u + 1]; ++p)
      s += rows.value(p) * B[static_cast<int64_t>(rows.indices[p]) * items + j];
    return s;
  }
  void similar_items(int32_t i, float* out) const override {
    std::copy_n(B.data() + static_cast<int64_t>(i) * items, items, out);
  }
  std::map<std::string, Tensor> state() const override {
    std::map<std::string, Tensor> s;
    s["B"] = Tensor{{items, items}, B, {}};
    rows.put_state(s);
    return s;
  }
  size_t memory_bytes() const override { return B.size() * sizeof(float) + rows.bytes(); }
};

// fitEASE(csr, {lambda, binary, maxMemoryBytes, gram, threads}, runOptions)
Napi::Value FitEASE(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[2]);
    auto o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    float lambda = static_cast<float>(real_req(o, "lambda", 0, 1e15, true));
    bool binary = bool_req(o, "binary");
    double max_bytes = max_memory_arg(o);
    std::string gram = string_req(o, "gram");
    if (gram != "auto" && gram != "dense" && gram != "sparse")
      fail_arg("gram must be 'auto', 'dense' or 'sparse', got '" + gram + "'");
    int threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    if (binary) R.data = nullptr;
    const int64_t n = R.cols;
    // Sparse accumulation costs sum(deg^2) scattered adds; syrk costs users * items^2 / 2 multiply-adds at BLAS
    // speed, measured ~40x cheaper per operation here.
    double sparse_ops = 0;
    for (int32_t u = 0; u < R.rows; ++u) sparse_ops += static_cast<double>(R.row_len(u)) * R.row_len(u);
    double dense_ops = static_cast<double>(R.rows) * n * n / 2;
    bool dense = gram == "dense" || (gram == "auto" && dense_ops < 40 * sparse_ops);
    int64_t block =
        dense ? std::max<int64_t>(64, std::min<int64_t>(R.rows, (int64_t{64} << 20) / std::max<int64_t>(1, n * 4))) : 0;
    double need = static_cast<double>(n) * n * 4 + static_cast<double>(block) * n * 4;
    check_memory("EASE", need, "the " + std::to_string(n) + " x " + std::to_string(n) + " item-item matrix", max_bytes,
                 "keep fewer items (EASE's memory grows with items^2)");
    auto run = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    return run_fit(info, run,
                   [R, lambda, binary, dense, block, threads](FitContext& ctx) -> std::shared_ptr<Model> {
                     const int32_t ni = R.cols;
                     const int64_t n = ni;
                     const int nt = resolve_threads(threads);
                     auto m = std::make_shared<EaseModel>();
                     m->users = R.rows;
                     m->items = ni;
                     m->rows.assign(R, binary);
                     std::vector<float>& G = m->B;
                     G.assign(static_cast<size_t>(n) * n, 0.f);
                     if (dense) {
                       std::vector<float> X(static_cast<size_t>(block) * n);
                       blas::BlasThreads bt(nt);
                       for (int32_t u0 = 0; u0 < R.rows; u0 += static_cast<int32_t>(block)) {
                         int32_t u1 = static_cast<int32_t>(std::min<int64_t>(R.rows, u0 + block));
                         std::fill(X.begin(), X.end(), 0.f);
                         for (int32_t u = u0; u < u1; ++u)
                           for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q)
                             X[(u - u0) * n + R.indices[q]] = R.value(q);
                         blas::syrk_t(ni, u1 - u0, 1.f, X.data(), ni, 1.f, G.data(), ni);
                         ctx.check_cancelled();
                       }
                     } else {
                       // Each thread owns a range of G's rows and scans every user for items in its range.
                       parallel_blocks(n, nt,
                                       [&](int64_t i0, int64_t i1, int) {
          for (int32_t u = 0; u < R.rows; ++u) {
            if ((u & 1023) == 0) ctx.check_cancelled();
            const int32_t* b = R.indices + R.row_begin(u);
            const int32_t* e = R.indices + R.row_end(u);
            for (const int32_t* pi = std::lower_bound(b, e, static_cast<int32_t>(i0)); pi != e && *pi < i1; ++pi) {
              float xi = R.value(pi - R.indices);
              float* g = G.data() + static_cast<int64_t>(*pi) * n;
              for (const int32_t* pj = b; pj != e; ++pj) g[*pj] += xi * R.value(pj - R.indices);
            }
          }
                       });
                     }
                     ctx.progress(1, 3, NAN, "gram");
                     for (int64_t i = 0; i < n; ++i) G[i * n + i] += lambda;
                     {
                       blas::BlasThreads bt(nt);
                       // Blocked so that an abort is seen between blocks (the unblocked calls ran for tens of seconds at 10k items).
                       auto check = [&ctx] { ctx.check_cancelled(); };
                       if (blas::potrf_lower_blocked(ni, G.data(), ni, check) != 0)
                         fail("E_NATIVE", "EASE: X^T X + lambda I is not positive definite");
                       if (blas::potri_lower_blocked(ni, G.data(), ni, check) != 0)
                         fail("E_NATIVE", "EASE: the Cholesky factor is singular");
                     }
                     ctx.progress(2, 3, NAN, "inverse");
                     std::vector<float> inv_diag(n);
                     for (int64_t j = 0; j < n; ++j) inv_diag[j] = 1.f / G[j * n + j];
                     parallel_for(
                         n, nt,
                         [&](int64_t i, int) {
        if ((i & 255) == 0) ctx.check_cancelled();
        float* row = G.data() + i * n;
        for (int64_t j = 0; j < n; ++j) row[j] = -row[j] * inv_diag[j];
        row[i] = 0.f;
                         },
                         64);
                     ctx.progress(3, 3, NAN, "weights");
                     // A model that saves must load: the loader refuses what this refuses.
                     if (m->score_bound() > std::numeric_limits<float>::max())
                       fail_diverged("EASE", "ratings and weights so large that scores overflow the float range");
                     return m;
                   },
                   {info[0]});
  });
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("fitEASE", Napi::Function::New(env, FitEASE)); }

std::shared_ptr<Model> restore_ease(StateReader& s) {
  auto m = std::make_shared<EaseModel>();
  m->users = s.users();
  m->items = s.items();
  m->B = s.f32("B", {m->items, m->items});
  m->rows.restore(s, m->users, m->items);
  if (m->score_bound() > std::numeric_limits<float>::max())
    s.fail_tensor("B", "holds values so large that scores would overflow the float range");
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(ease, init);
RECSYS_REGISTER_RESTORER(EASE, restore_ease);

}  // namespace recsys
