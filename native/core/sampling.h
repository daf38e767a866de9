// Negative sampling and mini-batch assembly for models trained on implicit feedback (NeuMF's pointwise log loss,
// BPR-style triples, Mult-VAE's dense user rows). Everything is seeded: a (seed, stream) pair gives the same draws
// on every machine and for every thread count, because each user (or output position) has its own stream.
#pragma once
#include <cstdint>
#include <vector>

#include "core/csr.h"
#include "core/rng.h"

namespace recsys {

// Uniform negatives: an item the user has no interaction with in R, every such item equally likely. Membership
// is a users x items bitmap when that is no bigger than the CSR's indices (one load per test), else a binary
// search in the user's sorted row. A user who has seen more than half the catalogue draws the r-th unseen item
// directly instead of rejecting, so a draw never loops long. R must outlive the sampler.
class NegativeSampler {
 public:
  explicit NegativeSampler(const CsrView& R);
  // One negative for user u (0 <= u < rows); -1 when u has interacted with every item.
  int32_t draw(int32_t u, Rng& rng) const;
  // Whether (u, i) is an interaction of R.
  bool seen(int32_t u, int32_t i) const;
  const CsrView& matrix() const { return R_; }

 private:
  CsrView R_;
  std::vector<uint64_t> bits_;
};

// Inline: BPR calls these once per SGD step.
inline bool NegativeSampler::seen(int32_t u, int32_t i) const {
  if (!bits_.empty()) {
    uint64_t bit = static_cast<uint64_t>(u) * R_.cols + i;
    return ((bits_[bit >> 6] >> (bit & 63)) & 1) != 0;
  }
  // Branch-free binary search (a conditional move per step): sampled items are random, so a branching search
  // would mispredict about half its steps.
  const int32_t* base = R_.indices + R_.row_begin(u);
  int32_t n = R_.row_len(u);
  if (n == 0) return false;
  while (n > 1) {
    const int32_t half = n / 2;
    base = base[half] <= i ? base + half : base;
    n -= half;
  }
  return *base == i;
}

inline int32_t NegativeSampler::draw(int32_t u, Rng& rng) const {
  const int32_t len = R_.row_len(u), cols = R_.cols;
  if (len >= cols) return -1;
  if (static_cast<int64_t>(len) * 2 <= cols) {
    // Rejection: fewer than two draws expected.
    for (;;) {
      int32_t c = static_cast<int32_t>(rng.below(static_cast<uint32_t>(cols)));
      if (!seen(u, c)) return c;
    }
  }
  // Dense row: the r-th unseen item, walking the sorted row (each seen item at or below the candidate shifts it).
  int32_t c = static_cast<int32_t>(rng.below(static_cast<uint32_t>(cols - len)));
  for (int32_t q = R_.row_begin(u); q < R_.row_end(u) && R_.indices[q] <= c; ++q) ++c;
  return c;
}

// The random stream of user u's negatives in epoch `epoch` (also used by sample_for_users with position ids).
Rng sampling_stream(uint64_t seed, uint64_t epoch, uint64_t id);

// One epoch of pointwise examples: each interaction (u, i) of R as label 1, followed by `negatives` draws (u, j)
// with label 0 (none for a user who has seen everything). Shuffled (Fisher-Yates on one stream) when `shuffle`.
// Deterministic for (seed, epoch) whatever `threads` is.
struct PointwiseEpoch {
  std::vector<int32_t> users, items;
  std::vector<float> labels;
};
PointwiseEpoch pointwise_epoch(const CsrView& R, int negatives, uint64_t seed, uint64_t epoch, bool shuffle,
                               int threads);

// One negative per entry of users[0..n) into out (out[p] = -1 when users[p] has seen every item); entry p draws
// from its own stream, so the result does not depend on threads.
void sample_for_users(const NegativeSampler& s, const int32_t* users, int64_t n, uint64_t seed, uint64_t epoch,
                      int32_t* out, int threads);

// Dense rows of a CSR for a mini-batch: out[r * cols + c] = value of (rows[r], c), 0 elsewhere. binary: every
// stored entry counts as 1. l2_normalize: each row divided by its Euclidean norm (before dropout, as Mult-VAE
// does). dropout in [0, 1): each stored entry is zeroed with that probability and the survivors scaled by
// 1 / (1 - dropout) (inverted dropout), entry (row r, position q) drawing from stream (seed, epoch, rows[r]).
struct DenseRowsOptions {
  bool binary = false;
  bool l2_normalize = false;
  double dropout = 0;
  uint64_t seed = 0, epoch = 0;
};
void dense_rows(const CsrView& R, const int32_t* rows, int64_t n, const DenseRowsOptions& o, float* out, int threads);

// The same values in sparse form (for models whose first layer is a sum of item or user vectors): entry p is
// (row rows[row_of[p]], column indices[p]) with value values[p]; dropped entries are left out.
struct RowEntries {
  std::vector<int32_t> row_of, indices;
  std::vector<float> values;
};
RowEntries csr_rows(const CsrView& R, const int32_t* rows, int64_t n, const DenseRowsOptions& o);

}  // namespace recsys
