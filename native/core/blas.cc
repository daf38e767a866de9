#include "core/blas.h"

#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "core/common.h"

#ifdef RECSYS_USE_OPENBLAS
#include <cblas.h>
extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void spotrs_(const char* uplo, const int* n, const int* nrhs, const float* a, const int* lda, float* b, const int* ldb,
             int* info);
}
#endif

namespace recsys::blas {

// ---------------------------------------------------------------------------------------------------------
// Built-in kernels. Straightforward loops ordered so the innermost one is contiguous and vectorizes; blocked
// over k for cache reuse in gemm. Accumulation is in float, as in BLAS.
namespace ref {

void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  for (int i = 0; i < m; ++i) {
    float* c = C + static_cast<int64_t>(i) * ldc;
    if (beta == 0.f) std::fill(c, c + n, 0.f);
    else if (beta != 1.f) for (int j = 0; j < n; ++j) c[j] *= beta;
  }
  if (k == 0 || alpha == 0.f) return;
  auto a_at = [&](int i, int p) { return ta == Trans::No ? A[static_cast<int64_t>(i) * lda + p] : A[static_cast<int64_t>(p) * lda + i]; };
  if (tb == Trans::No) {
    // C[i,:] += alpha * A[i,p] * B[p,:]  (B rows contiguous)
    constexpr int KB = 256;
    for (int p0 = 0; p0 < k; p0 += KB) {
      int p1 = std::min(k, p0 + KB);
      for (int i = 0; i < m; ++i) {
        float* c = C + static_cast<int64_t>(i) * ldc;
        for (int p = p0; p < p1; ++p) {
          float a = alpha * a_at(i, p);
          if (a == 0.f) continue;
          const float* b = B + static_cast<int64_t>(p) * ldb;
          for (int j = 0; j < n; ++j) c[j] += a * b[j];
        }
      }
    }
  } else {
    // C[i,j] += alpha * dot(A[i,:], B[j,:])  (B^T: rows of B are columns of op(B))
    std::vector<float> arow(k);
    for (int i = 0; i < m; ++i) {
      for (int p = 0; p < k; ++p) arow[p] = a_at(i, p);
      float* c = C + static_cast<int64_t>(i) * ldc;
      for (int j = 0; j < n; ++j) c[j] += alpha * dot(arow.data(), B + static_cast<int64_t>(j) * ldb, k);
    }
  }
}

void gemv(Trans ta, int m, int n, float alpha, const float* A, int lda, const float* x, float beta, float* y) {
  int ylen = ta == Trans::No ? m : n;
  for (int i = 0; i < ylen; ++i) y[i] = beta == 0.f ? 0.f : beta * y[i];
  if (ta == Trans::No) {
    for (int i = 0; i < m; ++i) y[i] += alpha * dot(A + static_cast<int64_t>(i) * lda, x, n);
  } else {
    for (int i = 0; i < m; ++i) axpy(n, alpha * x[i], A + static_cast<int64_t>(i) * lda, y);
  }
}

void syrk_t(int n, int m, float alpha, const float* A, int lda, float beta, float* C, int ldc) {
  // Lower triangle by rank-1 updates over the rows of A, then mirrored.
  for (int i = 0; i < n; ++i) {
    float* c = C + static_cast<int64_t>(i) * ldc;
    for (int j = 0; j <= i; ++j) c[j] = beta == 0.f ? 0.f : beta * c[j];
  }
  for (int r = 0; r < m; ++r) {
    const float* a = A + static_cast<int64_t>(r) * lda;
    for (int i = 0; i < n; ++i) {
      float ai = alpha * a[i];
      if (ai == 0.f) continue;
      float* c = C + static_cast<int64_t>(i) * ldc;
      for (int j = 0; j <= i; ++j) c[j] += ai * a[j];
    }
  }
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) C[static_cast<int64_t>(i) * ldc + j] = C[static_cast<int64_t>(j) * ldc + i];
}

int potrf_lower(int n, float* A, int lda) {
  // Cholesky-Crout, row by row, accumulating in double for stability on ill-conditioned Gram matrices.
  for (int j = 0; j < n; ++j) {
    float* aj = A + static_cast<int64_t>(j) * lda;
    double d = aj[j];
    for (int p = 0; p < j; ++p) d -= static_cast<double>(aj[p]) * aj[p];
    if (!(d > 0.0) || !std::isfinite(d)) return j + 1;
    float ljj = static_cast<float>(std::sqrt(d));
    aj[j] = ljj;
    for (int i = j + 1; i < n; ++i) {
      float* ai = A + static_cast<int64_t>(i) * lda;
      double s = ai[j];
      for (int p = 0; p < j; ++p) s -= static_cast<double>(ai[p]) * aj[p];
      ai[j] = static_cast<float>(s / ljj);
    }
  }
  return 0;
}

void potrs_lower(int n, int nrhs, const float* L, int lda, float* B, int ldb) {
  for (int r = 0; r < nrhs; ++r) {
    float* b = B + static_cast<int64_t>(r) * ldb;
    for (int i = 0; i < n; ++i) {  // L y = b
      const float* li = L + static_cast<int64_t>(i) * lda;
      double s = b[i];
      for (int p = 0; p < i; ++p) s -= static_cast<double>(li[p]) * b[p];
      b[i] = static_cast<float>(s / li[i]);
    }
    for (int i = n - 1; i >= 0; --i) {  // L^T x = y
      double s = b[i];
      for (int p = i + 1; p < n; ++p) s -= static_cast<double>(L[static_cast<int64_t>(p) * lda + i]) * b[p];
      b[i] = static_cast<float>(s / L[static_cast<int64_t>(i) * lda + i]);
    }
  }
}

}  // namespace ref

// ---------------------------------------------------------------------------------------------------------
namespace {
std::atomic<int> g_threads{1};
}

#ifdef RECSYS_USE_OPENBLAS
void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, ta == Trans::No ? CblasNoTrans : CblasTrans, tb == Trans::No ? CblasNoTrans : CblasTrans,
              m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
void gemv(Trans ta, int m, int n, float alpha, const float* A, int lda, const float* x, float beta, float* y) {
  if (m == 0 || n == 0) {
    ref::gemv(ta, m, n, alpha, A, lda, x, beta, y);
    return;
  }
  cblas_sgemv(CblasRowMajor, ta == Trans::No ? CblasNoTrans : CblasTrans, m, n, alpha, A, lda, x, 1, beta, y, 1);
}
void syrk_t(int n, int m, float alpha, const float* A, int lda, float beta, float* C, int ldc) {
  if (n == 0) return;
  if (m == 0) {
    ref::syrk_t(n, m, alpha, A, lda, beta, C, ldc);
    return;
  }
  cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, n, m, alpha, A, lda, beta, C, ldc);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) C[static_cast<int64_t>(i) * ldc + j] = C[static_cast<int64_t>(j) * ldc + i];
}
int potrf_lower(int n, float* A, int lda) {
  // Row-major lower == column-major upper.
  if (n == 0) return 0;
  int info = 0;
  const char uplo = 'U';
  spotrf_(&uplo, &n, A, &lda, &info);
  return info < 0 ? -info : info;
}
void potrs_lower(int n, int nrhs, const float* L, int lda, float* B, int ldb) {
  if (n == 0 || nrhs == 0) return;
  int info = 0;
  const char uplo = 'U';
  spotrs_(&uplo, &n, &nrhs, L, &lda, B, &ldb, &info);
}
std::string backend() { return std::string("openblas ") + RECSYS_BLAS_VERSION; }
bool using_openblas() { return true; }
void set_threads(int n) {
  g_threads = std::max(1, n);
  openblas_set_num_threads(g_threads);
}
#else
void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  ref::gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
void gemv(Trans ta, int m, int n, float alpha, const float* A, int lda, const float* x, float beta, float* y) {
  ref::gemv(ta, m, n, alpha, A, lda, x, beta, y);
}
void syrk_t(int n, int m, float alpha, const float* A, int lda, float beta, float* C, int ldc) {
  ref::syrk_t(n, m, alpha, A, lda, beta, C, ldc);
}
int potrf_lower(int n, float* A, int lda) { return ref::potrf_lower(n, A, lda); }
void potrs_lower(int n, int nrhs, const float* L, int lda, float* B, int ldb) {
  ref::potrs_lower(n, nrhs, L, lda, B, ldb);
}
std::string backend() { return "builtin"; }
bool using_openblas() { return false; }
void set_threads(int n) { g_threads = std::max(1, n); }
#endif

int get_threads() { return g_threads; }

BlasThreads::BlasThreads(int n) : previous_(get_threads()) { set_threads(n); }
BlasThreads::~BlasThreads() { set_threads(previous_); }

// ---------------------------------------------------------------------------------------------------------
// JS test hooks: _blas.<op>(useRef, ...) runs one kernel through OpenBLAS or the built-in path, so the test
// suite can check both against a plain TS reference.
namespace {
Trans trans_arg(const Napi::Value& v) { return v.ToBoolean().Value() ? Trans::Yes : Trans::No; }

Napi::Value JsGemm(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    bool use_ref = info[0].ToBoolean().Value();
    Trans ta = trans_arg(info[1]), tb = trans_arg(info[2]);
    int m = static_cast<int>(int_arg(info[3], "m", 0, 1 << 20));
    int n = static_cast<int>(int_arg(info[4], "n", 0, 1 << 20));
    int k = static_cast<int>(int_arg(info[5], "k", 0, 1 << 20));
    auto A = typed_array<const float>(info[6], "A");
    auto B = typed_array<const float>(info[7], "B");
    auto C = typed_array<float>(info[8], "C");
    float alpha = static_cast<float>(number_arg(info[9], "alpha"));
    float beta = static_cast<float>(number_arg(info[10], "beta"));
    int lda = ta == Trans::No ? k : m, ldb = tb == Trans::No ? n : k;
    if (A.size < static_cast<size_t>(m) * k || B.size < static_cast<size_t>(k) * n || C.size < static_cast<size_t>(m) * n)
      fail_arg("gemm: array sizes do not match m, n, k");
    (use_ref ? ref::gemm : gemm)(ta, tb, m, n, k, alpha, A.data, std::max(1, lda), B.data, std::max(1, ldb), beta,
                                 C.data, std::max(1, n));
    return info.Env().Undefined();
  });
}

Napi::Value JsSyrk(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    bool use_ref = info[0].ToBoolean().Value();
    int n = static_cast<int>(int_arg(info[1], "n", 1, 1 << 16));
    int m = static_cast<int>(int_arg(info[2], "m", 0, 1 << 24));
    auto A = typed_array<const float>(info[3], "A");
    auto C = typed_array<float>(info[4], "C");
    if (A.size < static_cast<size_t>(m) * n || C.size < static_cast<size_t>(n) * n) fail_arg("syrk: array sizes do not match");
    (use_ref ? ref::syrk_t : syrk_t)(n, m, 1.f, A.data, n, 0.f, C.data, n);
    return info.Env().Undefined();
  });
}

Napi::Value JsCholSolve(const Napi::CallbackInfo& info) {
  // Solves A X = B (B: nrhs vectors of length n); returns potrf's status.
  return guard(info, [&]() -> Napi::Value {
    bool use_ref = info[0].ToBoolean().Value();
    int n = static_cast<int>(int_arg(info[1], "n", 1, 1 << 16));
    auto A = typed_array<float>(info[2], "A");
    auto B = typed_array<float>(info[3], "B");
    if (A.size < static_cast<size_t>(n) * n || B.size % n != 0) fail_arg("cholSolve: array sizes do not match");
    int status = (use_ref ? ref::potrf_lower : potrf_lower)(n, A.data, n);
    if (status == 0) (use_ref ? ref::potrs_lower : potrs_lower)(n, static_cast<int>(B.size / n), A.data, n, B.data, n);
    return Napi::Number::New(info.Env(), status);
  });
}

Napi::Value JsGemv(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    bool use_ref = info[0].ToBoolean().Value();
    Trans ta = trans_arg(info[1]);
    int m = static_cast<int>(int_arg(info[2], "m", 0, 1 << 24));
    int n = static_cast<int>(int_arg(info[3], "n", 0, 1 << 24));
    auto A = typed_array<const float>(info[4], "A");
    auto x = typed_array<const float>(info[5], "x");
    auto y = typed_array<float>(info[6], "y");
    size_t xl = ta == Trans::No ? n : m, yl = ta == Trans::No ? m : n;
    if (A.size < static_cast<size_t>(m) * n || x.size < xl || y.size < yl) fail_arg("gemv: array sizes do not match");
    (use_ref ? ref::gemv : gemv)(ta, m, n, 1.f, A.data, std::max(1, n), x.data, 0.f, y.data);
    return info.Env().Undefined();
  });
}

void init(Napi::Env env, Napi::Object exports) {
  set_threads(1);
  auto o = Napi::Object::New(env);
  o.Set("gemm", Napi::Function::New(env, JsGemm));
  o.Set("gemv", Napi::Function::New(env, JsGemv));
  o.Set("syrk", Napi::Function::New(env, JsSyrk));
  o.Set("cholSolve", Napi::Function::New(env, JsCholSolve));
  exports.Set("_blas", o);
}
}  // namespace

RECSYS_REGISTER_EXPORTS(blas, init);

}  // namespace recsys::blas
