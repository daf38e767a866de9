// Approximate top-K over a factor model's item vectors: an HNSW graph (the vendored hnswlib, native/third_party)
// built once over the items, searched per user with the recommend filters (seen, exclude, include) applied inside
// the graph search. Scores are inner products plus the item bias, so item i is stored as [v_i, b_i] and the query
// as [p_u, 1] in hnswlib's inner-product space (distance 1 - <q, y>): the graph is built and searched directly on
// the score (ip-NSW, Morozov & Babenko 2018). The other usual route, the maximum-inner-product transform to L2
// (append sqrt(R^2 - |y|^2) to items, 0 to the query), was measured here and lost badly: on 20k random items of 64
// factors with varied norms, recall@10 at ef 100 was 0.10 against 0.96 for the inner-product space (6k x 24:
// 0.90 against 1.00), because the appended coordinate dominates the L2 geometry when norms vary.
// The returned items are rescored exactly by the caller's score function, so the scores are the model's own.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/topk.h"

namespace hnswlib {
class BaseFilterFunctor;
}  // namespace hnswlib

namespace recsys {

struct Tensor;
class StateReader;

struct AnnOptions {
  int M = 16;                 // graph degree (2M at the bottom layer)
  int ef_construction = 200;  // candidate list while building
  int ef_search = 64;         // candidate list while searching (at least k)
  uint64_t seed = 42;         // level draws: the same seed and one thread give the same graph
  int threads = 1;
};

class AnnIndex {
 public:
  ~AnnIndex();
  AnnIndex(const AnnIndex&) = delete;
  AnnIndex& operator=(const AnnIndex&) = delete;

  // Builds over V (items x factors, row-major) and the optional item bias (items entries or nullptr).
  static std::shared_ptr<AnnIndex> build(const float* V, const float* item_bias, int32_t items, int32_t factors,
                                         const AnnOptions& o);
  // Reads back what put_state wrote, checking every count, id and level before the graph is used (a file's graph
  // is searched by following its links), and rebuilds the transformed vectors from V and the bias.
  static std::shared_ptr<AnnIndex> restore(StateReader& s, const float* V, const float* item_bias, int32_t items,
                                           int32_t factors);
  // ann_config, ann_labels, ann_levels, ann_links0, ann_links (see ann.cc).
  void put_state(std::map<std::string, Tensor>& s) const;
  // The index of a catalogue that grew from old's (ImplicitALS partialFit), made from a copy of old's graph, which
  // is only read (it may be searched meanwhile): item_old[i] is item i's index in old's catalogue, -1 for a new
  // item. Kept items whose vector (V and the bias) differs from the one old holds are updated in place (hnswlib's
  // updatePoint: new links for the item and its neighbours), then the new items are inserted. Same M and
  // efConstruction as old, efSearch ef_search. Deterministic on one thread: the same old graph (built or restored
  // from a file), vectors and seed give the same graph; it differs from a fresh build over the same vectors. Null
  // when the graph cannot be carried over (old items missing from the mapping, a mapping that is not one-to-one,
  // another vector layout): the caller builds one from scratch.
  static std::shared_ptr<AnnIndex> extend(const AnnIndex& old, const float* V, const float* item_bias, int32_t items,
                                          int32_t factors, const int32_t* item_old, int ef_search, uint64_t seed,
                                          int threads);

  // Up to k items of highest score for the query vector p (factors entries) that the filter allows, best first
  // (ties: smaller item), each scored by score(i). Returns -1 when the filter leaves so few items that a graph
  // search cannot be trusted to find k of them: the caller then takes the exact path.
  int topk(const float* p, int k, const TopKFilter& f, const std::function<float(int32_t)>& score,
           ScoredItem* out) const;

  int32_t items() const { return items_; }
  int M() const { return M_; }
  int ef_construction() const { return ef_construction_; }
  int ef_search() const { return ef_search_; }
  void set_ef_search(int ef) { ef_search_ = ef; }
  // Whether topk also searches from the best landmark (pick_landmarks in ann.cc). A serving setting: not saved.
  bool landmarks() const { return use_landmarks_; }
  void set_landmarks(bool on);
  size_t bytes() const;

 private:
  AnnIndex() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int32_t items_ = 0, factors_ = 0;
  // Graph nodes of the longest stored vectors: with landmarks on, topk scores them exactly and searches the bottom
  // layer a second time from the best, beside hnswlib's own descent (see pick_landmarks in ann.cc). Derived from the
  // vectors, not saved.
  std::vector<uint32_t> landmarks_;
  bool use_landmarks_ = false;
  void pick_landmarks();
  // The second search of topk: from the best landmark the filter allows, unless the first search (cand) reached
  // it; adds what it finds to cand and returns how many it found.
  size_t search_from_landmark(const float* query, size_t ef, hnswlib::BaseFilterFunctor* filter,
                              const std::function<float(int32_t)>& score, std::vector<ScoredItem>& cand) const;
  bool bias_ = false;
  int M_ = 0, ef_construction_ = 0, ef_search_ = 0;
  // Stored vector: the item factors, then the item bias when there is one.
  int dim() const { return factors_ + (bias_ ? 1 : 0); }
  void prepare(const float* V, const float* item_bias, std::vector<float>& data) const;
};

}  // namespace recsys
