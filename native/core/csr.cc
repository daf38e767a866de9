#include "core/csr.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "core/blas.h"
#include "core/common.h"
#include "core/threads.h"

namespace recsys {

CsrView Csr::view() const {
  CsrView v;
  v.rows = rows;
  v.cols = cols;
  v.indptr = indptr.data();
  v.indices = indices.data();
  v.data = data.empty() ? nullptr : data.data();
  v.times = times.empty() ? nullptr : times.data();
  return v;
}

DuplicateError::DuplicateError(int32_t r, int32_t c, int64_t p1, int64_t p2)
    : Error("E_DUPLICATE", "duplicate interaction (row " + std::to_string(r) + ", column " + std::to_string(c) +
                               ") at input positions " + std::to_string(p1) + " and " + std::to_string(p2)),
      row(r),
      col(c),
      first(p1),
      second(p2) {}

DupPolicy dup_policy_from(const std::string& s) {
  if (s == "last") return DupPolicy::Last;
  if (s == "sum") return DupPolicy::Sum;
  if (s == "max") return DupPolicy::Max;
  if (s == "error") return DupPolicy::Error;
  fail_arg("duplicates must be one of 'last', 'sum', 'max', 'error', got '" + s + "'");
}

Csr build_csr(int32_t rows, int32_t cols, const int32_t* r, const int32_t* c, const float* v, const double* t,
              int64_t n, DupPolicy policy, int64_t* n_duplicates) {
  if (rows < 0 || cols < 0) fail_arg("matrix dimensions must be >= 0");
  if (n > std::numeric_limits<int32_t>::max()) fail_arg("more than 2^31-1 interactions are not supported");
  for (int64_t p = 0; p < n; ++p) {
    if (r[p] < 0 || r[p] >= rows)
      fail_arg("row index " + std::to_string(r[p]) + " at position " + std::to_string(p) + " is outside [0, " +
               std::to_string(rows) + ")");
    if (c[p] < 0 || c[p] >= cols)
      fail_arg("column index " + std::to_string(c[p]) + " at position " + std::to_string(p) + " is outside [0, " +
               std::to_string(cols) + ")");
    if (v && !std::isfinite(v[p])) fail_arg("value at position " + std::to_string(p) + " is not a finite number");
  }
  // Pass 1: stable counting sort of input positions by column. Pass 2: stable by row. Rows end up sorted by
  // column, and equal (row, col) pairs keep input order, so "last" means the later input.
  std::vector<int32_t> by_col(n), order(n);
  {
    std::vector<int64_t> start(static_cast<size_t>(cols) + 1, 0);
    for (int64_t p = 0; p < n; ++p) ++start[c[p] + 1];
    for (int32_t j = 0; j < cols; ++j) start[j + 1] += start[j];
    for (int64_t p = 0; p < n; ++p) by_col[start[c[p]]++] = static_cast<int32_t>(p);
  }
  std::vector<int64_t> rstart(static_cast<size_t>(rows) + 1, 0);
  for (int64_t p = 0; p < n; ++p) ++rstart[r[p] + 1];
  for (int32_t i = 0; i < rows; ++i) rstart[i + 1] += rstart[i];
  {
    std::vector<int64_t> pos(rstart.begin(), rstart.end() - 1);
    for (int64_t q = 0; q < n; ++q) {
      int32_t p = by_col[q];
      order[pos[r[p]]++] = p;
    }
  }
  by_col.clear();
  by_col.shrink_to_fit();

  Csr m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.assign(static_cast<size_t>(rows) + 1, 0);
  m.indices.reserve(n);
  if (v) m.data.reserve(n);
  if (t) m.times.reserve(n);
  int64_t dups = 0;
  for (int32_t i = 0; i < rows; ++i) {
    for (int64_t q = rstart[i]; q < rstart[i + 1]; ++q) {
      int32_t p = order[q];
      bool dup = q > rstart[i] && c[order[q - 1]] == c[p];
      if (!dup) {
        m.indices.push_back(c[p]);
        if (v) m.data.push_back(v[p]);
        if (t) m.times.push_back(t[p]);
        continue;
      }
      ++dups;
      switch (policy) {
        case DupPolicy::Error:
          throw DuplicateError(i, c[p], order[q - 1], p);
        case DupPolicy::Last:
          if (v) m.data.back() = v[p];
          if (t) m.times.back() = t[p];
          break;
        case DupPolicy::Sum:
          if (v) m.data.back() += v[p];
          // Finite values can sum past FLT_MAX; the matrix this builds must hold finite values only.
          if (v && !std::isfinite(m.data.back()))
            fail_arg("the sum of the duplicate values of row " + std::to_string(i) + ", column " +
                     std::to_string(c[p]) + " is not a finite float32 number");
          if (t) m.times.back() = std::max(m.times.back(), t[p]);
          break;
        case DupPolicy::Max:
          if (v && v[p] > m.data.back()) {
            m.data.back() = v[p];
            if (t) m.times.back() = t[p];
          }
          break;
      }
    }
    m.indptr[i + 1] = static_cast<int32_t>(m.indices.size());
  }
  if (n_duplicates) *n_duplicates = dups;
  return m;
}

Csr transpose(const CsrView& a) {
  Csr m;
  m.rows = a.cols;
  m.cols = a.rows;
  int64_t nnz = a.nnz();
  m.indptr.assign(static_cast<size_t>(a.cols) + 1, 0);
  for (int64_t p = 0; p < nnz; ++p) ++m.indptr[a.indices[p] + 1];
  for (int32_t j = 0; j < a.cols; ++j) m.indptr[j + 1] += m.indptr[j];
  m.indices.resize(nnz);
  if (a.data) m.data.resize(nnz);
  if (a.times) m.times.resize(nnz);
  std::vector<int32_t> pos(m.indptr.begin(), m.indptr.end() - 1);
  for (int32_t i = 0; i < a.rows; ++i) {
    for (int32_t p = a.indptr[i]; p < a.indptr[i + 1]; ++p) {
      int32_t q = pos[a.indices[p]]++;
      m.indices[q] = i;
      if (a.data) m.data[q] = a.data[p];
      if (a.times) m.times[q] = a.times[p];
    }
  }
  return m;
}

namespace {
[[noreturn]] void bad_row(const std::string& nm, const char* what, int64_t row) {
  fail_arg(nm + what + " in row " + std::to_string(row));
}
// The Full checks of one row; indptr[r] is already known to be in [0, nnz].
inline void check_row(const CsrView& m, const std::string& nm, int32_t r, int64_t nnz) {
  const int32_t b = m.indptr[r], e = m.indptr[r + 1];
  if (e < b || e > nnz) fail_arg(nm + ".indptr is not monotone within [0, nnz] at row " + std::to_string(r));
  const int32_t* ix = m.indices;
  int32_t prev = -1;
  for (int32_t p = b; p < e; ++p) {
    const int32_t j = ix[p];
    if (j <= prev || j >= m.cols) {
      if (j < 0 || j >= m.cols)
        fail_arg(nm + ".indices[" + std::to_string(p) + "] = " + std::to_string(j) +
                 " is outside [0, cols = " + std::to_string(m.cols) + ") in row " + std::to_string(r));
      bad_row(nm, ".indices is not sorted and unique", r);
    }
    prev = j;
  }
  if (m.data)
    for (int32_t p = b; p < e; ++p)
      if (!std::isfinite(m.data[p])) bad_row(nm, ".data has a non-finite value", r);
}

CsrView csr_shape(const Napi::Value& v, const std::string& nm, Span<const int32_t>& indptr,
                  Span<const int32_t>& indices) {
  if (!v.IsObject()) fail_arg(nm + " must be a CSR matrix object");
  auto o = v.As<Napi::Object>();
  CsrView m;
  m.rows =
      static_cast<int32_t>(int_arg(o.Get("rows"), (nm + ".rows").c_str(), 0, std::numeric_limits<int32_t>::max() - 1));
  m.cols =
      static_cast<int32_t>(int_arg(o.Get("cols"), (nm + ".cols").c_str(), 0, std::numeric_limits<int32_t>::max() - 1));
  indptr = typed_array<const int32_t>(o.Get("indptr"), (nm + ".indptr").c_str());
  indices = typed_array<const int32_t>(o.Get("indices"), (nm + ".indices").c_str());
  auto data = optional_typed_array<const float>(o.Get("data"), (nm + ".data").c_str());
  auto times = optional_typed_array<const double>(o.Get("times"), (nm + ".times").c_str());
  if (indptr.size != static_cast<size_t>(m.rows) + 1)
    fail_arg(nm + ".indptr must have rows + 1 = " + std::to_string(int64_t{m.rows} + 1) + " entries, has " +
             std::to_string(indptr.size));
  const int64_t nnz = indptr[m.rows];
  if (indptr[0] != 0) fail_arg(nm + ".indptr[0] must be 0, got " + std::to_string(indptr[0]));
  if (nnz < 0 || static_cast<size_t>(nnz) > indices.size)
    fail_arg(nm + ".indptr[rows] = " + std::to_string(nnz) + " does not match indices (length " +
             std::to_string(indices.size) + ")");
  if (!data.empty() && data.size < static_cast<size_t>(nnz))
    fail_arg(nm + ".data is shorter than nnz = " + std::to_string(nnz));
  if (!times.empty() && times.size < static_cast<size_t>(nnz))
    fail_arg(nm + ".times is shorter than nnz = " + std::to_string(nnz));
  m.indptr = indptr.data;
  m.indices = indices.data;
  m.data = data.empty() ? nullptr : data.data;
  m.times = times.empty() ? nullptr : times.data;
  return m;
}

// The Full check as branch-free passes that vectorize: they only say whether everything is right. One pass over
// all the indices counts descents (ix[p] <= ix[p-1]) and takes the minimum and maximum; every row is strictly
// increasing exactly when the only descents are at row starts, and every index is in range when the minimum and
// maximum are. A second pass over the rows counts the descents at distinct row starts. The values: finite.
bool full_ok(const CsrView& m) {
  const int64_t nnz = m.nnz();
  const int32_t* ip = m.indptr;
  const int32_t* ix = m.indices;
  uint32_t bad = 0;
  for (int32_t r = 0; r < m.rows; ++r) bad |= static_cast<uint32_t>(ip[r + 1] < ip[r]);
  if (bad || ip[0] != 0) return false;  // now every row lies within [0, nnz]
  if (nnz == 0) return true;
  int64_t descents = 0;
  int32_t lo = ix[0], hi = ix[0];
  for (int64_t p = 1; p < nnz; ++p) {
    descents += ix[p] <= ix[p - 1];
    lo = std::min(lo, ix[p]);
    hi = std::max(hi, ix[p]);
  }
  if (lo < 0 || hi >= m.cols) return false;
  // Each position b in (0, nnz) that starts a row is counted once: at the first row that starts there.
  int64_t at_starts = 0;
  for (int32_t r = 1; r < m.rows; ++r) {
    const int32_t b = ip[r];
    if (b > ip[r - 1] && b < nnz) at_starts += ix[b] <= ix[b - 1];
  }
  if (descents != at_starts) return false;
  if (m.data) {
    const uint32_t* bits = reinterpret_cast<const uint32_t*>(m.data);  // not finite: exponent bits all ones
    for (int64_t p = 0; p < nnz; ++p) bad |= static_cast<uint32_t>((bits[p] & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

void check_full(const CsrView& m, const std::string& nm) {
  if (full_ok(m)) return;
  // Something is wrong: find the first fault row by row and name it.
  const int64_t nnz = m.nnz();
  for (int32_t r = 0; r < m.rows; ++r) check_row(m, nm, r, nnz);
}

struct CsrCopy {
  std::vector<int32_t> indptr, indices;
};
}  // namespace

CsrView csr_arg(const Napi::Value& v, const char* name, CsrCheck check) {
  std::string nm(name);
  Span<const int32_t> indptr, indices;
  CsrView m = csr_shape(v, nm, indptr, indices);
  if (check == CsrCheck::Full) check_full(m, nm);
  return m;
}

CsrView csr_fit_arg(const Napi::Value& v, const char* name, const Napi::Value& run) {
  std::string nm(name);
  Span<const int32_t> indptr, indices;
  CsrView m = csr_shape(v, nm, indptr, indices);
  auto o = v.As<Napi::Object>();
  // A sealed Dataset's arrays were built natively and never handed to code outside recsys (ts/data/dataset.ts):
  // nothing can have written to them, so the shape checks above are all it needs, and no copy.
  if (run.IsObject() && run.As<Napi::Object>().Get("sealed").ToBoolean().Value()) return m;
  // A TypedArray on a SharedArrayBuffer: its buffer is not an ArrayBuffer.
  const bool shared = !o.Get("indptr").As<Napi::TypedArray>().ArrayBuffer().IsArrayBuffer() ||
                      !o.Get("indices").As<Napi::TypedArray>().ArrayBuffer().IsArrayBuffer();
  const bool async = run.IsObject() && run.As<Napi::Object>().Get("async").ToBoolean().Value();
  if (!async && !shared) {
    check_full(m, nm);
    return m;
  }
  const int64_t nnz = m.nnz();  // checked against indices.length by csr_shape
  auto copy = std::make_shared<CsrCopy>();
  copy->indptr.assign(indptr.begin(), indptr.end());
  copy->indices.assign(indices.begin(), indices.begin() + nnz);
  // A SharedArrayBuffer may change under us: the copy is what is checked and used, so its ends must agree too.
  if (copy->indptr[0] != 0 || copy->indptr[m.rows] != nnz) fail_arg(nm + ".indptr changed while it was read");
  m.indptr = copy->indptr.data();
  m.indices = copy->indices.data();
  m.owner = copy;
  check_full(m, nm);
  return m;
}

void check_csr_rows(const CsrView& m, const std::string& name, const int32_t* rows, size_t n) {
  const int64_t nnz = m.nnz();
  for (size_t k = 0; k < n; ++k) {
    const int32_t r = rows[k];
    if (r < 0 || r >= m.rows) continue;
    if (m.indptr[r] < 0 || m.indptr[r] > nnz)
      fail_arg(name + ".indptr is not monotone within [0, nnz] at row " + std::to_string(r));
    check_row(m, name, r, nnz);
  }
}

void check_transposed(const CsrView& R, const CsrView& C, const char* name) {
  if (C.rows != R.cols || C.cols != R.rows || C.nnz() != R.nnz())
    fail_arg(std::string(name) + " is not the transpose of train: it is " + std::to_string(C.rows) + " x " +
             std::to_string(C.cols) + " with " + std::to_string(C.nnz()) + " entries, train is " +
             std::to_string(R.rows) + " x " + std::to_string(R.cols) + " with " + std::to_string(R.nnz()));
  if ((R.data == nullptr) != (C.data == nullptr))
    fail_arg(std::string("train and ") + name + " must both have values or neither");
}

void check_indices(const int32_t* a, size_t len, int64_t n, const char* name, const char* what) {
  for (size_t p = 0; p < len; ++p)
    if (a[p] < 0 || a[p] >= n)
      fail_arg(std::string(name) + "[" + std::to_string(p) + "] = " + std::to_string(a[p]) + " is outside [0, " +
               std::to_string(n) + ") (" + what + ")");
}

namespace {
// The rows of B that entries a few positions ahead will read: they are scattered, so fetch them early.
inline void prefetch_row(const float* row, int l) {
  for (int j = 0; j < l; j += 16) __builtin_prefetch(row + j);
}
constexpr int kAhead = 8;

// c = row r of A times B (l columns).
RECSYS_KERNEL void spmm_row(const CsrView& A, int32_t r, const float* B, int ldb, int l, float* c) noexcept {
  std::fill(c, c + l, 0.f);
  const int32_t b = A.row_begin(r), e = A.row_end(r);
  for (int32_t p = b; p < e; ++p) {
    if (p + kAhead < e) prefetch_row(B + static_cast<int64_t>(A.indices[p + kAhead]) * ldb, l);
    blas::axpy(l, A.value(p), B + static_cast<int64_t>(A.indices[p]) * ldb, c);
  }
}

// out += A[b..e)^T B[b..e) (l columns, out's leading dimension ld).
RECSYS_KERNEL void spmm_t_rows(const CsrView& A, int64_t b, int64_t e, const float* B, int ldb, int l, float* out,
                               int64_t ld) noexcept {
  for (int64_t r = b; r < e; ++r) {
    const float* br = B + r * ldb;
    const int32_t pb = A.row_begin(static_cast<int32_t>(r)), pe = A.row_end(static_cast<int32_t>(r));
    for (int32_t p = pb; p < pe; ++p) {
      if (p + kAhead < pe) prefetch_row(out + static_cast<int64_t>(A.indices[p + kAhead]) * ld, l);
      blas::axpy(l, A.value(p), br, out + static_cast<int64_t>(A.indices[p]) * ld);
    }
  }
}
}  // namespace

void spmm(const CsrView& A, const float* B, int ldb, int l, float* C, int ldc, int threads) {
  parallel_for(
      A.rows, threads, [&](int64_t r, int) { spmm_row(A, static_cast<int32_t>(r), B, ldb, l, C + r * ldc); }, 256);
}

void spmm_t(const CsrView& A, const float* B, int ldb, int l, float* C, int ldc, int threads) {
  const int64_t n = A.cols;
  // Private copies cost (threads - 1) x n x l floats: at most 256 MB of them.
  int64_t cap = 1 + (int64_t{256} << 20) / std::max<int64_t>(1, n * l * 4);
  int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({resolve_threads(threads), A.rows, cap})));
  for (int64_t j = 0; j < n; ++j) std::fill(C + j * ldc, C + j * ldc + l, 0.f);
  std::vector<std::vector<float>> part(nt - 1);
  parallel_blocks(A.rows, nt, [&](int64_t b, int64_t e, int tid) {
    float* out = C;
    int64_t ld = ldc;
    if (tid > 0) {
      part[tid - 1].assign(static_cast<size_t>(n) * l, 0.f);
      out = part[tid - 1].data();
      ld = l;
    }
    spmm_t_rows(A, b, e, B, ldb, l, out, ld);
  });
  // Sum the private copies into C in thread order, parallel over C's rows.
  if (nt > 1)
    parallel_for(
        n, nt,
        [&](int64_t j, int) {
      float* c = C + j * ldc;
      for (int t = 0; t < nt - 1; ++t) blas::axpy(l, 1.f, part[t].data() + j * l, c);
        },
        512);
}

Napi::Object csr_to_js(Napi::Env env, Csr&& m) {
  auto o = Napi::Object::New(env);
  o.Set("rows", Napi::Number::New(env, m.rows));
  o.Set("cols", Napi::Number::New(env, m.cols));
  o.Set("indptr", give_to_js(env, std::move(m.indptr)));
  o.Set("indices", give_to_js(env, std::move(m.indices)));
  if (!m.data.empty()) o.Set("data", give_to_js(env, std::move(m.data)));
  if (!m.times.empty()) o.Set("times", give_to_js(env, std::move(m.times)));
  return o;
}

// ---- JS entry points: buildCsr(rows, cols, r, c, v?, t?, duplicates) and transpose(csr) ------------------
namespace {
Napi::Value JsBuildCsr(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    int32_t rows = static_cast<int32_t>(int_arg(info[0], "rows", 0, std::numeric_limits<int32_t>::max() - 1));
    int32_t cols = static_cast<int32_t>(int_arg(info[1], "cols", 0, std::numeric_limits<int32_t>::max() - 1));
    auto r = typed_array<const int32_t>(info[2], "rows array");
    auto c = typed_array<const int32_t>(info[3], "cols array");
    auto v = optional_typed_array<const float>(info[4], "values");
    auto t = optional_typed_array<const double>(info[5], "timestamps");
    DupPolicy policy = dup_policy_from(info[6].IsString() ? info[6].As<Napi::String>().Utf8Value() : "last");
    if (r.size != c.size) fail_arg("rows and cols arrays differ in length");
    if (!v.empty() && v.size != r.size) fail_arg("values array differs in length from rows");
    if (!t.empty() && t.size != r.size) fail_arg("timestamps array differs in length from rows");
    int64_t dups = 0;
    // Keep the value arrays when given, even if empty, so an empty rated dataset still has data.
    Csr m = build_csr(rows, cols, r.data, c.data, info[4].IsTypedArray() ? v.data : nullptr,
                      info[5].IsTypedArray() ? t.data : nullptr, static_cast<int64_t>(r.size), policy, &dups);
    bool had_values = info[4].IsTypedArray(), had_times = info[5].IsTypedArray();
    Napi::Object o = csr_to_js(info.Env(), std::move(m));
    if (had_values && !o.Has("data")) o.Set("data", Napi::Float32Array::New(info.Env(), 0));
    if (had_times && !o.Has("times")) o.Set("times", Napi::Float64Array::New(info.Env(), 0));
    o.Set("duplicates", Napi::Number::New(info.Env(), static_cast<double>(dups)));
    return o;
  });
}

Napi::Value JsTranspose(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView a = csr_arg(info[0], "matrix");
    bool had_values = a.data != nullptr;
    Napi::Object o = csr_to_js(info.Env(), transpose(a));
    if (had_values && !o.Has("data")) o.Set("data", Napi::Float32Array::New(info.Env(), 0));
    return o;
  });
}

// _checkCsr(csr, runOptions?) -> nnz: exactly what a fit does to its matrix before it starts (csr_fit_arg: the
// Full check, on a copy of indptr and indices when runOptions.async). For bench/validate.ts and tests, which time
// and exercise the check on its own.
Napi::Value JsCheckCsr(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView a = csr_fit_arg(info[0], "matrix", info[1]);
    return Napi::Number::New(info.Env(), static_cast<double>(a.nnz()));
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("buildCsr", Napi::Function::New(env, JsBuildCsr));
  exports.Set("_checkCsr", Napi::Function::New(env, JsCheckCsr));
  exports.Set("transpose", Napi::Function::New(env, JsTranspose));
}
}  // namespace

RECSYS_REGISTER_EXPORTS(csr, init);

}  // namespace recsys
