// Neighbourhood rating models, Surprise's KNNBasic / KNNWithMeans / KNNBaseline (Koren 2010, section 2.2):
// user-based (neighbours are users who rated the item) or item-based (items the user rated), with the
// similarities msd, cosine, pearson and pearson_baseline (shrunk). The prediction rule is Surprise's: among the
// neighbours of x that rated the target, the k most similar; those with similarity > 0 weigh in; fewer than
// min_k of them means no neighbourhood term.
//
// Memory stays bounded: instead of Surprise's dense |X|^2 similarity matrix, each row keeps a sparse list of
// its neighbours with positive similarity (the only ones the rule can use), capped at the maxNeighbors most
// similar. With the default cap (every neighbour while |X| <= 4096, else the top 512) the rule is Surprise's
// exactly on small data; above the cap a prediction sees only the row's top neighbours.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/rating.h"
#include "core/threads.h"
#include "models/baseline.h"

namespace recsys {

namespace {

enum class Sim { Msd, Cosine, Pearson, PearsonBaseline };
enum class Mode { Basic, Means, Baseline };

Sim sim_from(const std::string& s) {
  if (s == "msd") return Sim::Msd;
  if (s == "cosine") return Sim::Cosine;
  if (s == "pearson") return Sim::Pearson;
  if (s == "pearson_baseline") return Sim::PearsonBaseline;
  fail_arg("similarity must be one of 'msd', 'cosine', 'pearson', 'pearson_baseline', got '" + s + "'");
}

struct Neighbor {
  int32_t id;
  float sim;
};

// Most similar first, then smaller id: the order "the k most similar" is taken in.
inline bool more_similar(const Neighbor& a, const Neighbor& b) {
  return a.sim > b.sim || (a.sim == b.sim && a.id < b.id);
}

struct SimSettings {
  Sim sim = Sim::PearsonBaseline;
  int min_support = 1;
  double shrinkage = 100;
  double mu = 0;
};

// One side of the data as the similarity sees it: rows x (the entities compared) over columns y.
struct Side {
  CsrView X;                  // x -> (y, r)
  CsrView Y;                  // y -> (x, r)
  const float* bx = nullptr;  // baselines of x and y (pearson_baseline only)
  const float* by = nullptr;
};

// Similarities of one row against every x2, accumulated densely over the rows' common columns. One per thread.
class SimRow {
 public:
  explicit SimRow(int32_t n) : freq_(n, 0), a_(n), b_(n), c_(n), d_(n), e_(n) {}

  // Appends (x2, sim) with sim > 0 for every x2 != self sharing at least min_support columns with the row
  // (ys[t], rs[t]); bx_self is the row's own baseline (pearson_baseline).
  void compute(const Side& s, const SimSettings& st, const int32_t* ys, const float* rs, int32_t n, float bx_self,
               int32_t self, std::vector<Neighbor>& out) {
    touched_.clear();
    for (int32_t t = 0; t < n; ++t) {
      const int32_t y = ys[t];
      const double rx = rs[t];
      const double dx = st.sim == Sim::PearsonBaseline ? rx - (st.mu + bx_self + s.by[y]) : rx;
      const double base_y = st.sim == Sim::PearsonBaseline ? st.mu + s.by[y] : 0.0;
      for (int32_t q = s.Y.row_begin(y); q < s.Y.row_end(y); ++q) {
        const int32_t x2 = s.Y.indices[q];
        const double r2 = s.Y.data[q];
        if (freq_[x2]++ == 0) {
          touched_.push_back(x2);
          a_[x2] = b_[x2] = c_[x2] = d_[x2] = e_[x2] = 0;
        }
        switch (st.sim) {
          case Sim::Msd:
            a_[x2] += (rx - r2) * (rx - r2);
            break;
          case Sim::Cosine:
            a_[x2] += rx * r2;
            b_[x2] += rx * rx;
            c_[x2] += r2 * r2;
            break;
          case Sim::Pearson:
            a_[x2] += rx * r2;
            b_[x2] += rx * rx;
            c_[x2] += r2 * r2;
            d_[x2] += rx;
            e_[x2] += r2;
            break;
          case Sim::PearsonBaseline: {
            const double d2 = r2 - (base_y + s.bx[x2]);
            a_[x2] += dx * d2;
            b_[x2] += dx * dx;
            c_[x2] += d2 * d2;
            break;
          }
        }
      }
    }
    for (int32_t x2 : touched_) {
      const int32_t f = freq_[x2];
      freq_[x2] = 0;
      if (x2 == self || f < st.min_support) continue;
      double sim = 0;
      switch (st.sim) {
        case Sim::Msd:
          sim = 1.0 / (a_[x2] / f + 1.0);
          break;
        case Sim::Cosine: {
          const double den = std::sqrt(b_[x2] * c_[x2]);
          sim = den > 0 ? a_[x2] / den : 0;
          break;
        }
        case Sim::Pearson: {
          const double num = f * a_[x2] - d_[x2] * e_[x2];
          const double den = std::sqrt((f * b_[x2] - d_[x2] * d_[x2]) * (f * c_[x2] - e_[x2] * e_[x2]));
          sim = den > 0 ? num / den : 0;
          break;
        }
        case Sim::PearsonBaseline: {
          const double den = std::sqrt(b_[x2] * c_[x2]);
          sim = den > 0 ? a_[x2] / den : 0;
          sim *= (f - 1) / (f - 1 + st.shrinkage);
          break;
        }
      }
      if (sim > 0 && std::isfinite(sim)) out.push_back(Neighbor{x2, static_cast<float>(sim)});
    }
  }

 private:
  std::vector<int32_t> freq_, touched_;
  std::vector<double> a_, b_, c_, d_, e_;
};

// The neighbours kept per row for maxNeighbors (0 = every one while the side has at most 4096 entries, else 512).
int64_t neighbor_cap(int64_t max_neighbors, int64_t nx) {
  return max_neighbors > 0 ? max_neighbors : (nx <= 4096 ? 0 : 512);
}

// Keeps the cap most similar (all when cap <= 0 or enough room), sorted by id for merging.
void cap_and_sort(std::vector<Neighbor>& v, int64_t cap) {
  if (cap > 0 && static_cast<int64_t>(v.size()) > cap) {
    std::nth_element(v.begin(), v.begin() + cap, v.end(), more_similar);
    v.resize(cap);
  }
  std::sort(v.begin(), v.end(), [](const Neighbor& a, const Neighbor& b) { return a.id < b.id; });
}

struct Candidate {
  int32_t id;
  float sim;
  float r;
};

uint64_t next_model_uid() {
  static std::atomic<uint64_t> counter{1};
  return counter.fetch_add(1);
}

class KnnModel : public Model {
 public:
  const uint64_t uid = next_model_uid();  // names this model in the per-thread row cache (addresses get reused)
  Mode mode = Mode::Baseline;
  bool user_based = true;
  SimSettings sim;
  int k = 40, min_k = 1;
  int64_t cap = 0;
  int32_t nu = 0, ni = 0;
  RatingScale scale;
  double mu = 0;
  double bsl_reg_user = 15;
  std::vector<float> bu, bi;            // baselines (Baseline mode or pearson_baseline)
  std::vector<float> umean, imean;      // rating means (Means mode and fallbacks)
  std::vector<uint8_t> uknown, iknown;  // had training ratings
  // The training data, owned: the rule needs both orientations.
  Csr R, C;
  // A prediction is a baseline plus a weighted mean of rating deviations, each bounded by |mu| + |b_u| + |b_i|
  // + |r|: past the float range some prediction is +-Infinity though every number held is finite.
  double prediction_bound() const {
    auto max_abs = [](const std::vector<float>& v) {
      double a = 0;
      for (float x : v) a = std::max(a, static_cast<double>(std::abs(x)));
      return a;
    };
    return 2 * (std::abs(mu) + max_abs(bu) + max_abs(bi) + max_abs(R.data));
  }
  // Neighbour lists of the x side, each sorted by id.
  std::vector<int64_t> nptr;
  std::vector<Neighbor> nbrs;

  std::string kind() const override {
    return mode == Mode::Basic ? "KNNBasic" : mode == Mode::Means ? "KNNWithMeans" : "KNNBaseline";
  }
  int32_t n_users() const override { return nu; }
  int32_t n_items() const override { return ni; }

  const std::vector<float>& bx() const { return user_based ? bu : bi; }
  const std::vector<float>& by() const { return user_based ? bi : bu; }
  const std::vector<float>& xmean() const { return user_based ? umean : imean; }

  // The rule, given the candidates (neighbours of x with a rating of y) and x's own base term.
  // base_x: mean of x (Means) or mu + b_x (Baseline); by_y: b_y (Baseline). Returns NaN for "impossible"
  // (Basic without usable neighbours).
  float estimate(std::vector<Candidate>& cand, double base_x, double by_y) const {
    const size_t take = std::min<size_t>(cand.size(), static_cast<size_t>(k));
    if (cand.size() > take)
      std::nth_element(cand.begin(), cand.begin() + take, cand.end(), [](const Candidate& a, const Candidate& b) {
        return a.sim > b.sim || (a.sim == b.sim && a.id < b.id);
      });
    double num = 0, den = 0;
    const std::vector<float>& bxv = bx();
    const std::vector<float>& xm = xmean();
    for (size_t t = 0; t < take; ++t) {
      const Candidate& c = cand[t];
      den += c.sim;
      switch (mode) {
        case Mode::Basic:
          num += c.sim * c.r;
          break;
        case Mode::Means:
          num += c.sim * (c.r - xm[c.id]);
          break;
        case Mode::Baseline:
          num += c.sim * (c.r - (mu + bxv[c.id] + by_y));
          break;
      }
    }
    const bool enough = static_cast<int>(take) >= min_k && take > 0;
    if (mode == Mode::Basic)
      return enough && den > 0 ? static_cast<float>(num / den) : std::numeric_limits<float>::quiet_NaN();
    const double base = mode == Mode::Baseline ? base_x + by_y : base_x;
    return static_cast<float>(base + (enough && den > 0 ? num / den : 0.0));
  }

  // Predictions usually come grouped by user (a test set in CSR order), so each thread keeps one user's row
  // dense: user-based, their similarities; item-based, their ratings. A prediction is then one pass over the
  // item's raters (or neighbours) with lookups, instead of a merge of two sorted lists.
  struct UserRow {
    uint64_t model = 0;
    int32_t user = -1;
    std::vector<float> dense;
  };
  UserRow& user_row(int32_t u) const {
    static thread_local UserRow row;
    if (row.model == uid && row.user == u) return row;
    const float empty = user_based ? 0.f : std::numeric_limits<float>::quiet_NaN();
    if (row.model != uid) {
      row.dense.assign(user_based ? nu : ni, empty);
      row.model = uid;
    } else if (row.user >= 0) {  // clear the previous user's entries only
      if (user_based)
        for (int64_t p = nptr[row.user]; p < nptr[row.user + 1]; ++p) row.dense[nbrs[p].id] = empty;
      else
        for (int32_t q = R.indptr[row.user]; q < R.indptr[row.user + 1]; ++q) row.dense[R.indices[q]] = empty;
    }
    if (user_based)
      for (int64_t p = nptr[u]; p < nptr[u + 1]; ++p) row.dense[nbrs[p].id] = nbrs[p].sim;
    else
      for (int32_t q = R.indptr[u]; q < R.indptr[u + 1]; ++q) row.dense[R.indices[q]] = R.data[q];
    row.user = u;
    return row;
  }

  // Estimate of a known (u, i) pair.
  float predict_known(int32_t u, int32_t i) const {
    static thread_local std::vector<Candidate> cand;
    cand.clear();
    const std::vector<float>& d = user_row(u).dense;
    if (user_based) {
      for (int32_t q = C.indptr[i]; q < C.indptr[i + 1]; ++q) {
        const float s = d[C.indices[q]];
        if (s > 0.f) cand.push_back(Candidate{C.indices[q], s, C.data[q]});
      }
      return estimate(cand, base_of_x(u), mode == Mode::Baseline ? bi[i] : 0.0);
    }
    for (int64_t p = nptr[i]; p < nptr[i + 1]; ++p) {
      const float r = d[nbrs[p].id];
      if (!std::isnan(r)) cand.push_back(Candidate{nbrs[p].id, nbrs[p].sim, r});
    }
    return estimate(cand, base_of_x(i), mode == Mode::Baseline ? bu[u] : 0.0);
  }

  double base_of_x(int32_t x) const {
    if (mode == Mode::Means) return xmean()[x];
    if (mode == Mode::Baseline) return mu + bx()[x];
    return 0;
  }

  float fallback(int32_t u, int32_t i) const {
    const bool ku = u >= 0 && u < nu && uknown[u], ki = i >= 0 && i < ni && iknown[i];
    switch (mode) {
      case Mode::Basic:
        return static_cast<float>(mu);
      case Mode::Means:
        return ku ? umean[u] : ki ? imean[i] : static_cast<float>(mu);
      case Mode::Baseline:
        return static_cast<float>(mu + (ku ? bu[u] : 0.f) + (ki ? bi[i] : 0.f));
    }
    return static_cast<float>(mu);
  }

  float predict(int32_t u, int32_t i) const override {
    const bool ku = u >= 0 && u < nu && uknown[u], ki = i >= 0 && i < ni && iknown[i];
    float est = ku && ki ? predict_known(u, i) : fallback(u, i);
    if (std::isnan(est)) est = static_cast<float>(mu);
    return clip_to(scale, est);
  }

  // Ranking scores: the predicted rating of every item (not clipped, so ties stay rare).
  void score_user(int32_t u, float* out) const override {
    if (!(u >= 0 && u < nu && uknown[u])) {
      for (int32_t i = 0; i < ni; ++i) out[i] = fallback(u, i);
      return;
    }
    std::vector<Candidate> cand;
    if (user_based) {
      // Dense similarities of u, then every item's raters.
      std::vector<float> dense(nu, 0.f);
      for (int64_t p = nptr[u]; p < nptr[u + 1]; ++p) dense[nbrs[p].id] = nbrs[p].sim;
      for (int32_t i = 0; i < ni; ++i) {
        cand.clear();
        for (int32_t q = C.indptr[i]; q < C.indptr[i + 1]; ++q) {
          const int32_t v = C.indices[q];
          if (dense[v] > 0.f) cand.push_back(Candidate{v, dense[v], C.data[q]});
        }
        out[i] =
            finish(iknown[i] ? estimate(cand, base_of_x(u), mode == Mode::Baseline ? bi[i] : 0.0) : fallback(u, i));
      }
    } else {
      // Dense ratings of u, then every item's neighbours.
      std::vector<float> rated(ni, std::numeric_limits<float>::quiet_NaN());
      for (int32_t q = R.indptr[u]; q < R.indptr[u + 1]; ++q) rated[R.indices[q]] = R.data[q];
      for (int32_t i = 0; i < ni; ++i) {
        cand.clear();
        for (int64_t p = nptr[i]; p < nptr[i + 1]; ++p)
          if (!std::isnan(rated[nbrs[p].id])) cand.push_back(Candidate{nbrs[p].id, nbrs[p].sim, rated[nbrs[p].id]});
        out[i] =
            finish(iknown[i] ? estimate(cand, base_of_x(i), mode == Mode::Baseline ? bu[u] : 0.0) : fallback(u, i));
      }
    }
  }
  float finish(float est) const { return std::isnan(est) ? static_cast<float>(mu) : est; }

  // Fold-in: the new user's baseline (one ALS step against the item biases, as fit_baselines does for users) and
  // mean, then the rule with the new user in place of a training user.
  void score_new_user(const int32_t* its, const float* values, int n, float* out) const override {
    if (n > 0 && !values) fail_arg(kind() + " fold-in needs the new user's ratings");
    std::vector<std::pair<int32_t, float>> rows(n);
    for (int t = 0; t < n; ++t) rows[t] = {its[t], values[t]};
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.first == b.first; }), rows.end());
    const int m = static_cast<int>(rows.size());
    std::vector<int32_t> ys(m);
    std::vector<float> rs(m);
    double dev = 0, sum = 0;
    for (int t = 0; t < m; ++t) {
      ys[t] = rows[t].first;
      rs[t] = rows[t].second;
      sum += rs[t];
      if (!bi.empty()) dev += rs[t] - mu - bi[ys[t]];
    }
    const float b_new = bu.empty() ? 0.f : static_cast<float>(dev / (bsl_reg_user + m));
    const float mean_new = m > 0 ? static_cast<float>(sum / m) : static_cast<float>(mu);
    if (m == 0) {
      for (int32_t i = 0; i < ni; ++i)
        out[i] = mode == Mode::Baseline ? static_cast<float>(mu + bi[i]) : static_cast<float>(mu);
      return;
    }
    std::vector<Candidate> cand;
    if (user_based) {
      std::vector<Neighbor> nb;
      SimRow row(nu);
      Side s{R.view(), C.view(), bu.empty() ? nullptr : bu.data(), bi.empty() ? nullptr : bi.data()};
      row.compute(s, sim, ys.data(), rs.data(), m, b_new, -1, nb);
      cap_and_sort(nb, cap);
      std::vector<float> dense(nu, 0.f);
      for (const Neighbor& x : nb) dense[x.id] = x.sim;
      const double base = mode == Mode::Means ? mean_new : mu + b_new;
      for (int32_t i = 0; i < ni; ++i) {
        cand.clear();
        for (int32_t q = C.indptr[i]; q < C.indptr[i + 1]; ++q) {
          const int32_t v = C.indices[q];
          if (dense[v] > 0.f) cand.push_back(Candidate{v, dense[v], C.data[q]});
        }
        out[i] = finish(estimate(cand, base, mode == Mode::Baseline ? bi[i] : 0.0));
      }
    } else {
      std::vector<float> rated(ni, std::numeric_limits<float>::quiet_NaN());
      for (int t = 0; t < m; ++t) rated[ys[t]] = rs[t];
      for (int32_t i = 0; i < ni; ++i) {
        cand.clear();
        for (int64_t p = nptr[i]; p < nptr[i + 1]; ++p)
          if (!std::isnan(rated[nbrs[p].id])) cand.push_back(Candidate{nbrs[p].id, nbrs[p].sim, rated[nbrs[p].id]});
        out[i] = finish(iknown[i] ? estimate(cand, base_of_x(i), mode == Mode::Baseline ? b_new : 0.0)
                                  : (mode == Mode::Baseline ? static_cast<float>(mu + b_new)
                                     : mode == Mode::Means  ? mean_new
                                                            : static_cast<float>(mu)));
      }
    }
  }

  // Similarities of the stored side come from the lists; the other side's are computed on demand.
  void similar_row(bool items_side, int32_t q, float* out) const {
    const int32_t n = items_side ? ni : nu;
    std::fill(out, out + n, 0.f);
    if (items_side != user_based) {
      for (int64_t p = nptr[q]; p < nptr[q + 1]; ++p) out[nbrs[p].id] = nbrs[p].sim;
      return;
    }
    Side s = items_side ? Side{C.view(), R.view(), bi.empty() ? nullptr : bi.data(), bu.empty() ? nullptr : bu.data()}
                        : Side{R.view(), C.view(), bu.empty() ? nullptr : bu.data(), bi.empty() ? nullptr : bi.data()};
    SimRow row(n);
    std::vector<Neighbor> nb;
    row.compute(s, sim, s.X.indices + s.X.row_begin(q), s.X.data + s.X.row_begin(q), s.X.row_len(q),
                s.bx ? s.bx[q] : 0.f, q, nb);
    for (const Neighbor& x : nb) out[x.id] = x.sim;
  }
  void similar_items(int32_t i, float* out) const override { similar_row(true, i, out); }
  void similar_users(int32_t u, float* out) const override { similar_row(false, u, out); }

  size_t memory_bytes() const override {
    return static_cast<size_t>(sizeof(Neighbor) * nbrs.size() + sizeof(int64_t) * nptr.size() +
                               (sizeof(int32_t) + sizeof(float)) * (R.indices.size() + C.indices.size()) +
                               sizeof(float) * (bu.size() + bi.size() + umean.size() + imean.size()));
  }
  std::map<std::string, Tensor> state() const override {
    std::map<std::string, Tensor> s;
    const int64_t nx = static_cast<int64_t>(nptr.size()) - 1;
    if (nptr.back() > std::numeric_limits<int32_t>::max())
      fail("E_STATE", kind() + ": too many neighbours to save (over 2^31)");
    std::vector<int32_t> ptr(nptr.begin(), nptr.end()), ids(nbrs.size());
    std::vector<float> sims(nbrs.size());
    for (size_t p = 0; p < nbrs.size(); ++p) {
      ids[p] = nbrs[p].id;
      sims[p] = nbrs[p].sim;
    }
    s["neighbor_indptr"] = Tensor{{nx + 1}, {}, std::move(ptr)};
    s["neighbor_ids"] = Tensor{{static_cast<int64_t>(nbrs.size())}, {}, std::move(ids)};
    s["neighbor_sims"] = Tensor{{static_cast<int64_t>(nbrs.size())}, std::move(sims), {}};
    if (!bu.empty()) s["user_bias"] = Tensor{{nu}, bu, {}};
    if (!bi.empty()) s["item_bias"] = Tensor{{ni}, bi, {}};
    s["global_bias"] = Tensor{{1}, {static_cast<float>(mu)}, {}};
    put_ratings(s, "train", R);
    s["clip"] = scale_tensor(scale);
    return s;
  }

  // Means, known flags and the transposed ratings: everything derived from R (fit and restore share it).
  void derive_from_ratings() {
    C = transpose(R.view());
    uknown.assign(nu, 0);
    iknown.assign(ni, 0);
    umean.assign(nu, static_cast<float>(mu));
    imean.assign(ni, static_cast<float>(mu));
    auto means = [&](const Csr& m, std::vector<float>& mean, std::vector<uint8_t>& known) {
      for (int32_t r = 0; r < m.rows; ++r) {
        const int32_t n = m.indptr[r + 1] - m.indptr[r];
        if (n == 0) continue;
        double sum = 0;
        for (int32_t q = m.indptr[r]; q < m.indptr[r + 1]; ++q) sum += m.data[q];
        known[r] = 1;
        mean[r] = static_cast<float>(sum / n);
      }
    };
    means(R, umean, uknown);
    means(C, imean, iknown);
  }
};

Csr copy_csr(const CsrView& v) {
  Csr m;
  m.rows = v.rows;
  m.cols = v.cols;
  m.indptr.assign(v.indptr, v.indptr + v.rows + 1);
  m.indices.assign(v.indices, v.indices + v.nnz());
  m.data.assign(v.data, v.data + v.nnz());
  return m;
}

// fitKNN(csr, csc, {mode: 'basic'|'means'|'baseline', similarity, userBased, k, minK, shrinkage, minSupport,
// maxNeighbors, baselineEpochs, baselineRegUser, baselineRegItem, threads, ratingMin, ratingMax}, runOptions)
Napi::Value FitKNN(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[3]);
    CsrView Ct = csr_fit_arg(info[1], "trainTransposed", info[3]);
    check_transposed(R, Ct, "trainTransposed");
    require_ratings(R, "KNN");
    if (Ct.rows != R.cols || Ct.cols != R.rows || Ct.nnz() != R.nnz() || !Ct.data)
      fail_arg("trainTransposed is not the transpose of train");
    auto o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    std::string mode_s = string_req(o, "mode");
    Mode mode = mode_s == "basic" ? Mode::Basic : mode_s == "means" ? Mode::Means : Mode::Baseline;
    if (mode_s != "basic" && mode_s != "means" && mode_s != "baseline")
      fail_arg("mode must be 'basic', 'means' or 'baseline', got '" + mode_s + "'");
    SimSettings st;
    st.sim = sim_from(string_req(o, "similarity"));
    st.min_support = static_cast<int>(int_req(o, "minSupport", 0, std::numeric_limits<int32_t>::max()));
    st.shrinkage = real_param(o, "shrinkage", 0, 3e38);
    const bool user_based = bool_req(o, "userBased");
    const int k = static_cast<int>(int_req(o, "k", 1, std::numeric_limits<int32_t>::max()));
    const int min_k = static_cast<int>(int_req(o, "minK", 0, std::numeric_limits<int32_t>::max()));
    int64_t cap = int_req(o, "maxNeighbors", 0, std::numeric_limits<int32_t>::max());
    BaselineParams bp;
    bp.epochs = static_cast<int>(int_req(o, "baselineEpochs", 0, 100000));
    bp.reg_user = real_param(o, "baselineRegUser", 0, 3e38);
    bp.reg_item = real_req(o, "baselineRegItem", 0, INFINITY);
    const int threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    RatingScale scale = rating_scale_arg(o, R);
    {
      // Neighbour pairs: at most nx x the cap, and at most the pairs that share a rating (sum of squared degrees).
      const double nx = user_based ? R.rows : R.cols, nt = resolve_threads(threads);
      const double per_row = cap > 0 ? static_cast<double>(cap) : (nx <= 4096 ? nx : 512);
      const double pairs = std::min(nx * std::min(per_row, nx), pair_bound(user_based ? Ct : R));
      check_memory(mode == Mode::Basic   ? "KNNBasic"
                   : mode == Mode::Means ? "KNNWithMeans"
                                         : "KNNBaseline",
                   16 * pairs + 16 * nt * nx + 24.0 * R.nnz(),
                   "the similarity lists (" + std::to_string(static_cast<int64_t>(pairs)) + " pairs)",
                   max_memory_arg(o), "set maxNeighbors lower");
    }
    auto run = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(info.Env());
    return run_fit(info, run,
                   [=](FitContext& ctx) -> std::shared_ptr<Model> {
                     auto m = std::make_shared<KnnModel>();
                     m->mode = mode;
                     m->user_based = user_based;
                     m->sim = st;
                     m->k = k;
                     m->min_k = min_k;
                     m->nu = R.rows;
                     m->ni = R.cols;
                     m->scale = scale;
                     m->bsl_reg_user = bp.reg_user;
                     m->R = copy_csr(R);
                     // Scalars at float precision, as a saved model stores them, so a loaded model computes the same.
                     m->mu = as_f32(global_mean(R));
                     m->sim.mu = m->mu;
                     m->derive_from_ratings();
                     if (mode == Mode::Baseline || st.sim == Sim::PearsonBaseline) {
                       Baselines b = fit_baselines(R, Ct, bp, threads);
                       m->bu = std::move(b.bu);
                       m->bi = std::move(b.bi);
                     }
                     ctx.progress(1, 3, NAN, "baselines");
                     const Side side = user_based ? Side{m->R.view(), m->C.view(), m->bu.data(), m->bi.data()}
                                                  : Side{m->C.view(), m->R.view(), m->bi.data(), m->bu.data()};
                     const int32_t nx = side.X.rows;
                     m->cap = neighbor_cap(cap, nx);
                     // Rows in parallel, each into its own list; then one contiguous array.
                     std::vector<std::vector<Neighbor>> lists(nx);
                     const int nt = resolve_threads(threads);
                     std::vector<std::unique_ptr<SimRow>> rows(nt);
                     parallel_for(
                         nx, nt,
                         [&](int64_t x, int tid) {
        if (ctx.cancelled()) return;  // rows are long on big data: stop early, the check below throws
        if (!rows[tid]) rows[tid] = std::make_unique<SimRow>(nx);
        const int32_t r = static_cast<int32_t>(x);
        rows[tid]->compute(side, m->sim, side.X.indices + side.X.row_begin(r), side.X.data + side.X.row_begin(r),
                           side.X.row_len(r), side.bx ? side.bx[r] : 0.f, r, lists[x]);
        cap_and_sort(lists[x], m->cap);
                         },
                         16);
                     ctx.check_cancelled();
                     ctx.progress(2, 3, NAN, "similarities");
                     m->nptr.assign(static_cast<size_t>(nx) + 1, 0);
                     for (int32_t x = 0; x < nx; ++x)
                       m->nptr[x + 1] = m->nptr[x] + static_cast<int64_t>(lists[x].size());
                     m->nbrs.resize(m->nptr[nx]);
                     for (int32_t x = 0; x < nx; ++x) {
                       std::copy(lists[x].begin(), lists[x].end(), m->nbrs.begin() + m->nptr[x]);
                       std::vector<Neighbor>().swap(lists[x]);
                     }
                     ctx.progress(3, 3, NAN, "neighbors");
                     // A model that saves must load: the loader refuses what this refuses.
                     if (m->prediction_bound() > std::numeric_limits<float>::max())
                       fail_diverged(m->kind(), "ratings so large that predictions overflow the float range");
                     return m;
                   },
                   {info[0], info[1]});
  });
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("fitKNN", Napi::Function::New(env, FitKNN)); }

std::shared_ptr<Model> restore_knn(StateReader& s) {
  auto m = std::make_shared<KnnModel>();
  m->mode = s.kind() == "KNNBasic" ? Mode::Basic : s.kind() == "KNNWithMeans" ? Mode::Means : Mode::Baseline;
  m->nu = s.users();
  m->ni = s.items();
  const int64_t int_max = std::numeric_limits<int32_t>::max();
  m->user_based = s.bool_param("userBased");
  m->sim.sim = sim_from(s.string_param("similarity"));
  m->sim.min_support = static_cast<int>(s.int_param("minSupport", 0, int_max));
  m->k = static_cast<int>(s.int_param("k", 1, int_max));
  m->min_k = static_cast<int>(s.int_param("minK", 0, int_max));
  m->cap = neighbor_cap(s.int_param("maxNeighbors", 0, int_max), m->user_based ? m->nu : m->ni);
  m->sim.shrinkage = s.real_param("shrinkage");
  m->bsl_reg_user = s.real_param("baselineRegUser");
  m->mu = s.scalar("global_bias");
  m->sim.mu = m->mu;
  m->scale = read_scale(s);
  m->R = read_ratings(s, "train", m->nu, m->ni);
  m->derive_from_ratings();
  if (s.has("user_bias") || m->mode == Mode::Baseline || m->sim.sim == Sim::PearsonBaseline) {
    m->bu = s.f32("user_bias", {m->nu});
    m->bi = s.f32("item_bias", {m->ni});
  }
  const int32_t nx = m->user_based ? m->nu : m->ni;
  auto ptr = s.i32("neighbor_indptr", {nx + 1});
  auto ids = s.i32("neighbor_ids", {-1});
  check_csr(s, ptr, ids, nx, nx, "neighbor_indptr");
  auto sims = s.f32("neighbor_sims", {static_cast<int64_t>(ids.size())});
  // Every similarity a fit computes (cosine, MSD, Pearson, shrunk Pearson-baseline) lies in [-1, 1]; a file with
  // others (a crafted 3e38) made recommend answer Infinity. A little slack for rounding.
  for (size_t p = 0; p < sims.size(); ++p)
    if (!(std::abs(sims[p]) <= 1.001f))
      s.fail_tensor("neighbor_sims",
                    "holds " + std::to_string(sims[p]) + " at " + std::to_string(p) + "; similarities lie in [-1, 1]");
  if (m->prediction_bound() > std::numeric_limits<float>::max())
    s.fail_tensor("global_bias",
                  "and the biases and ratings are so large that predictions would overflow the float range");
  m->nptr.assign(ptr.begin(), ptr.end());
  m->nbrs.resize(ids.size());
  for (size_t p = 0; p < ids.size(); ++p) m->nbrs[p] = Neighbor{ids[p], sims[p]};
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(rating_knn, init);
RECSYS_REGISTER_RESTORER(KNNBasic, restore_knn);
RECSYS_REGISTER_RESTORER(KNNWithMeans, restore_knn);
RECSYS_REGISTER_RESTORER(KNNBaseline, restore_knn);

}  // namespace recsys
