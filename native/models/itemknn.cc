// ItemKNN: item-item nearest neighbours for implicit feedback, with the weightings of implicit's ItemItem models.
// The items x users matrix is weighted (cosine: rows L2-normalised; TF-IDF: sqrt(r) * idf(user), rows then
// L2-normalised; BM25: r (K1 + 1) / (K1 * lengthNorm(item) + r) * idf(user), idf = log(N_items / (1 + n_user)),
// lengthNorm = 1 - B + B * rowSum / meanRowSum), similarities are the weighted rows' dot products, and each item
// keeps its k most similar other items (sparse). A user's score for item j sums r_ui * sim(i, j) over the items i
// the user interacted with (r = 1 for binary data).
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "core/common.h"
#include "core/fit.h"
#include "core/model.h"
#include "core/threads.h"

namespace recsys {
namespace {

enum class Weighting { Cosine, TfIdf, Bm25 };

class ItemKnnModel : public Model {
 public:
  int32_t users = 0, items = 0;
  UserRows rows;  // the training interactions, scoring known users
  // Neighbour lists: item i's neighbours nb_items[nb_ptr[i] .. nb_ptr[i+1]) sorted by item index.
  std::vector<int32_t> nb_ptr, nb_items;
  std::vector<float> nb_sims;

  std::string kind() const override { return "ItemKNN"; }
  int32_t n_users() const override { return users; }
  int32_t n_items() const override { return items; }

  void accumulate(const int32_t* its, const float* vals, int64_t n, float* out) const {
    std::fill(out, out + items, 0.f);
    for (int64_t p = 0; p < n; ++p) {
      int32_t i = its[p];
      if (i < 0 || i >= items) continue;
      float r = vals && !rows.binary ? vals[p] : 1.f;
      for (int32_t q = nb_ptr[i]; q < nb_ptr[i + 1]; ++q) out[nb_items[q]] += r * nb_sims[q];
    }
  }
  void score_user(int32_t u, float* out) const override {
    accumulate(rows.items_of(u), rows.values_of(u), rows.length(u), out);
  }
  void score_new_user(const int32_t* its, const float* vals, int n, float* out) const override {
    accumulate(its, vals, n, out);
  }
  float predict(int32_t u, int32_t j) const override {
    if (u < 0 || u >= users || j < 0 || j >= items) return 0.f;
    float s = 0.f;
    for (int32_t p = rows.indptr[u]; p < rows.indptr[u + 1]; ++p) {
      int32_t i = rows.indices[p];
      const int32_t* b = nb_items.data() + nb_ptr[i];
      const int32_t* e = nb_items.data() + nb_ptr[i + 1];
      const int32_t* f = std::lower_bound(b, e, j);
      if (f != e && *f == j) s += rows.value(p) * nb_sims[f - nb_items.data()];
    }
    return s;
  }
  // Only the kept neighbours have a similarity; the others are NaN, so they are never returned.
  void similar_items(int32_t i, float* out) const override {
    std::fill(out, out + items, std::numeric_limits<float>::quiet_NaN());
    for (int32_t q = nb_ptr[i]; q < nb_ptr[i + 1]; ++q) out[nb_items[q]] = nb_sims[q];
  }
  std::map<std::string, Tensor> state() const override {
    std::map<std::string, Tensor> s;
    s["neighbor_indptr"] = Tensor{{items + 1}, {}, nb_ptr};
    s["neighbor_items"] = Tensor{{static_cast<int64_t>(nb_items.size())}, {}, nb_items};
    s["neighbor_scores"] = Tensor{{static_cast<int64_t>(nb_sims.size())}, nb_sims, {}};
    rows.put_state(s);
    return s;
  }
  size_t memory_bytes() const override {
    return rows.bytes() + (nb_ptr.size() + nb_items.size()) * sizeof(int32_t) + nb_sims.size() * sizeof(float);
  }
  // An upper bound of |score| of a known user: max over users of sum |r_ui|, times max |sim|. Past the float range
  // some score is +-Infinity, though every number the model holds is finite.
  double score_bound() const { return rows.max_abs_row_sum() * max_abs_or_inf(nb_sims); }
};

constexpr double kFloatMax = std::numeric_limits<float>::max();

// fitItemKNN(csr, csc, {similarity, k, k1, b, binary, threads}, runOptions)
Napi::Value FitItemKNN(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    CsrView R = csr_fit_arg(info[0], "train", info[3]);
    CsrView C = csr_fit_arg(info[1], "trainTransposed", info[3]);
    check_transposed(R, C, "trainTransposed");
    if (C.rows != R.cols || C.cols != R.rows || C.nnz() != R.nnz())
      fail_arg("trainTransposed is not the transpose of train");
    if ((R.data == nullptr) != (C.data == nullptr))
      fail_arg("train and trainTransposed must both have values or neither");
    auto o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(info.Env());
    std::string sim = string_req(o, "similarity");
    Weighting w;
    if (sim == "cosine") w = Weighting::Cosine;
    else if (sim == "tfidf") w = Weighting::TfIdf;
    else if (sim == "bm25") w = Weighting::Bm25;
    else fail_arg("similarity must be 'cosine', 'tfidf' or 'bm25', got '" + sim + "'");
    int k = static_cast<int>(int_req(o, "k", 1, 1 << 20));
    double k1 = real_req(o, "k1", 0, 1e6);
    double bb = real_req(o, "b", 0, 1);
    bool binary = bool_req(o, "binary");
    int threads = static_cast<int>(int_req(o, "threads", 0, 1024));
    if (binary) R.data = C.data = nullptr;
    auto run = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(info.Env());
    {
      const double ni = R.cols, nt = resolve_threads(threads);
      check_memory("ItemKNN", 16 * ni * std::min<double>(k, ni) + 16 * nt * ni + 12.0 * R.nnz(),
                   "the neighbour lists (items x k) and each thread's item accumulators", max_memory_arg(o),
                   "use a smaller k");
    }
    return run_fit(
        info, run,
        [R, C, w, k, k1, bb, binary, threads](FitContext& ctx) -> std::shared_ptr<Model> {
          const int32_t ni = R.cols, nu = R.rows;
          const int64_t nnz = R.nnz();
          // Per-user idf and per-item norms / lengths, then the weight of every entry in both layouts.
          std::vector<double> idf(nu, 1.0), item_scale(ni, 1.0), len_norm(ni, 1.0);
          if (w != Weighting::Cosine)
            for (int32_t u = 0; u < nu; ++u) idf[u] = std::log(static_cast<double>(ni) / (1.0 + R.row_len(u)));
          auto tf = [&](float r) -> double {
            return w == Weighting::TfIdf ? std::sqrt(std::abs(static_cast<double>(r))) * (r < 0 ? -1 : 1) : r;
          };
          if (w == Weighting::Bm25) {
            double total = 0;
            std::vector<double> sums(ni, 0.0);
            for (int32_t i = 0; i < ni; ++i) {
              for (int32_t q = C.row_begin(i); q < C.row_end(i); ++q) sums[i] += C.value(q);
              total += sums[i];
            }
            double mean = ni ? total / ni : 0.0;
            for (int32_t i = 0; i < ni; ++i) len_norm[i] = (1.0 - bb) + (mean > 0 ? bb * sums[i] / mean : 0.0);
          } else {
            for (int32_t i = 0; i < ni; ++i) {
              double s = 0;
              for (int32_t q = C.row_begin(i); q < C.row_end(i); ++q) {
                double x = tf(C.value(q)) * idf[C.indices[q]];
                s += x * x;
              }
              item_scale[i] = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
            }
          }
          auto weight = [&](float r, int32_t item, int32_t user) -> float {
            if (w == Weighting::Bm25) return static_cast<float>(r * (k1 + 1.0) / (k1 * len_norm[item] + r) * idf[user]);
            return static_cast<float>(tf(r) * idf[user] * item_scale[item]);
          };
          std::vector<float> wr(nnz), wc(nnz);
          for (int32_t u = 0; u < nu; ++u)
            for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) wr[q] = weight(R.value(q), R.indices[q], u);
          for (int32_t i = 0; i < ni; ++i)
            for (int32_t q = C.row_begin(i); q < C.row_end(i); ++q) wc[q] = weight(C.value(q), i, C.indices[q]);
          ctx.check_cancelled();

          // For each item, a dense accumulator over the items sharing a user with it; keep the k largest (ties to
          // the smaller index), stored sorted by item index. Similarities of exactly 0 are not kept (they add nothing
          // to a score). Two ways to find the touched items: when an item's work (the summed lengths of its users'
          // rows) is at least a quarter of the catalogue, the products are added without any bookkeeping and the
          // whole accumulator is scanned afterwards; for a rarer item, each first touch is recorded (a data-dependent
          // branch per product, which mispredicts on first touches) so the cost stays proportional to its work.
          std::vector<std::vector<int32_t>> nb_i(ni);
          std::vector<std::vector<float>> nb_s(ni);
          int nt = resolve_threads(threads);
          std::vector<std::vector<float>> accs(nt);
          std::vector<std::vector<int32_t>> marks(nt), touched(nt);
          std::vector<std::vector<std::pair<float, int32_t>>> cands(nt);
          parallel_for(
              ni, nt,
              [&](int64_t i64, int tid) {
        if (ctx.cancelled()) return;  // every remaining item is skipped; the check after the loop throws
        int32_t i = static_cast<int32_t>(i64);
        auto& acc = accs[tid];
        auto& mark = marks[tid];  // mark[j] == i + 1: j already touched for item i
        auto& t = touched[tid];
        auto& c = cands[tid];
        if (acc.empty()) {
          acc.assign(ni, 0.f);
          mark.assign(ni, 0);
        }
        c.clear();
        int64_t work = 0;
        for (int32_t q = C.row_begin(i); q < C.row_end(i); ++q) work += R.row_len(C.indices[q]);
        if (work * 4 >= ni) {
          float* __restrict ac = acc.data();
          for (int32_t q = C.row_begin(i); q < C.row_end(i); ++q) {
            const float a = wc[q];
            const int32_t u = C.indices[q];
            const int32_t* __restrict js = R.indices + R.row_begin(u);
            const float* __restrict ws = wr.data() + R.row_begin(u);
            const int32_t len = R.row_len(u);
            for (int32_t p = 0; p < len; ++p) ac[js[p]] += a * ws[p];
          }
          ac[i] = 0.f;
          for (int32_t j = 0; j < ni; ++j)
            if (ac[j] != 0.f) {
              c.emplace_back(ac[j], j);
              ac[j] = 0.f;
            }
        } else {
          t.clear();
          for (int32_t q = C.row_begin(i); q < C.row_end(i); ++q) {
            float a = wc[q];
            int32_t u = C.indices[q];
            for (int32_t p = R.row_begin(u); p < R.row_end(u); ++p) {
              int32_t j = R.indices[p];
              if (j == i) continue;
              if (mark[j] != i + 1) {
                mark[j] = i + 1;
                t.push_back(j);
              }
              acc[j] += a * wr[p];
            }
          }
          for (int32_t j : t) {
            if (acc[j] != 0.f) c.emplace_back(acc[j], j);
            acc[j] = 0.f;
          }
        }
        auto better = [](const std::pair<float, int32_t>& x, const std::pair<float, int32_t>& y) {
          return x.first > y.first || (x.first == y.first && x.second < y.second);
        };
        if (static_cast<int64_t>(c.size()) > k) {
          std::nth_element(c.begin(), c.begin() + k, c.end(), better);
          c.resize(k);
        }
        std::sort(c.begin(), c.end(), [](const auto& x, const auto& y) { return x.second < y.second; });
        nb_i[i].reserve(c.size());
        nb_s[i].reserve(c.size());
        for (auto& [s, j] : c) {
          nb_i[i].push_back(j);
          nb_s[i].push_back(s);
        }
              },
              16);
          ctx.check_cancelled();
          ctx.progress(1, 1, NAN, "similarity");

          auto m = std::make_shared<ItemKnnModel>();
          m->users = nu;
          m->items = ni;
          m->rows.assign(R, binary);
          m->nb_ptr.assign(static_cast<size_t>(ni) + 1, 0);
          for (int32_t i = 0; i < ni; ++i) m->nb_ptr[i + 1] = m->nb_ptr[i] + static_cast<int32_t>(nb_i[i].size());
          m->nb_items.reserve(m->nb_ptr[ni]);
          m->nb_sims.reserve(m->nb_ptr[ni]);
          for (int32_t i = 0; i < ni; ++i) {
            m->nb_items.insert(m->nb_items.end(), nb_i[i].begin(), nb_i[i].end());
            m->nb_sims.insert(m->nb_sims.end(), nb_s[i].begin(), nb_s[i].end());
          }
          // A model that saves must load: the loader refuses what this refuses.
          if (m->score_bound() > kFloatMax)
            fail_diverged("ItemKNN", "ratings and similarities so large that scores overflow the float range");
          return m;
        },
        {info[0], info[1]});
  });
}

void init(Napi::Env env, Napi::Object exports) { exports.Set("fitItemKNN", Napi::Function::New(env, FitItemKNN)); }

std::shared_ptr<Model> restore_itemknn(StateReader& s) {
  auto m = std::make_shared<ItemKnnModel>();
  m->users = s.users();
  m->items = s.items();
  m->nb_ptr = s.i32("neighbor_indptr", {m->items + 1});
  m->nb_items = s.i32("neighbor_items", {-1});
  m->nb_sims = s.f32("neighbor_scores", {static_cast<int64_t>(m->nb_items.size())});
  check_csr(s, m->nb_ptr, m->nb_items, m->items, m->items, "neighbor_indptr");
  for (int32_t i = 0; i < m->items; ++i)  // predict() binary-searches each list
    for (int32_t q = m->nb_ptr[i] + 1; q < m->nb_ptr[i + 1]; ++q)
      if (m->nb_items[q] <= m->nb_items[q - 1]) s.fail_tensor("neighbor_items", "must be sorted within each item");
  m->rows.restore(s, m->users, m->items);
  if (m->score_bound() > kFloatMax)
    s.fail_tensor("neighbor_scores", "holds values so large that scores would overflow the float range");
  return m;
}

}  // namespace

RECSYS_REGISTER_EXPORTS(itemknn, init);
RECSYS_REGISTER_RESTORER(ItemKNN, restore_itemknn);

}  // namespace recsys
