// ImplicitALS: weighted matrix factorization for implicit feedback (Hu, Koren, Volinsky 2008). Every observed
// value r gives preference p = [r > 0] with confidence c = 1 + alpha * |r|; every unobserved pair p = 0, c = 1.
// Each half-sweep solves, per user (then per item), (Y^T Y + reg I + Y^T (C_u - I) Y) x = Y^T C_u p_u with
// Y^T Y formed once per half-sweep. The default solver takes a few conjugate-gradient steps warm-started from the
// previous vector (Takacs, Pilaszy, Tikk 2011), touching only the row's own items; `cholesky` solves exactly;
// `block` is iALS++ (Rendle et al. 2021): exact solves of the row's system restricted to blocks of `blockSize`
// coordinates in turn (`blockSweeps` passes), each costing the row's items times blockSize^2 instead of factors^2.
// Frequency-scaled regularization (Rendle et al. 2021, "Revisiting the performance of iALS"): a row with n items
// gets reg * (n + regUnobserved * other rows)^regExponent; regExponent 0 is the plain reg of Hu et al.
#include "models/als.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "core/blas.h"
#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/rng.h"
#include "core/threads.h"

namespace recsys {
namespace {

// The options TS resolved (ts/models/params.ts owns their defaults); zero until read_params / a restorer sets them.
struct AlsParams {
  int factors = 0;
  float reg = 0.f;
  float alpha = 0.f;
  int iterations = 0;
  int cg_steps = 0;
  bool cholesky = false;
  bool block = false;  // the iALS++ block solver
  int block_size = 0;
  int block_sweeps = 0;
  double reg_exponent = 0.0;  // nu: the row's reg is reg * (n + reg_unobserved * other rows)^nu
  double reg_unobserved = 0.0;
  bool binary = false;
  bool loss = false;
  uint64_t seed = 0;
  int threads = 0;
};

// What a row with n interactions adds to reg on the diagonal of its system: reg * (n + a0 * others)^nu - reg, so
// that nu = 0 adds nothing and the system is the one YtY (which holds reg) gives.
RECSYS_INLINE float reg_extra(const AlsParams& p, int64_t n, int64_t others) {
  if (p.reg_exponent == 0.0) return 0.f;
  double w = static_cast<double>(n) + p.reg_unobserved * static_cast<double>(others);
  return static_cast<float>(static_cast<double>(p.reg) * std::pow(w, p.reg_exponent) - p.reg);
}

// Confidence c and c * p of one stored value; binary data counts every stored entry as r = 1.
RECSYS_INLINE void confidence(const CsrView& R, int64_t q, float alpha, float& c, float& cp) {
  float r = R.data ? R.data[q] : 1.f;
  c = 1.f + alpha * std::abs(r);
  cp = r > 0.f ? c : 0.f;
}

// y = A x for a symmetric k x k A, as a sum of rows (contiguous, vectorizes without a reduction).
template <int K = 0>
RECSYS_INLINE void symv(const float* A, const float* x, float* y, int k_) {
  const int k = K > 0 ? K : k_;
  for (int j = 0; j < k; ++j) y[j] = 0.f;
  for (int j = 0; j < k; ++j) blas::axpy<K>(k, x[j], A + static_cast<int64_t>(j) * k, y);
}

struct Scratch {
  std::vector<float> r, p, Ap, A;
  std::function<void()> between;  // a fit's cancellation check inside one long row (large factors), or empty
  explicit Scratch(int k) : r(k), p(k), Ap(k), A(static_cast<size_t>(k) * k) {}
};

// The rows of Y a row's entries read are scattered (Y is 25 MB for 100k users): fetching the row kAhead entries
// ahead hides most of the latency (measured: ~30% less CPU per sweep at 10M interactions).
constexpr int kAhead = 4;
RECSYS_INLINE void prefetch_row(const float* row, int k) {
  for (int j = 0; j < k; j += 16) __builtin_prefetch(row + j);
}

template <int K>
RECSYS_INLINE void cg_steps(const CsrView& R, int32_t b, int32_t e, const float* Y, const float* YtY, int k,
                            float alpha, float dreg, int steps, float* x, float* r, float* p, float* Ap) {
  symv<K>(YtY, x, r, k);
  if (dreg != 0.f) blas::axpy<K>(k, dreg, x, r);
  for (int j = 0; j < k; ++j) r[j] = -r[j];
  for (int32_t q = b; q < e; ++q) {
    if (q + kAhead < e) prefetch_row(Y + static_cast<int64_t>(R.indices[q + kAhead]) * k, k);
    float c, cp;
    confidence(R, q, alpha, c, cp);
    const float* y = Y + static_cast<int64_t>(R.indices[q]) * k;
    blas::axpy<K>(k, cp - (c - 1.f) * blas::dot<K>(y, x, k), y, r);
  }
  for (int j = 0; j < k; ++j) p[j] = r[j];
  float rs = blas::dot<K>(r, r, k);
  for (int it = 0; it < steps && rs >= 1e-20f; ++it) {
    symv<K>(YtY, p, Ap, k);
    if (dreg != 0.f) blas::axpy<K>(k, dreg, p, Ap);
    for (int32_t q = b; q < e; ++q) {
      if (q + kAhead < e) prefetch_row(Y + static_cast<int64_t>(R.indices[q + kAhead]) * k, k);
      float c, cp;
      confidence(R, q, alpha, c, cp);
      if (c == 1.f) continue;
      const float* y = Y + static_cast<int64_t>(R.indices[q]) * k;
      blas::axpy<K>(k, (c - 1.f) * blas::dot<K>(y, p, k), y, Ap);
    }
    float pAp = blas::dot<K>(p, Ap, k);
    if (!(pAp > 0.f)) break;
    float a = rs / pAp;
    blas::axpy<K>(k, a, p, x);
    blas::axpy<K>(k, -a, Ap, r);
    float rs_new = blas::dot<K>(r, r, k);
    if (rs_new < 1e-20f) break;
    float beta = rs_new / rs;
    for (int j = 0; j < k; ++j) p[j] = r[j] + beta * p[j];
    rs = rs_new;
  }
}

// cg_steps on rows [b, e) at compile-time length K (0: any k, in the scratch vectors). The dispatch point: the
// local arrays and cg_steps, inlined here, make one function per K and ISA, with the vectors in registers.
template <int K>
RECSYS_KERNEL void cg_row(const CsrView& R, int32_t b, int32_t e, const float* Y, const float* YtY, int k, float alpha,
                          float dreg, int steps, float* x, Scratch& s) noexcept {
  if constexpr (K > 0) {
    // Local arrays: the compiler knows they alias nothing and keeps them in registers.
    alignas(64) float r[K], p[K], Ap[K], xl[K];
    std::copy(x, x + K, xl);
    cg_steps<K>(R, b, e, Y, YtY, K, alpha, dreg, steps, xl, r, p, Ap);
    std::copy(xl, xl + K, x);
  } else {
    cg_steps<0>(R, b, e, Y, YtY, k, alpha, dreg, steps, x, s.r.data(), s.p.data(), s.Ap.data());
  }
}

// A few CG steps on one row, warm-started from x. YtY includes reg * I; dreg is the row's reg_extra.
void solve_cg(const CsrView& R, int32_t row, const float* Y, const float* YtY, int k, float alpha, float dreg,
              int steps, float* x, Scratch& s) {
  const int32_t b = R.row_begin(row), e = R.row_end(row);
  if (b == e) {
    std::fill(x, x + k, 0.f);
    return;
  }
  blas::with_factors(k, [&](auto kc) { cg_row<decltype(kc)::value>(R, b, e, Y, YtY, k, alpha, dreg, steps, x, s); });
}

// Interactions [q0, q1) into the lower triangle of A and into x: the kernel of solve_exact.
RECSYS_KERNEL void accumulate_exact(const int32_t* items, const float* values, int q0, int q1, const float* Y, int k,
                                    float alpha, float* A, float* x) noexcept {
  for (int q = q0; q < q1; ++q) {
    float r = values ? values[q] : 1.f;
    float c = 1.f + alpha * std::abs(r);
    float cp = r > 0.f ? c : 0.f;
    const float* y = Y + static_cast<int64_t>(items[q]) * k;
    if (c != 1.f)
      for (int i = 0; i < k; ++i) blas::axpy(i + 1, (c - 1.f) * y[i], y, A + static_cast<int64_t>(i) * k);
    blas::axpy(k, cp, y, x);
  }
}

// The exact solution by Cholesky: A = YtY + sum (c - 1) y y^T, b = sum c p y. Interactions come as (items, values)
// so fold-in can share it; values may be null (all ones). False when A is not positive definite in float.
bool solve_exact(const int32_t* items, const float* values, int n, const float* Y, const float* YtY, int k, float alpha,
                 float* x, Scratch& s, float dreg = 0.f) {
  float* A = s.A.data();
  std::copy(YtY, YtY + static_cast<size_t>(k) * k, A);
  if (dreg != 0.f)
    for (int j = 0; j < k; ++j) A[static_cast<int64_t>(j) * k + j] += dreg;
  std::fill(x, x + k, 0.f);
  // ~4 k^2 / 2 multiply-adds between cancellation checks (which throw, so they stay out of the kernel).
  const int chunk = s.between ? 4 : n;
  for (int q = 0; q < n; q += chunk) {
    accumulate_exact(items, values, q, std::min(n, q + chunk), Y, k, alpha, A, x);
    if (s.between && q + chunk < n) s.between();
  }
  if (n == 0) return true;
  for (int i = 0; i < k; ++i)  // mirror the lower triangle built above (potrf reads the lower one only)
    for (int j = i + 1; j < k; ++j) A[static_cast<int64_t>(i) * k + j] = A[static_cast<int64_t>(j) * k + i];
  if (blas::potrf_lower_blocked(k, A, k, s.between) != 0) return false;
  blas::potrs_lower(k, 1, A, k, x, k);
  return true;
}

// The iALS++ subspace solver for one row (Rendle, Krichene, Zhang, Koren 2021). The row's objective
//   x^T (YtY + dreg I) x + sum_q w_q (y_q.x)^2 - 2 sum_q c_q p_q (y_q.x),   w = c - 1
// is minimised exactly over one block B of bs coordinates at a time, the others fixed:
//   (YtY_BB + dreg I + sum_q w_q y_qB y_qB^T) d = -grad_B,  grad_B = YtY_B: x + dreg x_B + sum_q (w_q s_q - c_q p_q) y_qB
// with s_q = y_q.x kept up to date (s += Y_B d). A block costs the row's n items times bs^2 / 2 (the outer products,
// a register-tiled kernel over the gathered rows: the work that dominates) plus bs^3 / 6 (Cholesky) and k bs for
// YtY's slice; a sweep over all blocks n k bs / 2 + k bs^2 / 6 + k^2 instead of the exact n k^2 / 2 + k^3 / 6.
// The row's items are gathered into contiguous rows (Y's rows are scattered), once per row when that fits in L2,
// else a chunk of the block's columns at a time.

// 16 floats: one AVX-512 register, two AVX2 ones, four SSE ones (GCC / Clang vector extension, compiled at the ISA
// of the RECSYS_KERNEL clone it is inlined into).
typedef float v16 __attribute__((vector_size(64)));
// (By reference: a vector passed or returned by value changes the baseline clone's ABI, which GCC warns about.)
RECSYS_INLINE void load16(v16& v, const float* p) { std::memcpy(&v, p, sizeof v); }
RECSYS_INLINE void add16(float* p, const v16& v) {
  v16 a;
  load16(a, p);
  a += v;
  std::memcpy(p, &a, sizeof a);
}

constexpr int kTileRows = 4, kTileCols = 32;
RECSYS_INLINE int round_up(int v, int m) { return (v + m - 1) / m * m; }

// A[r][c] += scale sum_q Z[q][r] Y[q][c] for the rows r < m and the columns c >= r (and some below, down to whole
// tiles) of an m x m block, Z and Y n rows of stride ld, both holding at least round_up(m, 32) readable columns.
template <int NC>  // a tile of 4 rows x 16 NC columns
RECSYS_INLINE void outer_tile(int n, const float* z, const float* y, int ld, float scale, float* a, int lda) {
  v16 acc[kTileRows][NC] = {};
  for (int q = 0; q < n; ++q, z += ld, y += ld) {
    v16 yv[NC];
    for (int c = 0; c < NC; ++c) load16(yv[c], y + 16 * c);
    for (int r = 0; r < kTileRows; ++r) {
      const float zr = z[r];
      for (int c = 0; c < NC; ++c) acc[r][c] += zr * yv[c];
    }
  }
  for (int r = 0; r < kTileRows; ++r)
    for (int c = 0; c < NC; ++c) {
      acc[r][c] *= scale;
      add16(a + static_cast<int64_t>(r) * lda + 16 * c, acc[r][c]);
    }
}
RECSYS_INLINE void outer_products(int n, const float* Z, const float* Y, int ld, int m, float scale, float* A,
                                  int lda) {
  const int mv = round_up(m, 16);
  for (int i0 = 0; i0 < m; i0 += kTileRows) {
    float* a = A + static_cast<int64_t>(i0) * lda;
    int c0 = i0 / 16 * 16;
    for (; c0 + 32 <= mv; c0 += 32) outer_tile<2>(n, Z + i0, Y + c0, ld, scale, a + c0, lda);
    if (c0 < mv) outer_tile<1>(n, Z + i0, Y + c0, ld, scale, a + c0, lda);
  }
}

// out[0, mv) += alpha sum_q coef[q] Y[q][0, mv) for n rows of stride ld, mv a multiple of 16: a gemv along Y's rows
// with the sums in registers (a column of NV vectors at a time), no reduction and no store per row.
template <int NV>
RECSYS_INLINE void combine_rows_nv(int n, const float* coef, const float* Y, int64_t ld, float alpha, float* out) {
  v16 acc[NV] = {}, acc2[NV] = {};  // two sets: FMA latency, not throughput, bounds one chain per vector
  int q = 0;
  for (; q + 2 <= n; q += 2, Y += 2 * ld) {
    const float c = coef[q], c2 = coef[q + 1];
    for (int v = 0; v < NV; ++v) {
      v16 y, y2;
      load16(y, Y + 16 * v);
      load16(y2, Y + ld + 16 * v);
      acc[v] += c * y;
      acc2[v] += c2 * y2;
    }
  }
  if (q < n)
    for (int v = 0; v < NV; ++v) {
      v16 y;
      load16(y, Y + 16 * v);
      acc[v] += coef[q] * y;
    }
  for (int v = 0; v < NV; ++v) {
    acc[v] = (acc[v] + acc2[v]) * alpha;
    add16(out + 16 * v, acc[v]);
  }
}
RECSYS_INLINE void combine_rows(int n, const float* coef, const float* Y, int64_t ld, int mv, float alpha, float* out) {
  int c0 = 0;
  for (; c0 + 64 <= mv; c0 += 64) combine_rows_nv<4>(n, coef, Y + c0, ld, alpha, out + c0);
  switch ((mv - c0) / 16) {
    case 3:
      combine_rows_nv<3>(n, coef, Y + c0, ld, alpha, out + c0);
      break;
    case 2:
      combine_rows_nv<2>(n, coef, Y + c0, ld, alpha, out + c0);
      break;
    case 1:
      combine_rows_nv<1>(n, coef, Y + c0, ld, alpha, out + c0);
      break;
    default:
      break;
  }
}

// a . b over n floats with four vector accumulators (blas::dot keeps one at AVX-512: a latency-bound chain).
RECSYS_INLINE float dot4(const float* a, const float* b, int n) {
  v16 acc[4] = {};
  int i = 0;
  for (; i + 64 <= n; i += 64)
    for (int v = 0; v < 4; ++v) {
      v16 x, y;
      load16(x, a + i + 16 * v);
      load16(y, b + i + 16 * v);
      acc[v] += x * y;
    }
  v16 t = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  float s = 0.f;
  for (int j = 0; j < 16; ++j) s += t[j];
  return s + blas::dot(a + i, b + i, n - i);
}

// Solves A d = b in place (d holds b) for the symmetric positive definite m x m A whose upper triangle is given
// (row-major, lda a multiple of 16 with room for round_up(m, 16) columns); A's upper triangle becomes U with
// A = U^T U. Right-looking, so that every update is a whole-vector axpy along a row; entries left of the diagonal
// are overwritten with values nothing reads. False when A is not positive definite.
RECSYS_INLINE bool cholesky_solve(int m, float* A, int lda, float* d) {
  const int mv = round_up(m, 16);
  for (int j = 0; j < m; ++j) {
    float* aj = A + static_cast<int64_t>(j) * lda;
    if (!(aj[j] > 0.f)) return false;
    const float l = std::sqrt(aj[j]), inv = 1.f / l;
    for (int c = j + 1; c < m; ++c) aj[c] *= inv;
    aj[j] = l;
    for (int i = j + 1; i < m; ++i) {
      float* ai = A + static_cast<int64_t>(i) * lda;
      const float u = aj[i];
      for (int c0 = i / 16 * 16; c0 < mv; c0 += 16) {
        v16 a, b;
        load16(a, ai + c0);
        load16(b, aj + c0);
        a -= u * b;
        std::memcpy(ai + c0, &a, sizeof a);
      }
    }
  }
  for (int j = 0; j < m; ++j) {  // U^T y = b, a row of U at a time
    const float* aj = A + static_cast<int64_t>(j) * lda;
    d[j] /= aj[j];
    for (int c = j + 1; c < m; ++c) d[c] -= aj[c] * d[j];
  }
  for (int i = m - 1; i >= 0; --i) {  // U x = y
    const float* ai = A + static_cast<int64_t>(i) * lda;
    d[i] = (d[i] - blas::dot(ai + i + 1, d + i + 1, m - i - 1)) / ai[i];
  }
  return true;
}

// One row's problem for block_row: the caller sized every buffer (the kernel cannot allocate or throw).
struct BlockRow {
  const float* Y;  // the other side's factors, k per row
  int k;
  const int32_t* idx;  // the row's n items
  int n;
  const float* w;   // c - 1 per item
  const float* cp;  // c p per item
  bool any_w;       // some w != 0 (else the outer products vanish)
  bool uniform;     // every w is w[0]: the outer products of Y scaled by it, and Zg is not used
  const float* G;   // YtY + reg I, k x k with rows of stride ldg (zero padding past k)
  int ldg;
  float dreg;
  int bs, sweeps;
  bool whole;  // Yg / Zg hold all n items' rows (stride ld); else chunks of kChunk items, the block's columns
  int ld;
  float *Yg, *Zg, *s, *t, *A, *d;
  int lda;
};
constexpr int64_t kGatherFloats = int64_t{1} << 21;  // 8 MB per gathered copy and thread at most
constexpr int kChunk = 256;  // rows per outer_products call: the block's columns of a chunk stay in L2

// Z = w Y over the block's (or the whole row's) columns [0, m) of one gathered item.
RECSYS_INLINE void gather_row(const float* __restrict y, float* __restrict yg, float* __restrict zg, float w, int m,
                              bool weighted) {
  std::copy_n(y, m, yg);
  if (weighted)
    for (int j = 0; j < m; ++j) zg[j] = w * y[j];
}

RECSYS_KERNEL bool block_row(const BlockRow& b, float* x) noexcept {
  const int k = b.k, n = b.n, ld = b.ld;
  const bool weighted = b.any_w && !b.uniform;
  // The outer products' left factor and scale: w Y gathered, or Y and the common w.
  const float* Zsrc = weighted ? b.Zg : b.Yg;
  const float scale = weighted ? 1.f : b.w[0];
  if (b.whole) {
    for (int q = 0; q < n; ++q) {
      if (q + kAhead < n) prefetch_row(b.Y + static_cast<int64_t>(b.idx[q + kAhead]) * k, k);
      float* yg = b.Yg + static_cast<int64_t>(q) * ld;
      gather_row(b.Y + static_cast<int64_t>(b.idx[q]) * k, yg, b.Zg + static_cast<int64_t>(q) * ld, b.w[q], k,
                 weighted);
      b.s[q] = dot4(yg, x, k);
    }
  } else {
    for (int q = 0; q < n; ++q) {
      if (q + kAhead < n) prefetch_row(b.Y + static_cast<int64_t>(b.idx[q + kAhead]) * k, k);
      b.s[q] = blas::dot(b.Y + static_cast<int64_t>(b.idx[q]) * k, x, k);
    }
  }
  float* A = b.A;
  float* d = b.d;
  const int lda = b.lda;
  for (int sweep = 0; sweep < b.sweeps; ++sweep) {
    for (int j0 = 0; j0 < k; j0 += b.bs) {
      const int m = std::min(b.bs, k - j0), mp = round_up(m, kTileCols);
      for (int i = 0; i < mp; ++i) std::fill_n(A + static_cast<int64_t>(i) * lda, mp, 0.f);
      // d = -grad_B = -(G_B: x) - dreg x_B + sum_q t_q y_qB, t = c p - w s (G symmetric: G_B: x = sum_c x_c G_cB)
      const int mv = round_up(m, 16);
      for (int i = 0; i < mv; ++i) d[i] = i < m ? -b.dreg * x[j0 + i] : 0.f;
      combine_rows(k, x, b.G + j0, b.ldg, mv, -1.f, d);
      for (int q = 0; q < n; ++q) b.t[q] = b.cp[q] - b.w[q] * b.s[q];
      if (b.whole) {
        for (int q0 = 0; q0 < n && b.any_w; q0 += kChunk) {
          const int64_t off = static_cast<int64_t>(q0) * ld + j0;
          outer_products(std::min(kChunk, n - q0), Zsrc + off, b.Yg + off, ld, m, scale, A, lda);
        }
        combine_rows(n, b.t, b.Yg + j0, ld, mv, 1.f, d);
      } else {
        for (int q0 = 0; q0 < n; q0 += kChunk) {
          const int cn = std::min(kChunk, n - q0);
          for (int q = 0; q < cn; ++q) {
            // a block's slice of a row is a line or two: many rows ahead keep enough fetches in flight
            if (q + 4 * kAhead < cn) prefetch_row(b.Y + static_cast<int64_t>(b.idx[q0 + q + 4 * kAhead]) * k + j0, m);
            float* yg = b.Yg + static_cast<int64_t>(q) * ld;
            gather_row(b.Y + static_cast<int64_t>(b.idx[q0 + q]) * k + j0, yg, b.Zg + static_cast<int64_t>(q) * ld,
                       b.w[q0 + q], m, weighted);
          }
          if (b.any_w) outer_products(cn, Zsrc, b.Yg, ld, m, scale, A, lda);
          combine_rows(cn, b.t + q0, b.Yg, ld, mv, 1.f, d);
        }
      }
      for (int i = 0; i < m; ++i) {
        const float* g = b.G + static_cast<int64_t>(j0 + i) * b.ldg + j0;
        float* a = A + static_cast<int64_t>(i) * lda;
        for (int j = i; j < m; ++j) a[j] += g[j];
        a[i] += b.dreg;
      }
      if (!cholesky_solve(m, A, lda, d)) return false;
      for (int i = 0; i < m; ++i) x[j0 + i] += d[i];
      if (b.whole) {
        for (int q = 0; q < n; ++q) b.s[q] += blas::dot(b.Yg + static_cast<int64_t>(q) * ld + j0, d, m);
      } else {
        for (int q = 0; q < n; ++q) b.s[q] += blas::dot(b.Y + static_cast<int64_t>(b.idx[q]) * k + j0, d, m);
      }
    }
  }
  return true;
}

struct BlockScratch {
  std::vector<float> Yg, Zg, s, t, w, cp, A, d;
};

// YtY with rows padded to a multiple of 16 plus a tile's width (zeros), as block_row reads it.
int padded_ld(int k) { return round_up(k + kTileCols, 16); }
std::vector<float> pad_rows(const std::vector<float>& G, int k) {
  const int ld = padded_ld(k);
  std::vector<float> P(static_cast<size_t>(k) * ld, 0.f);
  for (int i = 0; i < k; ++i)
    std::copy_n(G.data() + static_cast<size_t>(i) * k, k, P.data() + static_cast<size_t>(i) * ld);
  return P;
}

// YtYp: YtY + reg I as pad_rows gives it.
bool solve_block(const CsrView& R, int32_t row, const float* Y, const float* YtYp, int k, float alpha, float dreg,
                 int bs, int sweeps, float* x, BlockScratch& S) {
  const int32_t b = R.row_begin(row), e = R.row_end(row);
  const int n = e - b;
  if (n == 0) {
    std::fill(x, x + k, 0.f);
    return true;
  }
  S.w.resize(n);
  S.cp.resize(n);
  S.s.resize(n);
  S.t.resize(n);
  bool any_w = false, uniform = true;
  for (int q = 0; q < n; ++q) {
    float c, cp;
    confidence(R, b + q, alpha, c, cp);
    S.w[q] = c - 1.f;
    S.cp[q] = cp;
    any_w = any_w || S.w[q] != 0.f;
    uniform = uniform && S.w[q] == S.w[0];
  }
  const bool weighted = any_w && !uniform;
  // Gathered rows are padded so that the last tile of a block may read past k.
  const int mpad = round_up(std::min(bs, k), kTileCols);
  const bool whole = static_cast<int64_t>(n) * (k + kTileCols) <= kGatherFloats;
  const int ld = whole ? padded_ld(k) : mpad;
  const size_t rows = whole ? static_cast<size_t>(n) : static_cast<size_t>(std::min(n, kChunk));
  // Columns past a block's m (padding, or the next block's) meet only rows and columns of A that are not used.
  if (S.Yg.size() < rows * ld) S.Yg.resize(rows * ld);
  if (weighted && S.Zg.size() < rows * ld) S.Zg.resize(rows * ld);
  if (S.A.size() < static_cast<size_t>(mpad) * mpad) S.A.resize(static_cast<size_t>(mpad) * mpad);
  if (S.d.size() < static_cast<size_t>(mpad)) S.d.resize(mpad);
  BlockRow br{
      Y,  k,      R.indices + b, n,  S.w.data(),  S.cp.data(), any_w,      uniform,    YtYp,       padded_ld(k), dreg,
      bs, sweeps, whole,         ld, S.Yg.data(), S.Zg.data(), S.s.data(), S.t.data(), S.A.data(), S.d.data(),   mpad};
  return block_row(br, x);
}

// Y^T Y + reg I, once per half-sweep: one single-threaded syrk (a few % of a sweep; OpenBLAS threads would keep
// spinning after it and compete with the parallel solves that follow).
std::vector<float> gram(const std::vector<float>& Y, int32_t rows, int k, float reg,
                        const std::function<void()>& between = nullptr) {
  std::vector<float> G(static_cast<size_t>(k) * k);
  blas::syrk_t_blocked(k, rows, 1.f, Y.data(), k, 0.f, G.data(), k, between);
  for (int j = 0; j < k; ++j) G[static_cast<int64_t>(j) * k + j] += reg;
  return G;
}

// Solves the rows of X given Y (R: rows of X against columns = rows of Y). `only`: rows to solve (null = all).
void solve_side(const CsrView& R, std::vector<float>& X, const std::vector<float>& Y, int32_t y_rows,
                const AlsParams& p, const std::vector<int32_t>* only, const FitContext& ctx) {
  const int k = p.factors;
  std::vector<float> G = gram(Y, y_rows, k, p.reg, [&ctx] { ctx.check_cancelled(); });
  int nt = resolve_threads(p.threads);
  std::vector<std::unique_ptr<Scratch>> scratch(nt);
  std::vector<BlockScratch> bscratch(p.block ? nt : 0);
  const std::vector<float> Gp = p.block ? pad_rows(G, k) : std::vector<float>();
  const int bs = std::min(p.block_size, k);
  int64_t n = only ? static_cast<int64_t>(only->size()) : R.rows;
  parallel_for(
      n, nt,
      [&](int64_t t, int tid) {
    ctx.check_cancelled();
    if (!scratch[tid]) {
      scratch[tid] = std::make_unique<Scratch>(k);
      if (k >= 512) scratch[tid]->between = [&ctx] { ctx.check_cancelled(); };
    }
    int32_t row = only ? (*only)[t] : static_cast<int32_t>(t);
    float* x = X.data() + static_cast<int64_t>(row) * k;
    const float dreg = reg_extra(p, R.row_len(row), y_rows);
    if (p.cholesky) {
      int32_t b = R.row_begin(row);
      if (!solve_exact(R.indices + b, R.data ? R.data + b : nullptr, R.row_len(row), Y.data(), G.data(), k, p.alpha, x,
                       *scratch[tid], dreg))
        fail("E_NATIVE", "ImplicitALS: a least-squares system is not positive definite (is reg > 0?)");
    } else if (p.block) {
      if (!solve_block(R, row, Y.data(), Gp.data(), k, p.alpha, dreg, bs, p.block_sweeps, x, bscratch[tid]))
        fail("E_NATIVE", "ImplicitALS: a least-squares system is not positive definite (is reg > 0?)");
    } else {
      solve_cg(R, row, Y.data(), G.data(), k, p.alpha, dreg, p.cg_steps, x, *scratch[tid]);
    }
      },
      32);
}

// The weighted squared error sum c (p - x.y)^2 over all pairs plus reg (|X|^2 + |Y|^2), divided by the total
// weight (sum c over stored pairs + unobserved pairs), as implicit reports it. Static blocks: same sum per thread count.
double training_loss(const CsrView& R, const std::vector<float>& X, const std::vector<float>& Y, int32_t items,
                     const AlsParams& p) {
  const int k = p.factors;
  std::vector<float> G = gram(Y, items, k, 0.f);
  int nt = std::max(1, std::min(resolve_threads(p.threads), std::max(1, R.rows)));
  std::vector<double> part(nt, 0.0), weight(nt, 0.0);
  parallel_blocks(R.rows, nt, [&](int64_t b, int64_t e, int tid) {
    std::vector<float> tmp(k);
    double l = 0, w = 0;
    for (int64_t u = b; u < e; ++u) {
      const float* x = X.data() + u * k;
      symv(G.data(), x, tmp.data(), k);
      l += blas::dot(tmp.data(), x, k);
      l += (p.reg + reg_extra(p, R.row_len(static_cast<int32_t>(u)), items)) * blas::dot(x, x, k);
      for (int32_t q = R.row_begin(static_cast<int32_t>(u)); q < R.row_end(static_cast<int32_t>(u)); ++q) {
        float c, cp;
        confidence(R, q, p.alpha, c, cp);
        double s = blas::dot(x, Y.data() + static_cast<int64_t>(R.indices[q]) * k, k);
        double pref = cp > 0.f ? 1.0 : 0.0;
        l += c * (pref - s) * (pref - s) - s * s;
        w += c - 1.0;
      }
    }
    part[tid] = l;
    weight[tid] = w;
  });
  double l = 0, w = static_cast<double>(R.rows) * items;
  for (int t = 0; t < nt; ++t) {
    l += part[t];
    w += weight[t];
  }
  std::vector<int64_t> item_count(p.reg_exponent != 0.0 ? items : 0, 0);
  for (int64_t q = 0; q < (item_count.empty() ? 0 : R.nnz()); ++q) ++item_count[R.indices[q]];
  for (int32_t i = 0; i < items; ++i) {
    const float* y = Y.data() + static_cast<int64_t>(i) * k;
    l += (p.reg + (item_count.empty() ? 0.f : reg_extra(p, item_count[i], R.rows))) * blas::dot(y, y, k);
  }
  return w > 0 ? l / w : 0.0;
}

class AlsModel : public FactorModel {
 public:
  AlsParams params;
  std::vector<float> YtY;  // V^T V + reg I of the final item factors, for fold-in

  void finish() { YtY = gram(V, items, factors, params.reg); }
  // Model files: the factors (FactorModel::state()); what fold-in and partialFit read besides comes from the
  // options (restore_als), and YtY is recomputed from V.
  bool fold_in(const int32_t* its, const float* values, int n, float* p_out, float* bu_out) const override {
    std::vector<float> x(factors);
    const float dreg = reg_extra(params, n, items);
    if (dreg != 0.f) {  // this user's frequency-scaled reg in place of the plain one YtY holds
      std::vector<float> G(YtY);
      for (int j = 0; j < factors; ++j) G[static_cast<size_t>(j) * factors + j] += dreg;
      als::solve_implicit(its, params.binary ? nullptr : values, n, V.data(), G.data(), factors, params.alpha,
                          x.data());
    } else {
      als::solve_implicit(its, params.binary ? nullptr : values, n, V.data(), YtY.data(), factors, params.alpha,
                          x.data());
    }
    std::copy(x.begin(), x.end(), p_out);
    *bu_out = 0.f;
    return true;
  }
};

// Uniform [0, 0.01) per row from its own stream (as implicit initialises), so the start does not depend on threads.
void init_rows(std::vector<float>& M, int32_t rows, int k, uint64_t seed, uint64_t stream0) {
  M.assign(static_cast<size_t>(rows) * k, 0.f);
  for (int32_t r = 0; r < rows; ++r) {
    Rng rng(seed, stream0 + static_cast<uint64_t>(r));
    for (int j = 0; j < k; ++j) M[static_cast<int64_t>(r) * k + j] = static_cast<float>(rng.uniform() * 0.01);
  }
}

AlsParams read_params(const Napi::Object& o) {
  AlsParams p;
  p.factors = static_cast<int>(int_req(o, "factors", 1, 4096));
  p.reg = static_cast<float>(real_req(o, "reg", 0, 1e12));
  p.alpha = static_cast<float>(real_req(o, "alpha", 0, 1e12));
  p.iterations = static_cast<int>(int_req(o, "iterations", 0, 100000));
  p.cg_steps = static_cast<int>(int_req(o, "cgSteps", 1, 1000));
  std::string solver = string_req(o, "solver");
  if (solver != "cg" && solver != "cholesky" && solver != "block")
    fail_arg("solver must be 'cg', 'cholesky' or 'block', got '" + solver + "'");
  p.cholesky = solver == "cholesky";
  p.block = solver == "block";
  p.block_size = static_cast<int>(int_req(o, "blockSize", 1, 4096));
  p.block_sweeps = static_cast<int>(int_req(o, "blockSweeps", 1, 1000));
  p.reg_exponent = real_req(o, "regExponent", 0, 4);
  p.reg_unobserved = real_req(o, "regUnobserved", 0, 1e12);
  p.binary = bool_req(o, "binary");
  p.loss = bool_req(o, "computeLoss");
  p.seed = static_cast<uint64_t>(int_req(o, "seed", 0, int64_t{1} << 53));
  p.threads = static_cast<int>(int_req(o, "threads", 0, 1024));
  return p;
}

// fitImplicitALS(csr, csc, options, runOptions)
Napi::Value FitImplicitALS(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[3]);
    CsrView C = csr_fit_arg(info[1], "trainTransposed", info[3]);
    check_transposed(R, C, "trainTransposed");
    auto o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    AlsParams p = read_params(o);
    if (p.binary) R.data = C.data = nullptr;
    auto run = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(info.Env());
    {
      const double k = p.factors, nt = resolve_threads(p.threads);
      check_memory("ImplicitALS", 4 * ((static_cast<double>(R.rows) + R.cols) * k + k * k * (2 + nt)),
                   "the factors ((users + items) x factors floats) and threads + 2 factors x factors systems",
                   max_memory_arg(o), "use fewer factors");
    }
    return run_fit(info, run,
                   [R, C, p](FitContext& ctx) -> std::shared_ptr<Model> {
                     auto m = std::make_shared<AlsModel>();
                     m->kind_name = "ImplicitALS";
                     m->params = p;
                     m->users = R.rows;
                     m->items = R.cols;
                     m->factors = p.factors;
                     init_rows(m->U, R.rows, p.factors, p.seed, 0);
                     init_rows(m->V, R.cols, p.factors, p.seed, uint64_t{1} << 40);
                     for (int it = 0; it < p.iterations; ++it) {
                       solve_side(R, m->U, m->V, R.cols, p, nullptr, ctx);
                       ctx.check_cancelled();
                       solve_side(C, m->V, m->U, R.rows, p, nullptr, ctx);
                       double loss = p.loss ? training_loss(R, m->U, m->V, R.cols, p) : NAN;
                       ctx.progress(it + 1, p.iterations, loss, "iteration");
                     }
                     m->mark_known(R);
                     m->finish();
                     return m;
                   },
                   {info[0], info[1]});
  });
}

// alsPartialFit(model, csr, csc, userOld Int32Array, itemOld Int32Array, refreshUsers Int32Array,
//               refreshItems Int32Array, {threads, ann}, runOptions)
// A new model over the new data's users and items: old vectors are kept (mapped by userOld/itemOld, -1 = new);
// new rows and the refresh lists are solved exactly with the others fixed: items first (against kept users),
// then users, then those items again when both sides changed. With ann (a boolean) and an approximate index on
// the model, the new model gets that index carried over in the same job (AnnIndex::extend: a copy of the graph,
// the re-solved items updated, the new ones inserted; the model's index is only read); without, none.
Napi::Value AlsPartialFit(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto base = std::dynamic_pointer_cast<AlsModel>(model_arg(info[0], "model"));
    if (!base) fail_arg("partialFit needs a fitted ImplicitALS model");
    CsrView R = csr_fit_arg(info[1], "train", info[8]);
    CsrView C = csr_fit_arg(info[2], "trainTransposed", info[8]);
    check_transposed(R, C, "trainTransposed");
    auto user_old = typed_array<const int32_t>(info[3], "userOld");
    auto item_old = typed_array<const int32_t>(info[4], "itemOld");
    auto ref_users = typed_array<const int32_t>(info[5], "refreshUsers");
    auto ref_items = typed_array<const int32_t>(info[6], "refreshItems");
    if (user_old.size != static_cast<size_t>(R.rows) || item_old.size != static_cast<size_t>(R.cols))
      fail_arg("userOld / itemOld must have one entry per user / item of the new data");
    auto o = info[7].IsObject() ? info[7].As<Napi::Object>() : Napi::Object::New(info.Env());
    AlsParams p = base->params;
    p.threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    // Held here: the served model may drop or replace its index while the worker copies this one.
    std::shared_ptr<AnnIndex> old_ann = o.Has("ann") && bool_req(o, "ann") ? base->ann : nullptr;
    const int ef_search = old_ann ? old_ann->ef_search() : 0;
    std::vector<int32_t> item_map(item_old.data, item_old.data + item_old.size);
    p.cholesky = true;
    if (p.binary) R.data = C.data = nullptr;
    const int k = p.factors;
    std::vector<uint8_t> solve_u(R.rows, 0), solve_i(R.cols, 0);
    for (int32_t u = 0; u < R.rows; ++u) {
      int32_t o_ = user_old[u];
      if (o_ < -1 || o_ >= base->users) fail_arg("userOld[" + std::to_string(u) + "] is not a user of the model");
      if (o_ < 0) solve_u[u] = 1;
    }
    for (int32_t i = 0; i < R.cols; ++i) {
      int32_t o_ = item_old[i];
      if (o_ < -1 || o_ >= base->items) fail_arg("itemOld[" + std::to_string(i) + "] is not an item of the model");
      if (o_ < 0) solve_i[i] = 1;
    }
    for (size_t t = 0; t < ref_users.size; ++t) {
      if (ref_users[t] < 0 || ref_users[t] >= R.rows) fail_arg("refreshUsers has an index outside the data");
      solve_u[ref_users[t]] = 1;
    }
    for (size_t t = 0; t < ref_items.size; ++t) {
      if (ref_items[t] < 0 || ref_items[t] >= R.cols) fail_arg("refreshItems has an index outside the data");
      solve_i[ref_items[t]] = 1;
    }
    auto m = std::make_shared<AlsModel>();
    m->kind_name = "ImplicitALS";
    m->params = p;
    m->params.cholesky = base->params.cholesky;
    m->users = R.rows;
    m->items = R.cols;
    m->factors = k;
    m->U.assign(static_cast<size_t>(R.rows) * k, 0.f);
    m->V.assign(static_cast<size_t>(R.cols) * k, 0.f);
    std::vector<int32_t> us, is;
    for (int32_t u = 0; u < R.rows; ++u) {
      if (solve_u[u]) us.push_back(u);
      else
        std::copy_n(base->U.data() + static_cast<int64_t>(user_old[u]) * k, k,
                    m->U.data() + static_cast<int64_t>(u) * k);
    }
    for (int32_t i = 0; i < R.cols; ++i) {
      if (solve_i[i]) is.push_back(i);
      else
        std::copy_n(base->V.data() + static_cast<int64_t>(item_old[i]) * k, k,
                    m->V.data() + static_cast<int64_t>(i) * k);
    }
    auto run = info[8].IsObject() ? info[8].As<Napi::Object>() : Napi::Object::New(info.Env());
    return run_fit(info, run,
                   [R, C, p, m, us = std::move(us), is = std::move(is), old_ann, ef_search,
                    item_map = std::move(item_map)](FitContext& ctx) -> std::shared_ptr<Model> {
                     // Rows still to be solved are zero vectors, so they add nothing to the other side's systems.
                     if (!is.empty()) solve_side(C, m->V, m->U, R.rows, p, &is, ctx);
                     if (!us.empty()) solve_side(R, m->U, m->V, R.cols, p, &us, ctx);
                     if (!is.empty() && !us.empty()) solve_side(C, m->V, m->U, R.rows, p, &is, ctx);
                     m->mark_known(R);
                     m->finish();
                     if (old_ann) {
                       ctx.check_cancelled();
                       m->ann =
                           AnnIndex::extend(*old_ann, m->V.data(), m->item_bias.empty() ? nullptr : m->item_bias.data(),
                                            m->items, m->factors, item_map.data(), ef_search, p.seed, p.threads);
                     }
                     ctx.progress(1, 1, NAN, "partial");
                     return m;
                   },
                   {info[1], info[2]});
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("fitImplicitALS", Napi::Function::New(env, FitImplicitALS));
  exports.Set("alsPartialFit", Napi::Function::New(env, AlsPartialFit));
}

std::shared_ptr<Model> restore_als(StateReader& s) {
  auto m = std::make_shared<AlsModel>();
  restore_factor_state(*m, s, true);
  m->params.factors = m->factors;
  m->params.reg = static_cast<float>(s.real_param("reg"));
  m->params.alpha = static_cast<float>(s.real_param("alpha"));
  m->params.binary = s.bool_param("binary");
  m->params.cholesky = s.string_param("solver") == "cholesky";
  m->params.block = s.string_param("solver") == "block";
  m->params.block_size = static_cast<int>(s.int_param("blockSize", 1, 4096));
  m->params.block_sweeps = static_cast<int>(s.int_param("blockSweeps", 1, 1000));
  m->params.reg_exponent = s.real_param("regExponent");
  m->params.reg_unobserved = s.real_param("regUnobserved");
  if (!(m->params.reg_exponent >= 0 && m->params.reg_exponent <= 4) || !(m->params.reg_unobserved >= 0))
    fail_arg("regExponent must be in [0, 4] and regUnobserved >= 0");
  m->params.cg_steps = static_cast<int>(s.int_param("cgSteps", 1, 1000));
  m->params.iterations = static_cast<int>(s.int_param("iterations", 0, 100000));
  m->params.seed = static_cast<uint64_t>(s.int_param("seed", 0, int64_t{1} << 53));
  m->finish();
  return m;
}

}  // namespace

namespace als {
void solve_implicit(const int32_t* items, const float* values, int n, const float* Y, const float* YtY, int k,
                    float alpha, float* x) {
  // The fit's float solve first: fast, and the answer every ordinary model gets. Float cannot hold the system when a
  // confidence term (c - 1) |y|^2 outweighs YtY's smallest diagonal entry by more than ~1e4 (its 7 digits then lose
  // what YtY adds: at alpha = 1e8 .. 1e12 Cholesky failed, or scores came out up to 9% off), nor when c is Inf (a
  // rating near the float limit: x is NaN). Those are solved in double, with the smallest ridge that makes the
  // system definite.
  double swamp = 0.0, diag = std::numeric_limits<double>::infinity();
  for (int i = 0; i < k; ++i) diag = std::min(diag, static_cast<double>(YtY[static_cast<size_t>(i) * k + i]));
  for (int q = 0; q < n; ++q) {
    const float* y = Y + static_cast<int64_t>(items[q]) * k;
    double yy = 0.0;
    for (int i = 0; i < k; ++i) yy += static_cast<double>(y[i]) * y[i];
    swamp = std::max(swamp, static_cast<double>(alpha) * std::abs(values ? values[q] : 1.f) * yy);
  }
  if (swamp <= 1e4 * diag) {
    Scratch s(k);
    if (solve_exact(items, values, n, Y, YtY, k, alpha, x, s) &&
        std::all_of(x, x + k, [](float v) { return std::isfinite(v); }))
      return;
  }
  std::vector<double> A(YtY, YtY + static_cast<size_t>(k) * k), b(static_cast<size_t>(k), 0.0);
  for (int q = 0; q < n; ++q) {
    const double r = values ? values[q] : 1.0;
    const double c = 1.0 + static_cast<double>(alpha) * std::abs(r);
    const float* y = Y + static_cast<int64_t>(items[q]) * k;
    for (int i = 0; i < k; ++i) {
      double* ai = A.data() + static_cast<size_t>(i) * k;
      const double w = (c - 1.0) * y[i];
      for (int j = 0; j <= i; ++j) ai[j] += w * y[j];
      if (r > 0) b[i] += c * y[i];
    }
  }
  blas::solve_psd_ridged(k, A.data(), b.data(), x);
}
}  // namespace als

RECSYS_REGISTER_EXPORTS(als, init);
RECSYS_REGISTER_RESTORER(ImplicitALS, restore_als);

}  // namespace recsys
