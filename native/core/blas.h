// The BLAS layer: row-major dense kernels used by every model. With RECSYS_USE_OPENBLAS the calls go to
// OpenBLAS; otherwise to the built-in kernels in blas.cc (also compiled in OpenBLAS builds as blas::ref, so tests
// can compare the two). OpenBLAS runs single-threaded by default: our own parallel loops (threads.h) own the
// cores, and only a large single call outside them (EASE's Gram matrix, say) widens it with BlasThreads.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>

#include "core/dispatch.h"

namespace recsys::blas {

enum class Trans { No, Yes };

// C(m x n) = alpha * op(A)(m x k) * op(B)(k x n) + beta * C, all row-major with leading dimensions.
void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc);
// y = alpha * op(A) x + beta * y, A is m x n row-major.
void gemv(Trans ta, int m, int n, float alpha, const float* A, int lda, const float* x, float beta, float* y);
// C(n x n) = alpha * A^T A + beta * C for A (m x n, row-major); both triangles of C are filled.
void syrk_t(int n, int m, float alpha, const float* A, int lda, float beta, float* C, int ldc);
// Cholesky A = L L^T of a symmetric positive definite n x n row-major matrix; L is left in the lower triangle
// (the strict upper triangle is left as it was). Returns 0, or i > 0 when the leading minor of order i is not
// positive definite.
int potrf_lower(int n, float* A, int lda);
// Solves A x = b for nrhs right-hand sides given potrf_lower's factor. B holds nrhs vectors of length n, vector j
// at B + j * ldb; each is overwritten with its solution.
void potrs_lower(int n, int nrhs, const float* L, int lda, float* B, int ldb);

// Inverse of a symmetric positive definite matrix from potrf_lower's factor: A (holding L in its lower
// triangle) is overwritten by the full symmetric inverse, both triangles. Returns 0, or i > 0 when L(i,i) is 0.
int potri_lower(int n, float* A, int lda);
// Blocked versions of potrf_lower / potri_lower for long single calls that must stay cancellable: `between` is
// called between blocks (each block is a few hundred ms of work at most, usually far less) and may throw to stop
// the call (FitContext::check_cancelled). Level-3 calls (gemm) do the work, so the speed is close to LAPACK's. For
// n <= block they are single potrf_lower / potri_lower calls. potrf_lower_blocked also overwrites the strict upper
// triangle of the diagonal blocks; potri_lower_blocked expects potrf_lower[_blocked]'s factor.
int potrf_lower_blocked(int n, float* A, int lda, const std::function<void()>& between, int block = 256);
int potri_lower_blocked(int n, float* A, int lda, const std::function<void()>& between, int block = 256);
// x of A x = b for a symmetric positive semi-definite n x n A (row-major, lower triangle read; finite entries), in
// double, for the one-user systems of a fold-in that float cannot hold (a confidence of 1e8 swamps Y^T Y in float;
// an explicit fold-in without regularization is singular for a user with fewer items than factors). A is scaled
// to max |a_ij| = 1; when Cholesky meets a pivot below its rounding error it retries with a ridge tau I, tau = 1e-10,
// 1e-8, ..., 1, n (the last makes the scaled A diagonally dominant), taking the first whose x is finite in float:
// for a singular system that is close to the minimum-norm solution. Returns the ridge used relative to max |a_ij| (0: none), or
// -1 with x = 0 when A = 0 or no x fits float. About n^3 / 6 multiply-adds per try.
double solve_psd_ridged(int n, const double* A, const double* b, float* x);
// C = alpha A^T A + beta C as syrk_t, over row chunks of A with `between` after each chunk.
void syrk_t_blocked(int n, int m, float alpha, const float* A, int lda, float beta, float* C, int ldc,
                    const std::function<void()>& between);
// Thin QR of A (m x n, m >= n, row-major): A is overwritten by Q (m x n, orthonormal columns; the first j span
// A's first j columns). Householder reflections; the compiled backend uses Cholesky QR2 instead on tall, well
// conditioned matrices (level-3 BLAS, several times faster). Returns 0.
int qr_q(int m, int n, float* A, int lda);
// Thin SVD of A (m x n, m >= n, row-major): A = U diag(S) Vt with U m x n (ldu), S descending (n), Vt n x n
// (ldvt). A is destroyed. Returns 0, or > 0 when the iteration did not converge.
int svd_thin(int m, int n, float* A, int lda, float* S, float* U, int ldu, float* Vt, int ldvt);

// Small vector helpers, always inlined so model loops vectorize (at the ISA of the RECSYS_KERNEL clone they are in;
// out of line, one baseline copy would serve every clone). dot keeps 16 partial sums (a fixed order, so the
// result does not depend on the vector width) because a single float accumulator cannot be vectorized.
// K > 0 fixes the length at compile time (n is then ignored): the loops unroll fully and short vectors stay in
// registers; the result is the same as with K = 0 and n = K.
template <int K = 0>
RECSYS_INLINE float dot(const float* a, const float* b, int n) {
  const int len = K > 0 ? K : n;
  float acc[16] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  int i = 0;
  for (; i + 16 <= len; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  float s = 0.f;
  for (; i < len; ++i) s += a[i] * b[i];
  for (int j = 0; j < 8; ++j) acc[j] += acc[j + 8];
  for (int j = 0; j < 4; ++j) acc[j] += acc[j + 4];
  return s + ((acc[0] + acc[2]) + (acc[1] + acc[3]));
}
template <int K = 0>
RECSYS_INLINE void axpy(int n, float alpha, const float* x, float* y) {
  const int len = K > 0 ? K : n;
  for (int i = 0; i < len; ++i) y[i] += alpha * x[i];
}
// Calls f(std::integral_constant<int, K>{}) with K = k for the common factor counts (32, 64, 128) and K = 0
// otherwise, so a per-row kernel templated on K runs with compile-time lengths where it matters.
template <typename F>
decltype(auto) with_factors(int k, F&& f) {
  switch (k) {
    case 32:
      return f(std::integral_constant<int, 32>{});
    case 64:
      return f(std::integral_constant<int, 64>{});
    case 128:
      return f(std::integral_constant<int, 128>{});
    default:
      return f(std::integral_constant<int, 0>{});
  }
}

// Which implementation is compiled in: "openblas 0.3.21 (...)" or "builtin".
std::string backend();
bool using_openblas();
// Threads OpenBLAS may use for one call; 1 by default. No effect on the built-in kernels.
void set_threads(int n);
int get_threads();
// Widens OpenBLAS to n threads for the scope of one large call made outside our own parallel loops.
class BlasThreads {
 public:
  explicit BlasThreads(int n);
  ~BlasThreads();
  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;

 private:
  int previous_;
};

// The built-in kernels, always compiled: the fallback, and the reference the OpenBLAS path is tested against.
namespace ref {
void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc);
void gemv(Trans ta, int m, int n, float alpha, const float* A, int lda, const float* x, float beta, float* y) noexcept;
void syrk_t(int n, int m, float alpha, const float* A, int lda, float beta, float* C, int ldc) noexcept;
int potrf_lower(int n, float* A, int lda);
void potrs_lower(int n, int nrhs, const float* L, int lda, float* B, int ldb);
int potri_lower(int n, float* A, int lda);
int qr_q(int m, int n, float* A, int lda);
int svd_thin(int m, int n, float* A, int lda, float* S, float* U, int ldu, float* Vt, int ldvt);
}  // namespace ref

}  // namespace recsys::blas
