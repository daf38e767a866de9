#include "core/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/common.h"
#include "core/threads.h"

namespace recsys {

namespace {
// Domain constant mixed into every sampling seed, so these streams never coincide with a model's own (seed, stream).
constexpr uint64_t kSamplingDomain = 0x5A4D504C494E47ull;  // "SAMPLING"
constexpr uint64_t kShuffleId = uint64_t{1} << 62;
}  // namespace

NegativeSampler::NegativeSampler(const CsrView& R) : R_(R) {
  for (int32_t u = 0; u < R.rows; ++u)
    for (int32_t q = R.row_begin(u) + 1; q < R.row_end(u); ++q)
      if (R.indices[q] <= R.indices[q - 1])
        fail_arg("the interaction matrix must have sorted, unique items in each row");
  const double bitmap_bytes = static_cast<double>(R.rows) * R.cols / 8;
  if (bitmap_bytes <= static_cast<double>(R.nnz()) * 4 + (1 << 20)) {
    bits_.assign((static_cast<size_t>(R.rows) * R.cols + 63) / 64, 0);
    for (int32_t u = 0; u < R.rows; ++u)
      for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) {
        uint64_t bit = static_cast<uint64_t>(u) * R.cols + R.indices[q];
        bits_[bit >> 6] |= uint64_t{1} << (bit & 63);
      }
  }
}

Rng sampling_stream(uint64_t seed, uint64_t epoch, uint64_t id) { return Rng(hash3(seed, kSamplingDomain, epoch), id); }

PointwiseEpoch pointwise_epoch(const CsrView& R, int negatives, uint64_t seed, uint64_t epoch, bool shuffle,
                               int threads) {
  NegativeSampler sampler(R);
  // Offsets first: a user who has seen everything contributes only positives.
  std::vector<int64_t> off(static_cast<size_t>(R.rows) + 1, 0);
  for (int32_t u = 0; u < R.rows; ++u) {
    int64_t len = R.row_len(u);
    off[u + 1] = off[u] + len * (1 + (len < R.cols ? negatives : 0));
  }
  const int64_t n = off[R.rows];
  if (n > std::numeric_limits<int32_t>::max())
    fail("E_MEMORY", "an epoch of " + std::to_string(n) + " examples does not fit in int32 arrays");
  PointwiseEpoch ep;
  ep.users.resize(n);
  ep.items.resize(n);
  ep.labels.resize(n);
  parallel_for(
      R.rows, threads,
      [&](int64_t u64, int) {
    const int32_t u = static_cast<int32_t>(u64);
    Rng rng = sampling_stream(seed, epoch, static_cast<uint64_t>(u));
    int64_t p = off[u];
    const bool has_neg = R.row_len(u) < R.cols;
    for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) {
      ep.users[p] = u;
      ep.items[p] = R.indices[q];
      ep.labels[p] = 1.f;
      ++p;
      if (!has_neg) continue;
      for (int j = 0; j < negatives; ++j, ++p) {
        ep.users[p] = u;
        ep.items[p] = sampler.draw(u, rng);
        ep.labels[p] = 0.f;
      }
    }
      },
      64);
  if (shuffle) {
    Rng rng = sampling_stream(seed, epoch, kShuffleId);
    for (int64_t i = n - 1; i > 0; --i) {
      int64_t j = rng.below(static_cast<uint32_t>(i + 1));
      std::swap(ep.users[i], ep.users[j]);
      std::swap(ep.items[i], ep.items[j]);
      std::swap(ep.labels[i], ep.labels[j]);
    }
  }
  return ep;
}

void sample_for_users(const NegativeSampler& s, const int32_t* users, int64_t n, uint64_t seed, uint64_t epoch,
                      int32_t* out, int threads) {
  parallel_blocks(n, threads, [&](int64_t b, int64_t e, int) {
    for (int64_t p = b; p < e; ++p) {
      Rng rng = sampling_stream(seed, epoch, static_cast<uint64_t>(p));
      out[p] = s.draw(users[p], rng);
    }
  });
}

namespace {
// fn(column, value, dropped) for each stored entry of row u as a mini-batch sees it: 1 or the stored value, divided
// by the row's Euclidean norm when asked, and with dropout each entry dropped with that probability and the
// survivors scaled by 1 / (1 - dropout), entry q of the row drawing from stream (seed, epoch, u).
template <typename F>
void row_values(const CsrView& R, int32_t u, const DenseRowsOptions& o, F&& fn) {
  double norm = 0;
  for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) {
    double v = o.binary ? 1.0 : R.value(q);
    norm += v * v;
  }
  const float scale = o.l2_normalize && norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 1.f;
  const float keep = static_cast<float>(1.0 - o.dropout);
  Rng rng = sampling_stream(o.seed, o.epoch, static_cast<uint64_t>(u));
  for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) {
    const float v = (o.binary ? 1.f : R.value(q)) * scale;
    const bool dropped = o.dropout > 0 && rng.uniform() < o.dropout;
    fn(R.indices[q], o.dropout > 0 ? v / keep : v, dropped);
  }
}
}  // namespace

void dense_rows(const CsrView& R, const int32_t* rows, int64_t n, const DenseRowsOptions& o, float* out, int threads) {
  const int32_t cols = R.cols;
  parallel_blocks(n, threads, [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; ++r) {
      float* dst = out + r * cols;
      std::fill(dst, dst + cols, 0.f);
      const int32_t u = rows[r];
      if (u < 0 || u >= R.rows) continue;  // an unknown row is all zeros
      row_values(R, u, o, [&](int32_t c, float v, bool dropped) { dst[c] = dropped ? 0.f : v; });
    }
  });
}

RowEntries csr_rows(const CsrView& R, const int32_t* rows, int64_t n, const DenseRowsOptions& o) {
  RowEntries out;
  for (int64_t r = 0; r < n; ++r) {
    const int32_t u = rows[r];
    if (u < 0 || u >= R.rows) continue;
    row_values(R, u, o, [&](int32_t c, float v, bool dropped) {
      if (dropped) return;
      out.row_of.push_back(static_cast<int32_t>(r));
      out.indices.push_back(c);
      out.values.push_back(v);
    });
  }
  return out;
}

// ---- JS exports --------------------------------------------------------------------------------------------
// Results are arrays V8 allocates (copied from the vectors where sizes are not known up front): these run per
// epoch or per mini-batch, often in a synchronous loop, and adopted native buffers are only freed by finalizers
// that wait for the event loop to turn.
namespace {

uint64_t seed_opt(const Napi::Object& o) { return static_cast<uint64_t>(int_req(o, "seed", 0, int64_t{1} << 53)); }
uint64_t epoch_opt(const Napi::Object& o) { return static_cast<uint64_t>(int_req(o, "epoch", 0, int64_t{1} << 53)); }
int threads_opt(const Napi::Object& o) { return static_cast<int>(int_req(o, "threads", 0, 1024)); }
Napi::Object opts_arg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].IsObject() ? info[i].As<Napi::Object>() : Napi::Object::New(info.Env());
}

DenseRowsOptions dense_opts(const Napi::Object& o) {
  DenseRowsOptions d;
  d.binary = bool_req(o, "binary");
  d.l2_normalize = bool_req(o, "normalize");
  d.dropout = real_req(o, "dropout", 0, 1);
  if (d.dropout >= 1) fail_arg("dropout must be < 1");
  d.seed = seed_opt(o);
  d.epoch = epoch_opt(o);
  return d;
}

// sampleEpoch(csr, {negatives = 4, seed = 42, epoch = 0, shuffle = true, threads = 0}) -> {users, items, labels}
Napi::Value SampleEpoch(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_arg(info[0], "train");
    auto o = opts_arg(info, 1);
    int negatives = static_cast<int>(int_req(o, "negatives", 0, 1 << 16));
    PointwiseEpoch ep =
        pointwise_epoch(R, negatives, seed_opt(o), epoch_opt(o), bool_req(o, "shuffle"), threads_opt(o));
    auto out = Napi::Object::New(info.Env());
    out.Set("users", to_js(info.Env(), ep.users));
    out.Set("items", to_js(info.Env(), ep.items));
    out.Set("labels", to_js(info.Env(), ep.labels));
    return out;
  });
}

// sampleNegatives(csr, users Int32Array, {seed = 42, epoch = 0, threads = 0}) -> Int32Array (-1: no negative exists)
Napi::Value SampleNegatives(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_arg(info[0], "train");
    auto users = typed_array<const int32_t>(info[1], "users");
    for (size_t p = 0; p < users.size; ++p)
      if (users[p] < 0 || users[p] >= R.rows)
        fail_arg("users[" + std::to_string(p) + "] = " + std::to_string(users[p]) + " is not a row of train");
    auto o = opts_arg(info, 2);
    NegativeSampler s(R);
    std::vector<int32_t> out(users.size);
    sample_for_users(s, users.data, static_cast<int64_t>(users.size), seed_opt(o), epoch_opt(o), out.data(),
                     threads_opt(o));
    return to_js(info.Env(), out);
  });
}

// denseRows(csr, rows Int32Array, {binary, normalize, dropout, seed, epoch, threads}) -> Float32Array rows x cols
// Rows outside the matrix give zero rows (a user without training data).
Napi::Value DenseRows(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_arg(info[0], "matrix", CsrCheck::Rows);
    auto rows = typed_array<const int32_t>(info[1], "rows");
    auto o = opts_arg(info, 2);
    DenseRowsOptions d = dense_opts(o);
    check_csr_rows(R, "matrix", rows.data, rows.size);  // a mini-batch: O(its entries)
    auto out = Napi::Float32Array::New(info.Env(), rows.size * static_cast<size_t>(R.cols));
    dense_rows(R, rows.data, static_cast<int64_t>(rows.size), d, out.Data(), threads_opt(o));
    return out;
  });
}

// csrRows(csr, rows Int32Array, {binary, normalize, dropout, seed, epoch}) -> {rowOf, indices, values}
Napi::Value CsrRows(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_arg(info[0], "matrix", CsrCheck::Rows);
    auto rows = typed_array<const int32_t>(info[1], "rows");
    DenseRowsOptions d = dense_opts(opts_arg(info, 2));
    check_csr_rows(R, "matrix", rows.data, rows.size);  // a mini-batch: O(its entries)
    RowEntries e = csr_rows(R, rows.data, static_cast<int64_t>(rows.size), d);
    auto out = Napi::Object::New(info.Env());
    out.Set("rowOf", to_js(info.Env(), e.row_of));
    out.Set("indices", to_js(info.Env(), e.indices));
    out.Set("values", to_js(info.Env(), e.values));
    return out;
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("csrRows", Napi::Function::New(env, CsrRows));
  exports.Set("sampleEpoch", Napi::Function::New(env, SampleEpoch));
  exports.Set("sampleNegatives", Napi::Function::New(env, SampleNegatives));
  exports.Set("denseRows", Napi::Function::New(env, DenseRows));
}

}  // namespace

RECSYS_REGISTER_EXPORTS(sampling, init);

}  // namespace recsys
