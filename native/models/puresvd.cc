// PureSVD (Cremonesi, Koren, Turrin 2010): the rank-k truncated SVD R ~ U S V^T of the user-item matrix, with
// missing entries as zeros; a user's scores are r_u V V^T (= U_u S V^T for a training user), so a new user folds in
// by projecting their row. The SVD is randomized (Halko, Martinsson, Tropp 2011): a Gaussian sketch R Omega with
// oversampling, power iterations re-orthonormalized by QR after every product, then the SVD of the small
// projected matrix. All products with R and R^T are sparse x dense straight from the CSR, parallel over rows.
// The same routine is exported as truncatedSVD().
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "core/blas.h"
#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/rng.h"
#include "core/threads.h"

namespace recsys {
namespace {

// Every field comes from the caller's options (ts/models/puresvd.ts owns the defaults).
struct SvdOptions {
  int k = 0;
  int oversample = 0;
  int power_iterations = 0;
  uint64_t seed = 0;
  int threads = 0;
};

struct SvdResult {
  int32_t m = 0, n = 0;
  int k = 0;
  std::vector<float> U, S, Vt;  // m x k, k, k x n
};

// The dense steps (QR, the small SVD, one gemm) run on single-threaded BLAS: OpenBLAS's worker threads spin
// for a while after each call and would compete with the parallel sparse products that follow (measured: 15-20%
// more CPU for the same wall time on 2 cores).
void orthonormalize(int64_t rows, int l, std::vector<float>& M) {
  if (blas::qr_q(static_cast<int>(rows), l, M.data(), l) != 0) fail("E_NATIVE", "truncatedSVD: QR failed");
}

// A: m x n. Products with A^T come straight from the CSR (spmm_t), so no transpose is needed.
SvdResult randomized_svd(const CsrView& A, const SvdOptions& o, FitContext* ctx) {
  const int64_t m = A.rows, n = A.cols;
  // Sketch width k + oversample, rounded up to a multiple of 16 (whole vector registers in the sparse products;
  // the extra columns only add accuracy), at most min(m, n).
  const int l = static_cast<int>(std::min<int64_t>((o.k + o.oversample + 15) / 16 * 16, std::min(m, n)));
  const int total = o.power_iterations + 2;
  // The products run in float: past a Frobenius norm of ~1e30 (finite values near FLT_MAX) they overflow and the
  // SVD cannot converge. Say so up front rather than fail inside LAPACK.
  if (A.data) {
    double f2 = 0;
    for (int64_t p = 0; p < A.nnz(); ++p) f2 += static_cast<double>(A.data[p]) * A.data[p];
    if (!(std::sqrt(f2) <= 1e30)) {
      char norm[32];
      std::snprintf(norm, sizeof norm, "%.3g", std::sqrt(f2));
      fail_arg(std::string("truncatedSVD: the matrix's values are too large for a float32 SVD (Frobenius norm ") +
               norm + " > 1e30); rescale them");
    }
  }
  // Omega: n x l standard normal, one stream per row, so it does not depend on the thread count.
  std::vector<float> Z(static_cast<size_t>(n) * l), Y(static_cast<size_t>(m) * l);
  parallel_for(
      n, o.threads,
      [&](int64_t j, int) {
    Rng rng(o.seed, static_cast<uint64_t>(j));
    for (int c = 0; c < l; ++c) Z[j * l + c] = static_cast<float>(rng.normal());
      },
      1024);
  spmm(A, Z.data(), l, l, Y.data(), l, o.threads);
  orthonormalize(m, l, Y);
  if (ctx) ctx->progress(1, total, NAN, "sketch");
  for (int it = 0; it < o.power_iterations; ++it) {
    spmm_t(A, Y.data(), l, l, Z.data(), l, o.threads);
    orthonormalize(n, l, Z);
    spmm(A, Z.data(), l, l, Y.data(), l, o.threads);
    orthonormalize(m, l, Y);
    if (ctx) ctx->progress(2 + it, total, NAN, "power iteration");
  }
  // Z = A^T Q (n x l) is the transpose of B = Q^T A. Z = Uz S W^T gives A ~ Q B = (Q W) S Uz^T.
  spmm_t(A, Y.data(), l, l, Z.data(), l, o.threads);
  std::vector<float> S(l), Uz(static_cast<size_t>(n) * l), Wt(static_cast<size_t>(l) * l);
  if (blas::svd_thin(static_cast<int>(n), l, Z.data(), l, S.data(), Uz.data(), l, Wt.data(), l) != 0)
    fail("E_STATE",
         "truncatedSVD: the SVD of the projected matrix did not converge (values of very different scales?)");
  SvdResult r;
  r.m = static_cast<int32_t>(m);
  r.n = static_cast<int32_t>(n);
  r.k = o.k;
  std::vector<float> QW(static_cast<size_t>(m) * l);
  blas::gemm(blas::Trans::No, blas::Trans::Yes, static_cast<int>(m), l, l, 1.f, Y.data(), l, Wt.data(), l, 0.f,
             QW.data(), l);
  r.U.resize(static_cast<size_t>(m) * o.k);
  for (int64_t i = 0; i < m; ++i) std::copy_n(QW.data() + i * l, o.k, r.U.data() + i * o.k);
  r.S.assign(S.begin(), S.begin() + o.k);
  r.Vt.resize(static_cast<size_t>(o.k) * n);
  for (int64_t j = 0; j < n; ++j)
    for (int c = 0; c < o.k; ++c) r.Vt[c * n + j] = Uz[j * l + c];
  if (ctx) ctx->progress(total, total, NAN, "svd");
  return r;
}

// The rank (option k_name, required: TS caps PureSVD's default at min(users, items)) must be in [1, min(rows, cols)].
SvdOptions read_options(const Napi::Object& o, const CsrView& A, const char* k_name) {
  SvdOptions s;
  int64_t maxk = std::min<int64_t>(A.rows, A.cols);
  if (maxk < 1) fail_arg("truncatedSVD needs a matrix with at least one row and one column");
  s.k = static_cast<int>(int_req(o, k_name, 1, maxk));
  s.oversample = static_cast<int>(int_req(o, "oversample", 0, 100000));
  s.power_iterations = static_cast<int>(int_req(o, "powerIterations", 0, 1000));
  s.seed = static_cast<uint64_t>(int_req(o, "seed", 0, int64_t{1} << 53));
  s.threads = static_cast<int>(int_req(o, "threads", 0, 1024));
  return s;
}

// truncatedSVD(csr, {k, oversample, powerIterations, seed, threads}) -> {U, S, Vt, rows, cols, k}
Napi::Value TruncatedSVD(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView A = csr_arg(info[0], "matrix");
    auto o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    SvdOptions s = read_options(o, A, "k");
    SvdResult r = randomized_svd(A, s, nullptr);
    Napi::Env env = info.Env();
    auto out = Napi::Object::New(env);
    out.Set("U", give_to_js(env, std::move(r.U)));
    out.Set("S", give_to_js(env, std::move(r.S)));
    out.Set("Vt", give_to_js(env, std::move(r.Vt)));
    out.Set("rows", Napi::Number::New(env, r.m));
    out.Set("cols", Napi::Number::New(env, r.n));
    out.Set("k", Napi::Number::New(env, r.k));
    return out;
  });
}

class PureSvdModel : public FactorModel {
 public:
  bool binary = false;
  // Fold-in: p = r V, scores V p (the training users' U S rows are exactly this projection of their rows).
  bool fold_in(const int32_t* its, const float* values, int n, float* p_out, float* bu_out) const override {
    for (int q = 0; q < n; ++q)
      blas::axpy(factors, values && !binary ? values[q] : 1.f, V.data() + static_cast<int64_t>(its[q]) * factors,
                 p_out);
    *bu_out = 0.f;
    return true;
  }
};

// fitPureSVD(csr, {factors, oversample, powerIterations, binary, seed, threads}, runOptions)
Napi::Value FitPureSVD(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView A = csr_fit_arg(info[0], "train", info[2]);
    auto o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    SvdOptions s = read_options(o, A, "factors");
    bool binary = bool_req(o, "binary");
    if (binary) A.data = nullptr;
    auto run = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    {
      const double l = s.k + s.oversample;
      check_memory("PureSVD", 4 * (3 * (static_cast<double>(A.rows) + A.cols) * l + 2 * l * l),
                   "the randomized SVD's workspace ((users + items) x (factors + oversample) floats, three times)",
                   max_memory_arg(o), "use fewer factors");
    }
    return run_fit(info, run,
                   [A, s, binary](FitContext& ctx) -> std::shared_ptr<Model> {
                     SvdResult r = randomized_svd(A, s, &ctx);
                     auto m = std::make_shared<PureSvdModel>();
                     m->kind_name = "PureSVD";
                     m->binary = binary;
                     m->users = A.rows;
                     m->items = A.cols;
                     m->factors = s.k;
                     m->U = std::move(r.U);
                     for (int64_t u = 0; u < A.rows; ++u)
                       for (int c = 0; c < s.k; ++c) m->U[u * s.k + c] *= r.S[c];
                     m->V.resize(static_cast<size_t>(A.cols) * s.k);
                     for (int64_t j = 0; j < A.cols; ++j)
                       for (int c = 0; c < s.k; ++c) m->V[j * s.k + c] = r.Vt[c * A.cols + j];
                     m->mark_known(A);
                     return m;
                   },
                   {info[0]});
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("truncatedSVD", Napi::Function::New(env, TruncatedSVD));
  exports.Set("fitPureSVD", Napi::Function::New(env, FitPureSVD));
}

std::shared_ptr<Model> restore_puresvd(StateReader& s) {
  auto m = std::make_shared<PureSvdModel>();
  restore_factor_state(*m, s, true);
  m->binary = s.bool_param("binary");
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(puresvd, init);
RECSYS_REGISTER_RESTORER(PureSVD, restore_puresvd);

}  // namespace recsys
