// Compressed sparse rows: the one matrix format of the engine. Rows are users (CSR) or items (CSC, the same
// struct built by transpose). Column indices are sorted and unique within a row. indptr is int32: up to
// 2^31 - 1 interactions per matrix.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/common.h"

namespace recsys {

// A borrowed view (memory owned by JS typed arrays or by a Csr below).
struct CsrView {
  int32_t rows = 0, cols = 0;
  const int32_t* indptr = nullptr;    // rows + 1
  const int32_t* indices = nullptr;   // nnz
  const float* data = nullptr;        // nnz, or null (all ones)
  const double* times = nullptr;      // nnz, or null
  std::shared_ptr<const void> owner;  // keeps copied indptr/indices alive (csr_fit_arg), or null
  int64_t nnz() const { return rows == 0 ? 0 : indptr[rows]; }
  int32_t row_begin(int32_t r) const { return indptr[r]; }
  int32_t row_end(int32_t r) const { return indptr[r + 1]; }
  int32_t row_len(int32_t r) const { return indptr[r + 1] - indptr[r]; }
  float value(int64_t p) const { return data ? data[p] : 1.f; }
};

// Owned storage, produced by build_csr / transpose and handed to JS without a copy.
struct Csr {
  int32_t rows = 0, cols = 0;
  std::vector<int32_t> indptr, indices;
  std::vector<float> data;    // empty when the input had no values
  std::vector<double> times;  // empty when the input had no timestamps
  CsrView view() const;
};

enum class DupPolicy { Last, Sum, Max, Error };

// What build_csr throws for a duplicate under DupPolicy::Error (code E_DUPLICATE): the row, the column and both
// input positions, so callers that know where the input came from (a file's lines) can say so.
struct DuplicateError : Error {
  int32_t row, col;
  int64_t first, second;  // input positions, first < second
  DuplicateError(int32_t r, int32_t c, int64_t p1, int64_t p2);
};
DupPolicy dup_policy_from(const std::string& s);  // "last" | "sum" | "max" | "error", else E_ARG

// Builds a CSR from coordinate triples in O(nnz + rows + cols) (two stable counting sorts). Duplicate
// (row, col) pairs are merged by `policy`: last (the later one in input order wins), sum (values summed, latest
// time kept), max (largest value and its time), error (E_DUPLICATE naming both input positions).
// `n_duplicates` receives how many entries were merged away.
Csr build_csr(int32_t rows, int32_t cols, const int32_t* r, const int32_t* c, const float* v, const double* t,
              int64_t n, DupPolicy policy, int64_t* n_duplicates);
// The transpose (CSC of the same matrix as a CSR over columns), O(nnz + rows + cols); rows stay sorted.
Csr transpose(const CsrView& m);

// C (A.rows x l, row-major, ldc) = A * B for a dense B (A.cols x l, ldb): row r of C sums a_rj * B[j] over
// the row's entries (values, or ones). Parallel over rows, each row summed in order by one thread, so the result
// is the same for any thread count. The transposed product A^T B is spmm over transpose(A).
void spmm(const CsrView& A, const float* B, int ldb, int l, float* C, int ldc, int threads);
// C (A.cols x l, ldc) = A^T * B for a dense B (A.rows x l, ldb), straight from the CSR: threads take static
// blocks of rows, scatter into private copies of C (reading B in order), and the copies are summed in thread
// order, so the result is the same for the same thread count. Uses (threads - 1) x A.cols x l floats.
void spmm_t(const CsrView& A, const float* B, int ldb, int l, float* C, int ldc, int threads);

// ---- CSR matrices from JS: every native entry point reads them only through these checks ----------------
// The JS arrays are public and writable (ds.csr, ds.csc), so nothing about them is trusted. Errors are E_ARG
// naming `name` and the field.
//   shape (always): {rows, cols, indptr: Int32Array, indices: Int32Array, data?: Float32Array,
//     times?: Float64Array}; rows/cols in [0, 2^31 - 2], indptr has rows + 1 entries, indptr[0] = 0,
//     nnz = indptr[rows] <= indices.length, data / times (when given) hold >= nnz entries.
//   CsrCheck::Full: also, in one O(rows + nnz) pass, indptr monotone, every index in [0, cols), sorted and
//     unique within its row, data finite.
//   CsrCheck::Rows: the caller reads only some rows and checks exactly those with check_csr_rows (a
//     mini-batch costs O(its entries), not O(nnz)).
enum class CsrCheck { Full, Rows };
CsrView csr_arg(const Napi::Value& v, const char* name, CsrCheck check = CsrCheck::Full);
// What every fit uses: the Full check. `run` is the fit's runOptions: for an async fit (run.async), and for arrays
// on a SharedArrayBuffer, indptr and indices are first copied into storage the view owns (CsrView::owner) and the
// copy is checked and used. The worker thread runs while JS (or another thread) may write to the arrays; with the
// copy no write can make the checked structure point outside the matrix (values and times stay borrowed: a write
// there changes numbers, never addresses). A sync fit holds the JS thread, so it reads the arrays in place.
// run.sealed (the matrices of a Dataset that never handed them out, ts/data/dataset.ts): shape checks only.
CsrView csr_fit_arg(const Napi::Value& v, const char* name, const Napi::Value& run);
// The Full checks for the listed rows of m (rows outside [0, m.rows) are skipped: callers treat them as empty).
void check_csr_rows(const CsrView& m, const std::string& name, const int32_t* rows, size_t n);
// C (named `name`) must have the transpose's shape of R: rows = R.cols, cols = R.rows, the same nnz, values
// on both or neither. (Both have had their own Full check.)
void check_transposed(const CsrView& R, const CsrView& C, const char* name);
// Every entry of an index array in [0, n), else E_ARG "name[p] = x is outside [0, n) (what)".
void check_indices(const int32_t* a, size_t len, int64_t n, const char* name, const char* what);

// A CSR as the JS object above; the storage moves to JS without a copy.
Napi::Object csr_to_js(Napi::Env env, Csr&& m);

}  // namespace recsys
