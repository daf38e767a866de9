#include "core/rating.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/blas.h"
#include "core/common.h"
#include "core/grid.h"
#include "core/rng.h"

namespace recsys {

void require_ratings(const CsrView& R, const std::string& model) {
  if (!R.data) fail_arg(model + " needs ratings: the training data has none");
}

double real_param(const Napi::Object& o, const char* key, double lo, double hi, bool lo_open) {
  const double x = as_f32(real_req(o, key, lo, hi, lo_open));
  if (lo_open && x <= lo) fail_arg(std::string(key) + " is too small");
  return x;
}

RatingScale rating_scale_arg(const Napi::Object& o, const CsrView& R) {
  const std::optional<double> lo = real_req_or_null(o, "ratingMin", -INFINITY, INFINITY);
  const std::optional<double> hi = real_req_or_null(o, "ratingMax", -INFINITY, INFINITY);
  float mn = std::numeric_limits<float>::infinity(), mx = -mn;
  if (!lo || !hi) {  // the data's range, read only when one of them was sent as null
    for (int64_t q = 0; q < R.nnz(); ++q) {
      mn = std::min(mn, R.value(q));
      mx = std::max(mx, R.value(q));
    }
    if (R.nnz() == 0) mn = mx = 0.f;
  }
  RatingScale s;
  s.lo = static_cast<float>(lo ? *lo : mn);
  s.hi = static_cast<float>(hi ? *hi : mx);
  if (s.lo > s.hi)
    fail_arg("ratingMin (" + std::to_string(s.lo) + ") must be <= ratingMax (" + std::to_string(s.hi) +
             "); the one not given is the training data's smallest / largest rating");
  return s;
}

void set_clip(FactorModel& m, const RatingScale& s) {
  m.clip = true;
  m.clip_min = s.lo;
  m.clip_max = s.hi;
}

double global_mean(const CsrView& R) {
  int64_t n = R.nnz();
  if (n == 0) return 0;
  double sum = 0;
  for (int64_t q = 0; q < n; ++q) sum += R.value(q);
  return sum / static_cast<double>(n);
}

double start_rating_model(FactorModel& m, const CsrView& R, bool biased, const RatingScale& scale) {
  const double mu = global_mean(R);
  if (biased) {
    m.global = static_cast<float>(mu);
    m.user_bias.assign(R.rows, 0.f);
    m.item_bias.assign(R.cols, 0.f);
  } else {
    m.unknown_fallback = static_cast<float>(mu);
  }
  m.mark_known(R);
  set_clip(m, scale);
  return mu;
}

SgdParams sgd_params_arg(const Napi::Object& o) {
  SgdParams p;
  p.factors = static_cast<int>(int_req(o, "factors", 1, 4096));
  p.epochs = static_cast<int>(int_req(o, "epochs", 0, 1000000));
  p.lr = real_param(o, "lr", 0, INFINITY, true);
  p.reg = real_param(o, "reg", 0, INFINITY);
  p.lr_bias = real_param(o, "lrBias", 0, INFINITY, true);
  p.reg_bias = real_param(o, "regBias", 0, INFINITY);
  p.init_mean = real_param(o, "initMean", -3e38, 3e38);
  p.init_std = real_param(o, "initStd", 0, 3e38);
  p.biased = bool_req(o, "biased");
  p.shuffle = bool_req(o, "shuffle");
  p.threads = static_cast<int>(int_req(o, "threads", 0, 1024));
  p.seed = static_cast<uint64_t>(int_req(o, "seed", 0, int64_t{1} << 53));
  return p;
}

SgdParams read_sgd_params(const StateReader& s, int factors) {
  SgdParams p;
  p.factors = factors;
  p.lr = s.real_param("lr");
  p.reg = s.real_param("reg");
  // lrBias / regBias: TS derives them from lr / reg when not given (ts/models/biased_mf.ts), also for old files.
  p.lr_bias = s.real_param("lrBias");
  p.reg_bias = s.real_param("regBias");
  p.init_mean = s.real_param("initMean");
  p.init_std = s.real_param("initStd");
  p.epochs = static_cast<int>(s.int_param("epochs", 0, 1000000));
  p.biased = s.bool_param("biased");
  p.shuffle = s.bool_param("shuffle");
  p.seed = static_cast<uint64_t>(s.int_param("seed", 0, int64_t{1} << 53));
  return p;
}

Tensor scale_tensor(const RatingScale& s) { return Tensor{{2}, {s.lo, s.hi}, {}}; }

RatingScale read_scale(StateReader& s) {
  auto c = s.f32("clip", {2});
  if (c[0] > c[1]) s.fail_tensor("clip", "must be [min, max] with min <= max");
  return RatingScale{c[0], c[1]};
}

void put_ratings(std::map<std::string, Tensor>& state, const std::string& prefix, const Csr& m) {
  state[prefix + "_indptr"] = Tensor{{m.rows + 1}, {}, m.indptr};
  state[prefix + "_items"] = Tensor{{static_cast<int64_t>(m.indices.size())}, {}, m.indices};
  state[prefix + "_ratings"] = Tensor{{static_cast<int64_t>(m.data.size())}, m.data, {}};
}

Csr read_ratings(StateReader& s, const std::string& prefix, int32_t rows, int32_t cols) {
  Csr m;
  m.rows = rows;
  m.cols = cols;
  m.indptr = s.i32(prefix + "_indptr", {rows + 1});
  m.indices = s.i32(prefix + "_items", {-1});
  check_csr(s, m.indptr, m.indices, rows, cols, (prefix + "_indptr").c_str());
  for (int32_t r = 0; r < rows; ++r)  // merges and dense rows rely on sorted, unique items
    for (int32_t q = m.indptr[r] + 1; q < m.indptr[r + 1]; ++q)
      if (m.indices[q] <= m.indices[q - 1])
        s.fail_tensor(prefix + "_items", "must be sorted and unique within each row");
  m.data = s.f32(prefix + "_ratings", {static_cast<int64_t>(m.indices.size())});
  return m;
}

void sgd_fold_in(const FactorModel& m, const SgdParams& p, const int32_t* items, const float* values, int n,
                 const float* z, float* p_out, float* bu_out) {
  const int k = m.factors;
  Rng rng(p.seed, 0xF01D1A);
  rng.fill_normal(p_out, k, p.init_mean, p.init_std);
  float bu = 0.f;
  const float lr = static_cast<float>(p.lr), reg = static_cast<float>(p.reg);
  const float lrb = static_cast<float>(p.lr_bias), regb = static_cast<float>(p.reg_bias);
  const bool biases = !m.item_bias.empty();
  for (int e = 0; e < p.epochs; ++e) {
    for (int t = 0; t < n; ++t) {
      const int32_t i = items[t];
      const float* q = m.V.data() + static_cast<int64_t>(i) * k;
      float est = blas::dot(p_out, q, k) + (z ? blas::dot(z, q, k) : 0.f);
      if (biases) est += m.global + bu + m.item_bias[i];
      const float err = values[t] - est;
      if (biases) bu += lrb * (err - regb * bu);
      for (int f = 0; f < k; ++f) p_out[f] += lr * (err * q[f] - reg * p_out[f]);
    }
  }
  *bu_out = biases ? bu : 0.f;
}

}  // namespace recsys
