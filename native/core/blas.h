// The BLAS layer: row-major dense kernels used by every model. With RECSYS_USE_OPENBLAS the calls go to
// OpenBLAS; otherwise to the built-in kernels in blas.cc (also compiled in OpenBLAS builds as blas::ref, so tests
// can compare the two). OpenBLAS runs single-threaded by default: our own parallel loops (threads.h) own the
// cores, and only a large single call outside them (EASE's Gram matrix, say) widens it with BlasThreads.
#pragma once
#include <cstdint>
#include <string>

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

// Small vector helpers, inline so model loops vectorize.
// dot keeps 16 (then 4) partial sums: a single running sum is a serial dependency chain the compiler may not reorder
// (no -ffast-math), which made SGD's per-rating dot products latency-bound; 16 lanes vectorize.
inline float dot(const float* a, const float* b, int n) {
  float acc[16] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  int i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  for (int j = 0; j < 8; ++j) acc[j] += acc[j + 8];
  for (int j = 0; j < 4; ++j) acc[j] += acc[j + 4];
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j) acc[j] += a[i + j] * b[i + j];
  float s = (acc[0] + acc[2]) + (acc[1] + acc[3]);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}
inline void axpy(int n, float alpha, const float* x, float* y) {
  for (int i = 0; i < n; ++i) y[i] += alpha * x[i];
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
void gemv(Trans ta, int m, int n, float alpha, const float* A, int lda, const float* x, float beta, float* y);
void syrk_t(int n, int m, float alpha, const float* A, int lda, float beta, float* C, int ldc);
int potrf_lower(int n, float* A, int lda);
void potrs_lower(int n, int nrhs, const float* L, int lda, float* B, int ldb);
}  // namespace ref

}  // namespace recsys::blas
