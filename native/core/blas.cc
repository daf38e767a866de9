#include "core/blas.h"

#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "core/common.h"

#ifdef RECSYS_USE_OPENBLAS
#include <cblas.h>
extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void spotrs_(const char* uplo, const int* n, const int* nrhs, const float* a, const int* lda, float* b, const int* ldb,
             int* info);
void spotri_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void strtri_(const char* uplo, const char* diag, const int* n, float* a, const int* lda, int* info);
void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work, const int* lwork,
             int* info);
void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau, float* work,
             const int* lwork, int* info);
void sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u, const int* ldu,
             float* vt, const int* ldvt, float* work, const int* lwork, int* iwork, int* info);
}
#endif

namespace recsys::blas {

// ---------------------------------------------------------------------------------------------------------
// Built-in kernels. Straightforward loops ordered so the innermost one is contiguous and vectorizes; blocked
// over k for cache reuse in gemm. Accumulation is in float, as in BLAS.
namespace ref {

// The body of gemm; arow: k floats of scratch when tb == Trans::Yes (a kernel must not allocate: core/dispatch.h).
RECSYS_KERNEL void gemm_kernel(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* A, int lda,
                               const float* B, int ldb, float beta, float* C, int ldc, float* arow) noexcept {
  for (int i = 0; i < m; ++i) {
    float* c = C + static_cast<int64_t>(i) * ldc;
    if (beta == 0.f) std::fill(c, c + n, 0.f);
    else if (beta != 1.f)
      for (int j = 0; j < n; ++j) c[j] *= beta;
  }
  if (k == 0 || alpha == 0.f) return;
  auto a_at = [&](int i, int p) {
    return ta == Trans::No ? A[static_cast<int64_t>(i) * lda + p] : A[static_cast<int64_t>(p) * lda + i];
  };
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
    for (int i = 0; i < m; ++i) {
      for (int p = 0; p < k; ++p) arow[p] = a_at(i, p);
      float* c = C + static_cast<int64_t>(i) * ldc;
      for (int j = 0; j < n; ++j) c[j] += alpha * dot(arow, B + static_cast<int64_t>(j) * ldb, k);
    }
  }
}

void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  std::vector<float> arow(tb == Trans::Yes ? k : 0);
  gemm_kernel(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, arow.data());
}

RECSYS_KERNEL void gemv(Trans ta, int m, int n, float alpha, const float* A, int lda, const float* x, float beta,
                        float* y) noexcept {
  int ylen = ta == Trans::No ? m : n;
  for (int i = 0; i < ylen; ++i) y[i] = beta == 0.f ? 0.f : beta * y[i];
  if (ta == Trans::No) {
    for (int i = 0; i < m; ++i) y[i] += alpha * dot(A + static_cast<int64_t>(i) * lda, x, n);
  } else {
    for (int i = 0; i < m; ++i) axpy(n, alpha * x[i], A + static_cast<int64_t>(i) * lda, y);
  }
}

RECSYS_KERNEL void syrk_t(int n, int m, float alpha, const float* A, int lda, float beta, float* C, int ldc) noexcept {
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

int potri_lower(int n, float* A, int lda) {
  // In place with one row of scratch: first L -> L^-1 row by row (row i of L^-1 needs rows < i, already
  // inverted, and row i of L, read before it is overwritten), then L^-T L^-1 row by row ascending (row i of the
  // product needs rows >= i of L^-1, not yet overwritten). Both steps accumulate in double.
  std::vector<double> t(n);
  for (int i = 0; i < n; ++i) {
    float* li = A + static_cast<int64_t>(i) * lda;
    if (li[i] == 0.f) return i + 1;
    std::fill(t.begin(), t.begin() + i, 0.0);
    for (int p = 0; p < i; ++p) {
      double l = li[p];
      if (l == 0.0) continue;
      const float* mp = A + static_cast<int64_t>(p) * lda;
      for (int j = 0; j <= p; ++j) t[j] -= l * mp[j];
    }
    double d = 1.0 / li[i];
    for (int j = 0; j < i; ++j) li[j] = static_cast<float>(t[j] * d);
    li[i] = static_cast<float>(d);
  }
  for (int i = 0; i < n; ++i) {
    std::fill(t.begin(), t.begin() + i + 1, 0.0);
    for (int p = i; p < n; ++p) {
      const float* mp = A + static_cast<int64_t>(p) * lda;
      double a = mp[i];
      if (a == 0.0) continue;
      for (int j = 0; j <= i; ++j) t[j] += a * mp[j];
    }
    float* ri = A + static_cast<int64_t>(i) * lda;
    for (int j = 0; j <= i; ++j) ri[j] = static_cast<float>(t[j]);
  }
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) A[static_cast<int64_t>(i) * lda + j] = A[static_cast<int64_t>(j) * lda + i];
  return 0;
}

int qr_q(int m, int n, float* A, int lda) {
  // Householder QR on a column-major double copy (columns contiguous), then Q = H_0 ... H_{n-1} [I; 0] built
  // by applying the reflections backwards to the first n columns of the identity.
  if (n == 0 || m == 0) return 0;
  const int64_t M = m;
  std::vector<double> W(static_cast<size_t>(M) * n), beta(n, 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) W[j * M + i] = A[static_cast<int64_t>(i) * lda + j];
  for (int j = 0; j < n && j < m; ++j) {
    double* v = W.data() + j * M;
    double norm2 = 0;
    for (int i = j; i < m; ++i) norm2 += v[i] * v[i];
    for (int i = 0; i < j; ++i) v[i] = 0.0;  // R is not kept; column j becomes the reflection vector
    if (norm2 == 0.0) continue;
    double alpha = std::sqrt(norm2);
    double x0 = v[j];
    double r = x0 >= 0 ? -alpha : alpha;
    v[j] = x0 - r;
    double vnorm2 = norm2 - x0 * x0 + v[j] * v[j];
    beta[j] = vnorm2 > 0 ? 2.0 / vnorm2 : 0.0;
    for (int c = j + 1; c < n; ++c) {
      double* w = W.data() + c * M;
      double s = 0;
      for (int i = j; i < m; ++i) s += v[i] * w[i];
      s *= beta[j];
      for (int i = j; i < m; ++i) w[i] -= s * v[i];
    }
  }
  std::vector<double> Q(static_cast<size_t>(M) * n, 0.0);
  for (int j = 0; j < n && j < m; ++j) Q[j * M + j] = 1.0;
  for (int j = std::min(n, m) - 1; j >= 0; --j) {
    if (beta[j] == 0.0) continue;
    const double* v = W.data() + j * M;
    for (int c = j; c < n; ++c) {
      double* q = Q.data() + c * M;
      double s = 0;
      for (int i = j; i < m; ++i) s += v[i] * q[i];
      s *= beta[j];
      for (int i = j; i < m; ++i) q[i] -= s * v[i];
    }
  }
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) A[static_cast<int64_t>(i) * lda + j] = static_cast<float>(Q[j * M + i]);
  return 0;
}

int svd_thin(int m, int n, float* A, int lda, float* S, float* U, int ldu, float* Vt, int ldvt) {
  // One-sided Jacobi (Hestenes) in double: rotate column pairs of A until all are orthogonal; the rotations
  // accumulate in V, the column norms are the singular values. Accurate to working precision even for tiny ones.
  if (n == 0) return 0;
  const int64_t M = m;
  std::vector<double> W(static_cast<size_t>(M) * n), V(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) W[j * M + i] = A[static_cast<int64_t>(i) * lda + j];
  for (int j = 0; j < n; ++j) V[static_cast<int64_t>(j) * n + j] = 1.0;
  // Columns count as orthogonal at a cosine of 1e-13: far below float precision (the output is float), and above
  // the double rounding floor, where a stricter test can cycle on near-degenerate pairs without converging.
  const double eps = 1e-13;
  // Columns below 1e-14 of the matrix norm are rounding residue of zero singular values: rotating against them
  // only stirs the noise (their cosine with anything stays O(1)), so they are left alone.
  double fro2 = 0;
  for (double w : W) fro2 += w * w;
  const double tiny = fro2 * 1e-28;
  bool converged = false;
  for (int sweep = 0; sweep < 80 && !converged; ++sweep) {
    converged = true;
    for (int p = 0; p < n - 1; ++p) {
      for (int q = p + 1; q < n; ++q) {
        double* wp = W.data() + p * M;
        double* wq = W.data() + q * M;
        double a = 0, b = 0, g = 0;
        for (int i = 0; i < m; ++i) {
          a += wp[i] * wp[i];
          b += wq[i] * wq[i];
          g += wp[i] * wq[i];
        }
        if (a <= tiny || b <= tiny || std::abs(g) <= eps * std::sqrt(a * b)) continue;
        converged = false;
        double zeta = (b - a) / (2.0 * g);
        double t = (zeta >= 0 ? 1.0 : -1.0) / (std::abs(zeta) + std::sqrt(1.0 + zeta * zeta));
        double c = 1.0 / std::sqrt(1.0 + t * t), s = c * t;
        for (int i = 0; i < m; ++i) {
          double x = wp[i], y = wq[i];
          wp[i] = c * x - s * y;
          wq[i] = s * x + c * y;
        }
        double* vp = V.data() + static_cast<int64_t>(p) * n;
        double* vq = V.data() + static_cast<int64_t>(q) * n;
        for (int i = 0; i < n; ++i) {
          double x = vp[i], y = vq[i];
          vp[i] = c * x - s * y;
          vq[i] = s * x + c * y;
        }
      }
    }
  }
  std::vector<double> norms(n);
  for (int j = 0; j < n; ++j) {
    double s = 0;
    for (int i = 0; i < m; ++i) s += W[j * M + i] * W[j * M + i];
    norms[j] = std::sqrt(s);
  }
  std::vector<int> order(n);
  for (int j = 0; j < n; ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return norms[x] > norms[y]; });
  // Left vectors; columns of zero singular values are completed to an orthonormal set (as LAPACK does).
  std::vector<double> Ud(static_cast<size_t>(M) * n, 0.0);
  for (int r = 0; r < n; ++r) {
    int j = order[r];
    double* u = Ud.data() + r * M;
    if (norms[j] > 0) {
      for (int i = 0; i < m; ++i) u[i] = W[j * M + i] / norms[j];
      continue;
    }
    for (int e = 0; e < m; ++e) {
      std::fill(u, u + m, 0.0);
      u[e] = 1.0;
      for (int pass = 0; pass < 2; ++pass)
        for (int o = 0; o < r; ++o) {
          const double* w = Ud.data() + o * M;
          double s = 0;
          for (int i = 0; i < m; ++i) s += w[i] * u[i];
          for (int i = 0; i < m; ++i) u[i] -= s * w[i];
        }
      double s = 0;
      for (int i = 0; i < m; ++i) s += u[i] * u[i];
      if (s > 0.25) {
        s = std::sqrt(s);
        for (int i = 0; i < m; ++i) u[i] /= s;
        break;
      }
    }
  }
  for (int r = 0; r < n; ++r) {
    int j = order[r];
    S[r] = static_cast<float>(norms[j]);
    for (int i = 0; i < m; ++i) U[static_cast<int64_t>(i) * ldu + r] = static_cast<float>(Ud[r * M + i]);
    for (int i = 0; i < n; ++i)
      Vt[static_cast<int64_t>(r) * ldvt + i] = static_cast<float>(V[static_cast<int64_t>(j) * n + i]);
  }
  return converged ? 0 : 1;
}

}  // namespace ref

// ---------------------------------------------------------------------------------------------------------
namespace {
std::atomic<int> g_threads{1};
void mirror_lower(int n, float* A, int lda) {
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) A[static_cast<int64_t>(i) * lda + j] = A[static_cast<int64_t>(j) * lda + i];
}
}  // namespace

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
int potri_lower(int n, float* A, int lda) {
  if (n == 0) return 0;
  int info = 0;
  const char uplo = 'U';  // row-major lower == column-major upper
  spotri_(&uplo, &n, A, &lda, &info);
  if (info != 0) return info < 0 ? -info : info;
  mirror_lower(n, A, lda);
  return 0;
}
namespace {
// Cholesky QR, twice (CholeskyQR2, Yamamoto et al. 2015): R from chol(A^T A), A <- A R^-1, repeated once to
// restore orthogonality. All level-3 BLAS, several times faster than Householder on tall-skinny matrices, and as
// accurate when A is well conditioned; declines (returns false) when the first Cholesky factor says cond(A) may
// exceed 1e3, where float32 CholeskyQR2 loses orthogonality. A is then untouched, or (second pass failing)
// replaced by A R^-1, which spans the same leading column spaces, so Householder can take over from either.
bool cholesky_qr2(int m, int n, float* A, int lda) {
  std::vector<float> G(static_cast<size_t>(n) * n);
  const int block = 4096;
  std::vector<float> tmp(static_cast<size_t>(block) * n);
  for (int pass = 0; pass < 2; ++pass) {
    cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, n, m, 1.f, A, lda, 0.f, G.data(), n);
    int info = 0;
    const char uplo = 'U', diag = 'N';  // row-major lower
    spotrf_(&uplo, &n, G.data(), &n, &info);
    if (info != 0) return false;
    if (pass == 0) {
      float lo = G[0], hi = G[0];
      for (int i = 0; i < n; ++i) {
        lo = std::min(lo, std::abs(G[static_cast<int64_t>(i) * n + i]));
        hi = std::max(hi, std::abs(G[static_cast<int64_t>(i) * n + i]));
      }
      if (!(lo > 0.f) || hi / lo > 1e3f) return false;
    }
    // A <- A L^-T as blocks of rows times the explicit inverse (a gemm runs much faster than a tall trsm).
    strtri_(&uplo, &diag, &n, G.data(), &n, &info);
    if (info != 0) return false;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) G[static_cast<int64_t>(i) * n + j] = 0.f;
    for (int r0 = 0; r0 < m; r0 += block) {
      int rows = std::min(block, m - r0);
      float* a = A + static_cast<int64_t>(r0) * lda;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n, n, 1.f, a, lda, G.data(), n, 0.f, tmp.data(), n);
      for (int i = 0; i < rows; ++i)
        std::copy_n(tmp.data() + static_cast<int64_t>(i) * n, n, a + static_cast<int64_t>(i) * lda);
    }
  }
  return true;
}
}  // namespace

int qr_q(int m, int n, float* A, int lda) {
  // CholeskyQR2 when it is safe; else geqrf + orgqr on a column-major copy, whose panels then run down
  // contiguous columns (factoring the row-major array in place as the LQ of A^T walks rows with a stride, several
  // times slower).
  if (m == 0 || n == 0) return 0;
  if (m >= 4 * n && cholesky_qr2(m, n, A, lda)) return 0;
  std::vector<float> C(static_cast<size_t>(m) * n), tau(n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) C[static_cast<int64_t>(j) * m + i] = A[static_cast<int64_t>(i) * lda + j];
  int info = 0, lwork = -1;
  float wq = 0, wq2 = 0;
  sgeqrf_(&m, &n, C.data(), &m, tau.data(), &wq, &lwork, &info);
  sorgqr_(&m, &n, &n, C.data(), &m, tau.data(), &wq2, &lwork, &info);
  lwork = std::max({1, static_cast<int>(wq), static_cast<int>(wq2)});
  std::vector<float> work(lwork);
  sgeqrf_(&m, &n, C.data(), &m, tau.data(), work.data(), &lwork, &info);
  if (info != 0) return info < 0 ? -info : info;
  sorgqr_(&m, &n, &n, C.data(), &m, tau.data(), work.data(), &lwork, &info);
  if (info != 0) return info < 0 ? -info : info;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) A[static_cast<int64_t>(i) * lda + j] = C[static_cast<int64_t>(j) * m + i];
  return 0;
}
int svd_thin(int m, int n, float* A, int lda, float* S, float* U, int ldu, float* Vt, int ldvt) {
  // Row-major A is column-major A^T (n x m) = U' S V'^T, so A = V' S U'^T: LAPACK's U' (n x n, column-major)
  // read row-major is our Vt, and its V'^T (n x m, column-major) read row-major is our U.
  if (n == 0) return 0;
  int info = 0, lwork = -1;
  const char jobz = 'S';
  float wq = 0;
  std::vector<int> iwork(8 * static_cast<size_t>(n));
  sgesdd_(&jobz, &n, &m, A, &lda, S, Vt, &ldvt, U, &ldu, &wq, &lwork, iwork.data(), &info);
  lwork = std::max(1, static_cast<int>(wq) + 1);
  std::vector<float> work(lwork);
  sgesdd_(&jobz, &n, &m, A, &lda, S, Vt, &ldvt, U, &ldu, work.data(), &lwork, iwork.data(), &info);
  return info < 0 ? -info : info;
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
int potri_lower(int n, float* A, int lda) { return ref::potri_lower(n, A, lda); }
int qr_q(int m, int n, float* A, int lda) { return ref::qr_q(m, n, A, lda); }
int svd_thin(int m, int n, float* A, int lda, float* S, float* U, int ldu, float* Vt, int ldvt) {
  return ref::svd_thin(m, n, A, lda, S, U, ldu, Vt, ldvt);
}
std::string backend() { return "builtin"; }
bool using_openblas() { return false; }
void set_threads(int n) { g_threads = std::max(1, n); }
#endif

int get_threads() { return g_threads; }

BlasThreads::BlasThreads(int n) : previous_(get_threads()) { set_threads(n); }
BlasThreads::~BlasThreads() { set_threads(previous_); }

// ---- blocked, cancellable factorizations (see blas.h) ----------------------------------------------------
namespace {
// The inverse of the lower-triangular nb x nb block L (ld) into X (nb x nb, row-major), zeros above.
void tri_inverse_lower(int nb, const float* L, int ld, float* X) {
  std::fill(X, X + static_cast<size_t>(nb) * nb, 0.f);
  for (int j = 0; j < nb; ++j) {
    X[static_cast<size_t>(j) * nb + j] = 1.f / L[static_cast<int64_t>(j) * ld + j];
    for (int i = j + 1; i < nb; ++i) {
      double acc = 0;
      for (int k = j; k < i; ++k)
        acc += static_cast<double>(L[static_cast<int64_t>(i) * ld + k]) * X[static_cast<size_t>(k) * nb + j];
      X[static_cast<size_t>(i) * nb + j] = static_cast<float>(-acc / L[static_cast<int64_t>(i) * ld + i]);
    }
  }
}
inline void call(const std::function<void()>& f) {
  if (f) f();
}
}  // namespace

int potrf_lower_blocked(int n, float* A, int lda, const std::function<void()>& between, int block) {
  const int nb = std::max(8, block);
  if (n <= nb) return potrf_lower(n, A, lda);
  const int rc = 256;  // rows per gemm call: ~rc * nb * n multiply-adds between checks
  std::vector<float> linv(static_cast<size_t>(nb) * nb), tmp(static_cast<size_t>(rc) * nb);
  auto at = [&](int64_t r, int64_t c) { return A + r * lda + c; };
  for (int j0 = 0; j0 < n; j0 += nb) {
    const int jb = std::min(nb, n - j0);
    // Left-looking: block column j0 minus the contributions of the columns already factored.
    if (j0 > 0)
      for (int r0 = j0; r0 < n; r0 += rc) {
        const int rn = std::min(rc, n - r0);
        gemm(Trans::No, Trans::Yes, rn, jb, j0, -1.f, at(r0, 0), lda, at(j0, 0), lda, 1.f, at(r0, j0), lda);
        call(between);
      }
    int info = potrf_lower(jb, at(j0, j0), lda);
    if (info != 0) return j0 + info;
    if (j0 + jb >= n) break;
    // The panel below: X L_jj^T = B, so X = B L_jj^-T.
    tri_inverse_lower(jb, at(j0, j0), lda, linv.data());
    for (int r0 = j0 + jb; r0 < n; r0 += rc) {
      const int rn = std::min(rc, n - r0);
      for (int r = 0; r < rn; ++r) std::copy_n(at(r0 + r, j0), jb, tmp.data() + static_cast<size_t>(r) * jb);
      gemm(Trans::No, Trans::Yes, rn, jb, jb, 1.f, tmp.data(), jb, linv.data(), jb, 0.f, at(r0, j0), lda);
      call(between);
    }
  }
  return 0;
}

int potri_lower_blocked(int n, float* A, int lda, const std::function<void()>& between, int block) {
  const int nb = std::max(8, block);
  if (n <= nb) return potri_lower(n, A, lda);
  auto at = [&](int64_t r, int64_t c) { return A + r * lda + c; };
  const int nblk = (n + nb - 1) / nb;
  auto b0 = [&](int b) { return b * nb; };
  auto bl = [&](int b) { return std::min(nb, n - b * nb); };
  // Inverses of the diagonal blocks of L, before W = L^-1 overwrites them.
  std::vector<float> dinv(static_cast<size_t>(nblk) * nb * nb);
  for (int b = 0; b < nblk; ++b) {
    for (int i = 0; i < bl(b); ++i)
      if (*at(b0(b) + i, b0(b) + i) == 0.f) return b0(b) + i + 1;
    tri_inverse_lower(bl(b), at(b0(b), b0(b)), lda, dinv.data() + static_cast<size_t>(b) * nb * nb);
  }
  call(between);
  std::vector<float> T(static_cast<size_t>(nb) * nb);
  // W = L^-1, block column by block column, in place (lower triangle; the diagonal blocks' upper parts zeroed):
  // W_jj = L_jj^-1, W_ij = -L_ii^-1 sum_{j <= k < i} L_ik W_kj for the row blocks i below, top down.
  for (int j = 0; j < nblk; ++j) {
    const int j0 = b0(j), jb = bl(j);
    const float* dj = dinv.data() + static_cast<size_t>(j) * nb * nb;
    for (int r = 0; r < jb; ++r) std::copy_n(dj + static_cast<size_t>(r) * jb, jb, at(j0 + r, j0));
    for (int i = j + 1; i < nblk; ++i) {
      const int i0 = b0(i), ib = bl(i);
      gemm(Trans::No, Trans::No, ib, jb, i0 - j0, -1.f, at(i0, j0), lda, at(j0, j0), lda, 0.f, T.data(), jb);
      gemm(Trans::No, Trans::No, ib, jb, ib, 1.f, dinv.data() + static_cast<size_t>(i) * nb * nb, ib, T.data(), jb, 0.f,
           at(i0, j0), lda);
      call(between);
    }
  }
  // P = W^T W: first the strictly upper blocks (written above the diagonal, where nothing is kept), then the
  // diagonal blocks, then the lower triangle mirrored from the upper one.
  for (int i = 0; i < nblk; ++i)
    for (int j = i + 1; j < nblk; ++j) {
      const int j0 = b0(j);
      gemm(Trans::Yes, Trans::No, bl(i), bl(j), n - j0, 1.f, at(j0, b0(i)), lda, at(j0, j0), lda, 0.f, at(b0(i), j0),
           lda);
      call(between);
    }
  for (int j = 0; j < nblk; ++j) {
    const int j0 = b0(j), jb = bl(j);
    gemm(Trans::Yes, Trans::No, jb, jb, n - j0, 1.f, at(j0, j0), lda, at(j0, j0), lda, 0.f, T.data(), jb);
    for (int r = 0; r < jb; ++r) std::copy_n(T.data() + static_cast<size_t>(r) * jb, jb, at(j0 + r, j0));
    call(between);
  }
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < r; ++c) *at(r, c) = *at(c, r);
  return 0;
}

namespace {
// Cholesky of the lower triangle of A (n x n row-major, max |a_ij| = 1) in place, row by row in double; false at a
// pivot below the rounding error of the factorization (~n eps): a singular A can leave a pivot of +1e-17 there,
// which would turn b's rounding noise into an arbitrary component of x.
bool cholesky_lower_d(int n, double* A) {
  const double min_pivot = 16.0 * n * std::numeric_limits<double>::epsilon();
  for (int i = 0; i < n; ++i) {
    double* ai = A + static_cast<int64_t>(i) * n;
    for (int j = 0; j <= i; ++j) {
      const double* aj = A + static_cast<int64_t>(j) * n;
      double acc[4] = {0.0, 0.0, 0.0, 0.0};  // partial sums: the loop vectorizes without reassociation flags
      int p = 0;
      for (; p + 4 <= j; p += 4)
        for (int t = 0; t < 4; ++t) acc[t] += ai[p + t] * aj[p + t];
      for (; p < j; ++p) acc[0] += ai[p] * aj[p];
      const double s = ai[j] - ((acc[0] + acc[1]) + (acc[2] + acc[3]));
      if (j < i) {
        ai[j] = s / aj[j];
      } else {
        if (!(s > min_pivot) || !std::isfinite(s)) return false;
        ai[i] = std::sqrt(s);
      }
    }
  }
  return true;
}
}  // namespace

double solve_psd_ridged(int n, const double* A, const double* b, float* x) {
  std::fill(x, x + n, 0.f);
  double scale = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) scale = std::max(scale, std::abs(A[i * n + j]));
  if (!(scale > 0.0) || !std::isfinite(scale)) return -1.0;
  std::vector<double> L(static_cast<size_t>(n) * n), y(static_cast<size_t>(n));
  // The first ridge is far above the pivot floor (and amplifies b's rounding noise by at most ~1e6) yet small next
  // to any eigenvalue that float scores can resolve.
  for (double tau : {0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0, static_cast<double>(n)}) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= i; ++j) L[i * n + j] = A[i * n + j] / scale + (i == j ? tau : 0.0);
    if (!cholesky_lower_d(n, L.data())) continue;
    for (int64_t i = 0; i < n; ++i) {  // L z = b / scale, then L^T y = z
      double s = b[i] / scale;
      for (int64_t p = 0; p < i; ++p) s -= L[i * n + p] * y[p];
      y[i] = s / L[i * n + i];
    }
    for (int64_t i = n - 1; i >= 0; --i) {
      double s = y[i];
      for (int64_t p = i + 1; p < n; ++p) s -= L[p * n + i] * y[p];
      y[i] = s / L[i * n + i];
    }
    bool fits = true;
    for (int i = 0; i < n && fits; ++i) fits = std::isfinite(static_cast<float>(y[i]));
    if (!fits) continue;
    for (int i = 0; i < n; ++i) x[i] = static_cast<float>(y[i]);
    return tau;
  }
  return -1.0;
}

void syrk_t_blocked(int n, int m, float alpha, const float* A, int lda, float beta, float* C, int ldc,
                    const std::function<void()>& between) {
  // ~chunk * n * n multiply-adds between checks: about 4M, and 4 rows at the least.
  const int chunk = static_cast<int>(std::max<int64_t>(4, (int64_t{1} << 22) / std::max<int64_t>(1, int64_t{n} * n)));
  if (m <= chunk || !between) {
    syrk_t(n, m, alpha, A, lda, beta, C, ldc);
    return;
  }
  for (int r0 = 0; r0 < m; r0 += chunk) {
    syrk_t(n, std::min(chunk, m - r0), alpha, A + static_cast<int64_t>(r0) * lda, lda, r0 == 0 ? beta : 1.f, C, ldc);
    between();
  }
}

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
    if (A.size < static_cast<size_t>(m) * k || B.size < static_cast<size_t>(k) * n ||
        C.size < static_cast<size_t>(m) * n)
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
    if (A.size < static_cast<size_t>(m) * n || C.size < static_cast<size_t>(n) * n)
      fail_arg("syrk: array sizes do not match");
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

// inverse(useRef, n, A): A (symmetric positive definite) is overwritten by its inverse; returns the status.
Napi::Value JsInverse(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    bool use_ref = info[0].ToBoolean().Value();
    int n = static_cast<int>(int_arg(info[1], "n", 1, 1 << 16));
    auto A = typed_array<float>(info[2], "A");
    if (A.size < static_cast<size_t>(n) * n) fail_arg("inverse: array size does not match n");
    // blocked: a block size > 0 uses the blocked, cancellable versions (tests compare them with the others).
    int block =
        info.Length() > 3 && !info[3].IsUndefined() ? static_cast<int>(int_arg(info[3], "block", 8, 1 << 16)) : 0;
    int status = block > 0 ? potrf_lower_blocked(n, A.data, n, nullptr, block)
                           : (use_ref ? ref::potrf_lower : potrf_lower)(n, A.data, n);
    if (status == 0)
      status = block > 0 ? potri_lower_blocked(n, A.data, n, nullptr, block)
                         : (use_ref ? ref::potri_lower : potri_lower)(n, A.data, n);
    return Napi::Number::New(info.Env(), status);
  });
}

// qr(useRef, m, n, A): A (m x n) is overwritten by Q; returns the status.
Napi::Value JsQr(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    bool use_ref = info[0].ToBoolean().Value();
    int m = static_cast<int>(int_arg(info[1], "m", 0, 1 << 24));
    int n = static_cast<int>(int_arg(info[2], "n", 0, 1 << 16));
    auto A = typed_array<float>(info[3], "A");
    if (n > m) fail_arg("qr: needs m >= n");
    if (A.size < static_cast<size_t>(m) * n) fail_arg("qr: array size does not match m, n");
    return Napi::Number::New(info.Env(), (use_ref ? ref::qr_q : qr_q)(m, n, A.data, std::max(1, n)));
  });
}

// svd(useRef, m, n, A, S, U, Vt): thin SVD of A (m x n, m >= n; destroyed); returns the status.
Napi::Value JsSvd(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    bool use_ref = info[0].ToBoolean().Value();
    int m = static_cast<int>(int_arg(info[1], "m", 1, 1 << 24));
    int n = static_cast<int>(int_arg(info[2], "n", 1, 1 << 16));
    auto A = typed_array<float>(info[3], "A");
    auto S = typed_array<float>(info[4], "S");
    auto U = typed_array<float>(info[5], "U");
    auto Vt = typed_array<float>(info[6], "Vt");
    if (n > m) fail_arg("svd: needs m >= n");
    if (A.size < static_cast<size_t>(m) * n || S.size < static_cast<size_t>(n) || U.size < static_cast<size_t>(m) * n ||
        Vt.size < static_cast<size_t>(n) * n)
      fail_arg("svd: array sizes do not match m, n");
    return Napi::Number::New(info.Env(),
                             (use_ref ? ref::svd_thin : svd_thin)(m, n, A.data, n, S.data, U.data, n, Vt.data, n));
  });
}

void init(Napi::Env env, Napi::Object exports) {
  set_threads(1);
  auto o = Napi::Object::New(env);
  o.Set("gemm", Napi::Function::New(env, JsGemm));
  o.Set("gemv", Napi::Function::New(env, JsGemv));
  o.Set("syrk", Napi::Function::New(env, JsSyrk));
  o.Set("cholSolve", Napi::Function::New(env, JsCholSolve));
  o.Set("inverse", Napi::Function::New(env, JsInverse));
  o.Set("qr", Napi::Function::New(env, JsQr));
  o.Set("svd", Napi::Function::New(env, JsSvd));
  exports.Set("_blas", o);
}
}  // namespace

RECSYS_REGISTER_EXPORTS(blas, init);

}  // namespace recsys::blas
