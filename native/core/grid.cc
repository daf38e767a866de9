#include "core/grid.h"

#include "core/common.h"

namespace recsys {

namespace {
// Group of each row: a seeded permutation (or the identity) cut into B runs of about total / B entries, so
// blocks hold similar numbers of ratings even when row lengths are skewed.
std::vector<int32_t> balanced_groups(const std::vector<int64_t>& weight, int B, Rng* rng) {
  int64_t n = static_cast<int64_t>(weight.size());
  std::vector<int32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  if (rng)
    for (int64_t j = n - 1; j > 0; --j) std::swap(perm[j], perm[rng->below(static_cast<uint32_t>(j + 1))]);
  int64_t total = 0;
  for (int64_t w : weight) total += w;
  std::vector<int32_t> group(n, 0);
  int64_t cum = 0;
  for (int64_t p = 0; p < n; ++p) {
    int32_t r = perm[p];
    // The run a row falls in is decided by the midpoint of its weight, so one heavy row cannot push the whole
    // next run over.
    int64_t mid = cum + weight[r] / 2;
    group[r] = total > 0 ? static_cast<int32_t>(std::min<int64_t>(B - 1, mid * B / total)) : 0;
    cum += weight[r];
  }
  return group;
}
}  // namespace

RatingGrid::RatingGrid(const CsrView& R, int blocks, uint64_t seed, bool shuffle) : B_(blocks) {
  if (blocks < 1 || blocks > 1024) fail_arg("blocks must be in [1, 1024], got " + std::to_string(blocks));
  Rng rng(seed, 0x9121D);
  std::vector<int64_t> wu(R.rows), wi(R.cols, 0);
  for (int32_t u = 0; u < R.rows; ++u) wu[u] = R.row_len(u);
  for (int64_t q = 0; q < R.nnz(); ++q) ++wi[R.indices[q]];
  std::vector<int32_t> gu = balanced_groups(wu, B_, shuffle ? &rng : nullptr);
  std::vector<int32_t> gi = balanced_groups(wi, B_, shuffle ? &rng : nullptr);
  // Counting sort of ratings into blocks, CSR order kept inside a block.
  offsets_.assign(static_cast<size_t>(B_) * B_ + 1, 0);
  for (int32_t u = 0; u < R.rows; ++u)
    for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) ++offsets_[gu[u] * B_ + gi[R.indices[q]] + 1];
  for (size_t b = 0; b + 1 < offsets_.size(); ++b) offsets_[b + 1] += offsets_[b];
  entries_.resize(R.nnz());
  std::vector<int64_t> pos(offsets_.begin(), offsets_.end() - 1);
  for (int32_t u = 0; u < R.rows; ++u)
    for (int32_t q = R.row_begin(u); q < R.row_end(u); ++q) {
      int32_t i = R.indices[q];
      entries_[pos[gu[u] * B_ + gi[i]]++] = RatingEntry{u, i, R.value(q)};
    }
  if (shuffle) {
    for (int b = 0; b < B_ * B_; ++b) {
      RatingEntry* e = entries_.data() + offsets_[b];
      int64_t n = offsets_[b + 1] - offsets_[b];
      for (int64_t j = n - 1; j > 0; --j) std::swap(e[j], e[rng.below(static_cast<uint32_t>(j + 1))]);
    }
  }
}

}  // namespace recsys
