#include "core/ann.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/blas.h"
#include "core/common.h"
#include "core/hnswlib.h"
#include "core/model.h"
#include "core/rng.h"
#include "core/threads.h"

namespace recsys {

namespace {
// Largest level a stored graph may claim: level draws are floor(-ln(u) / ln(M)), under 40 for any double u > 0.
constexpr int kMaxLevel = 64;
// Below this fraction of eligible items the graph search wanders through excluded nodes for long and may return
// fewer than k; the exact path is cheaper then.
constexpr double kMinEligibleFraction = 0.02;
}  // namespace

struct AnnIndex::Impl {
  explicit Impl(int dim) : space(static_cast<size_t>(dim)) {}
  hnswlib::InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

AnnIndex::~AnnIndex() = default;

void AnnIndex::prepare(const float* V, const float* item_bias, std::vector<float>& data) const {
  const int d = dim();
  data.assign(static_cast<size_t>(items_) * d, 0.f);
  for (int32_t i = 0; i < items_; ++i) {
    float* y = data.data() + static_cast<int64_t>(i) * d;
    std::copy_n(V + static_cast<int64_t>(i) * factors_, factors_, y);
    if (item_bias) y[factors_] = item_bias[i];
  }
}

std::shared_ptr<AnnIndex> AnnIndex::build(const float* V, const float* item_bias, int32_t items, int32_t factors,
                                          const AnnOptions& o) {
  if (items < 1 || factors < 1) fail_arg("an approximate index needs at least one item and one factor");
  if (o.M < 2 || o.M > 256) fail_arg("annM must be in [2, 256]");
  if (o.ef_construction < 1 || o.ef_search < 1) fail_arg("annEfConstruction and annEfSearch must be >= 1");
  std::shared_ptr<AnnIndex> a(new AnnIndex());
  a->items_ = items;
  a->factors_ = factors;
  a->bias_ = item_bias != nullptr;
  a->M_ = o.M;
  a->ef_construction_ = o.ef_construction;
  a->ef_search_ = o.ef_search;
  std::vector<float> data;
  a->prepare(V, item_bias, data);
  const int d = a->dim();
  a->impl_ = std::make_unique<Impl>(d);
  a->impl_->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      &a->impl_->space, static_cast<size_t>(items), static_cast<size_t>(o.M), static_cast<size_t>(o.ef_construction),
      static_cast<size_t>(o.seed));
  auto& g = *a->impl_->graph;
  // Item 0 first (it becomes the entry point), then the rest: in order on one thread (a reproducible graph),
  // interleaved on several (hnswlib's own locking; the graph then depends on the schedule).
  g.addPoint(data.data(), 0);
  parallel_for(
      items - 1, o.threads,
      [&](int64_t j, int) { g.addPoint(data.data() + (j + 1) * d, static_cast<hnswlib::labeltype>(j + 1)); }, 256);
  // Searches go by internal id only, and so do extend's updates: the label map (hnswlib's, for updates by label)
  // is not kept.
  std::unordered_map<hnswlib::labeltype, hnswlib::tableint>().swap(g.label_lookup_);
  return a;
}

// The graph is linked by the score, and the score's neighbours of almost every item are the same few long
// vectors: few nodes get in-links, and where the item vectors fall into well-separated directions (converged ALS
// factors of distinct tastes) the graph falls apart into pieces that hnswlib's single descent from its entry point
// cannot leave (measured: recall@10 0.14 on 64 planted taste groups, 99% of the nodes without an in-link). A
// second search of the bottom layer from the landmark (one of the kLandmarks longest vectors) that scores best
// for the query starts in the query's own piece: the long vectors of every direction are among the landmarks.
void AnnIndex::pick_landmarks() {
  constexpr int32_t kLandmarks = 1024;
  const auto& g = *impl_->graph;
  const int d = dim();
  const int32_t n = static_cast<int32_t>(g.cur_element_count);
  std::vector<std::pair<float, uint32_t>> norms(static_cast<size_t>(n));
  for (int32_t c = 0; c < n; ++c) {
    const float* y = reinterpret_cast<const float*>(g.getDataByInternalId(static_cast<hnswlib::tableint>(c)));
    const float sq = blas::dot(y, y, d);  // |[v, b]|^2
    norms[c] = std::make_pair(sq, static_cast<uint32_t>(c));
  }
  const int32_t l = std::min(n, kLandmarks);
  std::partial_sort(norms.begin(), norms.begin() + l, norms.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  landmarks_.resize(l);
  for (int32_t j = 0; j < l; ++j) landmarks_[j] = norms[j].second;
}

// Picked when first switched on (an index that never uses them does not pay for them at build or load).
void AnnIndex::set_landmarks(bool on) {
  if (on && landmarks_.empty()) pick_landmarks();
  use_landmarks_ = on;
}

size_t AnnIndex::search_from_landmark(const float* query, size_t ef, hnswlib::BaseFilterFunctor* filter,
                                      const std::function<float(int32_t)>& score, std::vector<ScoredItem>& cand) const {
  const auto& g = *impl_->graph;
  hnswlib::tableint from = g.enterpoint_node_;
  float best = std::numeric_limits<float>::infinity();
  for (uint32_t c : landmarks_) {
    // Only landmarks the request may return: a seen or excluded one would lead the search to its own
    // neighbourhood, which is not where the best eligible items are.
    if (filter && !(*filter)(g.getExternalLabel(c))) continue;
    const float dist = g.fstdistfunc_(query, g.getDataByInternalId(c), g.dist_func_param_);
    if (dist < best) best = dist, from = c;
  }
  // Where the first search already reached that landmark, the second one would retrace it: skipped (the common
  // case on a connected graph, so the landmarks cost little more than their scoring there).
  const int32_t from_item = static_cast<int32_t>(g.getExternalLabel(from));
  const size_t first = cand.size();
  for (size_t j = 0; j < first; ++j)
    if (cand[j].item == from_item) return 0;
  if (from == g.enterpoint_node_) return 0;
  auto top =
      filter ? g.searchBaseLayerST<false>(from, query, ef, filter) : g.searchBaseLayerST<true>(from, query, ef, filter);
  const size_t found = top.size();
  while (!top.empty()) {
    const int32_t i = static_cast<int32_t>(g.getExternalLabel(top.top().second));
    top.pop();
    bool dup = false;
    for (size_t j = 0; j < first && !dup; ++j) dup = cand[j].item == i;
    if (!dup) cand.push_back({i, score(i)});
  }
  return found;
}

size_t AnnIndex::bytes() const {
  if (!impl_ || !impl_->graph) return 0;
  const auto& g = *impl_->graph;
  size_t upper = 0;
  for (int32_t c = 0; c < items_; ++c) upper += static_cast<size_t>(g.element_levels_[c]) * g.size_links_per_element_;
  return g.max_elements_ * (g.size_data_per_element_ + sizeof(void*) + sizeof(int) + sizeof(std::mutex)) + upper;
}

// State: ann_config i32 [5] = {M, efConstruction, efSearch, entry point, top level}; ann_labels i32 [items] (the
// item of each graph node); ann_levels i32 [items]; ann_links0 i32 [items, 2M + 1] (count, then the neighbours of
// the bottom layer); ann_links i32 [sum of levels, M + 1] (each node's upper layers 1..level in node order).
void AnnIndex::put_state(std::map<std::string, Tensor>& s) const {
  const auto& g = *impl_->graph;
  const int32_t n = items_;
  const int m0 = static_cast<int>(g.maxM0_), m = static_cast<int>(g.maxM_);
  Tensor labels{{n}, {}, std::vector<int32_t>(n)}, levels{{n}, {}, std::vector<int32_t>(n)};
  Tensor links0{{n, m0 + 1}, {}, std::vector<int32_t>(static_cast<size_t>(n) * (m0 + 1), 0)};
  int64_t total = 0;
  for (int32_t c = 0; c < n; ++c) total += g.element_levels_[c];
  Tensor links{{total, m + 1}, {}, std::vector<int32_t>(static_cast<size_t>(total) * (m + 1), 0)};
  int64_t row = 0;
  for (int32_t c = 0; c < n; ++c) {
    labels.i32[c] = static_cast<int32_t>(g.getExternalLabel(c));
    levels.i32[c] = g.element_levels_[c];
    auto copy = [&](hnswlib::linklistsizeint* ll, int32_t* dst) {
      int cnt = g.getListCount(ll);
      dst[0] = cnt;
      const auto* ids = reinterpret_cast<const hnswlib::tableint*>(ll + 1);
      for (int j = 0; j < cnt; ++j) dst[1 + j] = static_cast<int32_t>(ids[j]);
    };
    copy(g.get_linklist0(c), links0.i32.data() + static_cast<int64_t>(c) * (m0 + 1));
    for (int l = 1; l <= g.element_levels_[c]; ++l, ++row) copy(g.get_linklist(c, l), links.i32.data() + row * (m + 1));
  }
  s["ann_config"] =
      Tensor{{5}, {}, {M_, ef_construction_, ef_search_, static_cast<int32_t>(g.enterpoint_node_), g.maxlevel_}};
  s["ann_labels"] = std::move(labels);
  s["ann_levels"] = std::move(levels);
  s["ann_links0"] = std::move(links0);
  s["ann_links"] = std::move(links);
}

std::shared_ptr<AnnIndex> AnnIndex::restore(StateReader& s, const float* V, const float* item_bias, int32_t items,
                                            int32_t factors) {
  if (items < 1 || factors < 1) s.fail_tensor("ann_config", "belongs to a model with item factors");
  auto cfg = s.i32("ann_config", {5});
  const int M = cfg[0], efc = cfg[1], efs = cfg[2];
  if (M < 2 || M > 256) s.fail_tensor("ann_config", "holds M outside [2, 256]");
  if (efc < 1 || efc > 100000 || efs < 1 || efs > 100000)
    s.fail_tensor("ann_config", "holds an ef outside [1, 100000]");
  const int m0 = 2 * M;
  auto labels = s.i32("ann_labels", {items});
  auto levels = s.i32("ann_levels", {items});
  auto links0 = s.i32("ann_links0", {items, m0 + 1});
  // Labels: a permutation of the items.
  std::vector<uint8_t> hit(items, 0);
  for (int32_t x : labels) {
    if (x < 0 || x >= items || hit[x]) s.fail_tensor("ann_labels", "must list every item once");
    hit[x] = 1;
  }
  int top = 0;
  int64_t total = 0;
  for (int32_t l : levels) {
    if (l < 0 || l > kMaxLevel) s.fail_tensor("ann_levels", "holds a level outside [0, 64]");
    top = std::max(top, l);
    total += l;
  }
  auto links = s.i32("ann_links", {total, M + 1});
  const int32_t entry = cfg[3];
  if (entry < 0 || entry >= items || cfg[4] != top || levels[entry] != top)
    s.fail_tensor("ann_config", "names an entry point that is not a node of the top level");
  // Every list: a count within the layer's degree, neighbours that are nodes present on that layer.
  auto check_list = [&](const int32_t* ll, int cap, int level, const char* name) {
    if (ll[0] < 0 || ll[0] > cap)
      s.fail_tensor(name, "holds a neighbour count outside [0, " + std::to_string(cap) + "]");
    for (int j = 1; j <= ll[0]; ++j)
      if (ll[j] < 0 || ll[j] >= items || levels[ll[j]] < level)
        s.fail_tensor(name, "links to a node that is not on that layer");
  };
  for (int32_t c = 0; c < items; ++c)
    check_list(links0.data() + static_cast<int64_t>(c) * (m0 + 1), m0, 0, "ann_links0");
  {
    int64_t row = 0;
    for (int32_t c = 0; c < items; ++c)
      for (int l = 1; l <= levels[c]; ++l, ++row) check_list(links.data() + row * (M + 1), M, l, "ann_links");
  }

  std::shared_ptr<AnnIndex> a(new AnnIndex());
  a->items_ = items;
  a->factors_ = factors;
  a->bias_ = item_bias != nullptr;
  a->M_ = M;
  a->ef_construction_ = efc;
  a->ef_search_ = efs;
  std::vector<float> data;
  a->prepare(V, item_bias, data);
  const int d = a->dim();
  a->impl_ = std::make_unique<Impl>(d);
  a->impl_->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      &a->impl_->space, static_cast<size_t>(items), static_cast<size_t>(M), static_cast<size_t>(efc), 42);
  auto& g = *a->impl_->graph;
  // Fill hnswlib's structures as its loadIndex does, from the checked tensors. Zeroed first: a list header holds
  // hnswlib's deleted flag beside the count, and filtered searches read it.
  std::memset(g.data_level0_memory_, 0, g.max_elements_ * g.size_data_per_element_);
  int64_t row = 0;
  for (int32_t c = 0; c < items; ++c) {
    const int32_t label = labels[c];
    std::memcpy(g.getDataByInternalId(c), data.data() + static_cast<int64_t>(label) * d, sizeof(float) * d);
    g.setExternalLabel(c, static_cast<hnswlib::labeltype>(label));
    auto put = [&](const int32_t* src, hnswlib::linklistsizeint* ll) {
      g.setListCount(ll, static_cast<unsigned short>(src[0]));
      auto* ids = reinterpret_cast<hnswlib::tableint*>(ll + 1);
      for (int j = 0; j < src[0]; ++j) ids[j] = static_cast<hnswlib::tableint>(src[1 + j]);
    };
    put(links0.data() + static_cast<int64_t>(c) * (m0 + 1), g.get_linklist0(c));
    g.element_levels_[c] = levels[c];
    g.linkLists_[c] = nullptr;
    if (levels[c] > 0) {
      // hnswlib frees these with free() in its destructor. Sized as the patched addPoint sizes them (see
      // third_party/hnswlib/README.md), so a loaded graph has the spare entry hnswlib's update and insert paths
      // prefetch past a full list (AnnIndex::extend copies into lists of its own, sized the same way).
      const size_t bytes = g.size_links_per_element_ * levels[c] + sizeof(hnswlib::tableint);
      g.linkLists_[c] = static_cast<char*>(std::malloc(bytes));
      if (!g.linkLists_[c]) throw std::bad_alloc();
      std::memset(g.linkLists_[c], 0, bytes);
      g.element_levels_[c] = levels[c];
      for (int l = 1; l <= levels[c]; ++l, ++row) put(links.data() + row * (M + 1), g.get_linklist(c, l));
    }
    g.cur_element_count = static_cast<size_t>(c) + 1;  // the destructor frees lists of counted nodes only
  }
  g.enterpoint_node_ = static_cast<hnswlib::tableint>(entry);
  g.maxlevel_ = top;
  return a;
}

std::shared_ptr<AnnIndex> AnnIndex::extend(const AnnIndex& old, const float* V, const float* item_bias, int32_t items,
                                           int32_t factors, const int32_t* item_old, int ef_search, uint64_t seed,
                                           int threads) {
  const int32_t n0 = old.items_;
  if (!old.impl_ || !old.impl_->graph || items < n0 || factors != old.factors_ || (item_bias != nullptr) != old.bias_)
    return nullptr;
  // Every old item must map to exactly one item of the new catalogue: the graph's nodes keep their meaning.
  std::vector<int32_t> to_new(n0, -1), added;
  for (int32_t i = 0; i < items; ++i) {
    const int32_t o = item_old[i];
    if (o < -1 || o >= n0) return nullptr;
    if (o < 0) added.push_back(i);
    else if (to_new[o] >= 0) return nullptr;
    else to_new[o] = i;
  }
  if (std::find(to_new.begin(), to_new.end(), -1) != to_new.end()) return nullptr;

  std::shared_ptr<AnnIndex> a(new AnnIndex());
  a->items_ = items;
  a->factors_ = factors;
  a->bias_ = old.bias_;
  a->M_ = old.M_;
  a->ef_construction_ = old.ef_construction_;
  a->ef_search_ = ef_search;
  a->use_landmarks_ = old.use_landmarks_;
  std::vector<float> data;
  a->prepare(V, item_bias, data);
  const int d = a->dim();
  // The new items' level draws: a stream of the seed of its own per old size, so that successive extensions do not
  // repeat the draws of the build (or of each other).
  const size_t level_seed = static_cast<size_t>(hash3(seed, static_cast<uint64_t>(n0), 0x616e6e));
  a->impl_ = std::make_unique<Impl>(d);
  a->impl_->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      &a->impl_->space, static_cast<size_t>(items), static_cast<size_t>(a->M_),
      static_cast<size_t>(a->ef_construction_), level_seed);
  const auto& og = *old.impl_->graph;
  auto& g = *a->impl_->graph;
  if (g.size_data_per_element_ != og.size_data_per_element_ || g.size_links_per_element_ != og.size_links_per_element_)
    return nullptr;

  // The copy: each node's bottom layer (links, vector, label) in one block, its upper layers (allocated as the
  // patched addPoint does), its new label, and the new vector where it changed.
  std::memcpy(g.data_level0_memory_, og.data_level0_memory_, static_cast<size_t>(n0) * og.size_data_per_element_);
  std::vector<std::pair<hnswlib::tableint, int32_t>> changed;  // (node, item)
  for (int32_t c = 0; c < n0; ++c) {
    const int level = og.element_levels_[c];
    g.linkLists_[c] = nullptr;
    if (level > 0) {
      const size_t bytes = g.size_links_per_element_ * level;
      g.linkLists_[c] = static_cast<char*>(std::malloc(bytes + sizeof(hnswlib::tableint)));
      if (!g.linkLists_[c]) throw std::bad_alloc();
      std::memcpy(g.linkLists_[c], og.linkLists_[c], bytes);
      std::memset(g.linkLists_[c] + bytes, 0, sizeof(hnswlib::tableint));
    }
    g.element_levels_[c] = level;
    g.cur_element_count = static_cast<size_t>(c) + 1;  // the destructor frees lists of counted nodes only
    const int32_t item = to_new[og.getExternalLabel(c)];
    g.setExternalLabel(c, static_cast<hnswlib::labeltype>(item));
    const float* y = data.data() + static_cast<int64_t>(item) * d;
    if (std::memcmp(g.getDataByInternalId(c), y, sizeof(float) * d) != 0) {
      std::memcpy(g.getDataByInternalId(c), y, sizeof(float) * d);
      changed.emplace_back(static_cast<hnswlib::tableint>(c), item);
    }
  }
  g.enterpoint_node_ = og.enterpoint_node_;
  g.maxlevel_ = og.maxlevel_;

  // Every changed vector is in place before any links are repaired, so each repair sees the final vectors. Then
  // the new items, as build adds them: in order on one thread, interleaved on several (hnswlib's locking).
  parallel_for(
      static_cast<int64_t>(changed.size()), threads,
      [&](int64_t j, int) {
    g.updatePoint(data.data() + static_cast<int64_t>(changed[j].second) * d, changed[j].first, 1.0f);
      },
      16);
  parallel_for(
      static_cast<int64_t>(added.size()), threads,
      [&](int64_t j, int) {
    g.addPoint(data.data() + static_cast<int64_t>(added[j]) * d, static_cast<hnswlib::labeltype>(added[j]));
      },
      256);
  std::unordered_map<hnswlib::labeltype, hnswlib::tableint>().swap(g.label_lookup_);
  if (a->use_landmarks_) a->pick_landmarks();
  return a;
}

namespace {
// The recommend filters as hnswlib's per-label predicate: an optional bitmap of allowed items (include minus
// exclude) and the sorted seen row.
struct Eligible : hnswlib::BaseFilterFunctor {
  const uint64_t* allowed = nullptr;
  const int32_t* seen = nullptr;
  int64_t n_seen = 0;
  bool ok(int32_t i) const {
    if (allowed && !((allowed[i >> 6] >> (i & 63)) & 1)) return false;
    return n_seen == 0 || !std::binary_search(seen, seen + n_seen, i);
  }
  bool operator()(hnswlib::labeltype id) override { return ok(static_cast<int32_t>(id)); }
};
}  // namespace

int AnnIndex::topk(const float* p, int k, const TopKFilter& f, const std::function<float(int32_t)>& score,
                   ScoredItem* out) const {
  const int32_t n = items_;
  if (k <= 0) return 0;
  thread_local std::vector<uint64_t> bits;
  thread_local std::vector<float> query;
  thread_local std::vector<ScoredItem> cand;
  Eligible el;
  el.seen = f.seen;
  el.n_seen = f.n_seen;
  int64_t eligible = n;
  const size_t words = (static_cast<size_t>(n) + 63) / 64;
  if (f.has_include || f.n_exclude > 0) {
    bits.assign(words, f.has_include ? 0 : ~uint64_t{0});
    if (!f.has_include && n % 64) bits[words - 1] = (uint64_t{1} << (n % 64)) - 1;
    if (f.has_include)
      for (int64_t j = 0; j < f.n_include; ++j)
        if (f.include[j] >= 0 && f.include[j] < n) bits[f.include[j] >> 6] |= uint64_t{1} << (f.include[j] & 63);
    for (int64_t j = 0; j < f.n_exclude; ++j)
      if (f.exclude[j] >= 0 && f.exclude[j] < n) bits[f.exclude[j] >> 6] &= ~(uint64_t{1} << (f.exclude[j] & 63));
    eligible = 0;
    for (uint64_t w : bits) eligible += __builtin_popcountll(w);
    el.allowed = bits.data();
  }
  for (int64_t j = 0; j < f.n_seen; ++j) {
    int32_t i = f.seen[j];
    if (i < 0 || i >= n || (j > 0 && f.seen[j - 1] == i)) continue;
    if (!el.allowed || ((el.allowed[i >> 6] >> (i & 63)) & 1)) --eligible;
  }
  if (eligible <= 0) return 0;
  cand.clear();
  if (f.has_include && eligible <= std::max<int64_t>(4096, n / 64)) {
    // A short include list: score its eligible items directly (no graph needed).
    for (int64_t j = 0; j < f.n_include; ++j) {
      int32_t i = f.include[j];
      if (i < 0 || i >= n || !el.ok(i)) continue;
      bits[i >> 6] &= ~(uint64_t{1} << (i & 63));  // duplicates count once
      cand.push_back({i, score(i)});
    }
  } else {
    if (eligible < static_cast<int64_t>(kMinEligibleFraction * n)) return -1;
    const int d = dim();
    query.assign(d, 0.f);
    std::copy_n(p, factors_, query.data());
    if (bias_) query[factors_] = 1.f;
    const size_t ef = static_cast<size_t>(std::max(ef_search_, k));
    hnswlib::BaseFilterFunctor* filter = (el.allowed || el.n_seen) ? &el : nullptr;
    auto res = impl_->graph->searchKnn(query.data(), ef, filter);
    size_t found = res.size();
    while (!res.empty()) {
      int32_t i = static_cast<int32_t>(res.top().second);
      res.pop();
      cand.push_back({i, score(i)});
    }
    // With landmarks on, a second search from the best landmark the request may return.
    if (use_landmarks_) found = std::max(found, search_from_landmark(query.data(), ef, filter, score, cand));
    if (static_cast<int64_t>(found) < std::min<int64_t>(k, eligible)) return -1;
  }
  int got = static_cast<int>(std::min<size_t>(k, cand.size()));
  std::partial_sort(cand.begin(), cand.begin() + got, cand.end(), ranks_before);
  std::copy_n(cand.begin(), got, out);
  return got;
}

}  // namespace recsys
