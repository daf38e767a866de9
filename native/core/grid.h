// Conflict-free block schedule for parallel SGD over ratings (Gemulla et al. 2011, DSGD; Zhuang et al. 2013,
// FPSG/LIBMF). Users and items are split into B groups each, giving a B x B grid of rating blocks. The B blocks
// of one "diagonal" {(b, (b + s) mod B)} share no user and no item, so threads may update them concurrently
// with no locks, and the result does not depend on which thread took which block. An epoch walks the B
// diagonals in a seeded random order with a barrier between them. Hence a fit is reproducible for a given seed
// and B, whatever the thread count; B = 1 is plain sequential SGD.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

#include "core/csr.h"
#include "core/rng.h"
#include "core/threads.h"

namespace recsys {

struct RatingEntry {
  int32_t u, i;
  float r;
};

class RatingGrid {
 public:
  // R: users x items. Groups are built over a seeded random permutation of users (items) cut into B runs of
  // about nnz / B ratings each. shuffle = true puts each block's ratings in a seeded random order (fixed for
  // the fit); false keeps CSR order (user by user, as Surprise iterates), which with B = 1 is exactly the
  // input order.
  RatingGrid(const CsrView& R, int blocks, uint64_t seed, bool shuffle);

  int blocks() const { return B_; }
  int64_t size() const { return static_cast<int64_t>(entries_.size()); }
  const RatingEntry* begin(int rb, int cb) const { return entries_.data() + offsets_[rb * B_ + cb]; }
  const RatingEntry* end(int rb, int cb) const { return entries_.data() + offsets_[rb * B_ + cb + 1]; }

  // One pass over every rating. fn(const RatingEntry* first, const RatingEntry* last, int block, int tid) is
  // called once per non-empty block (block = rb * B + cb); blocks of a diagonal may run concurrently.
  template <typename F>
  void epoch(int threads, Rng& rng, F&& fn) const {
    std::vector<int> order(B_);
    std::iota(order.begin(), order.end(), 0);
    for (int d = B_ - 1; d > 0; --d) std::swap(order[d], order[rng.below(static_cast<uint32_t>(d + 1))]);
    int t = std::max(1, std::min(resolve_threads(threads), B_));
    auto run_block = [&](int s, int b, int tid) {
      int cb = (b + s) % B_;
      const RatingEntry* first = begin(b, cb);
      const RatingEntry* last = end(b, cb);
      if (first != last) fn(first, last, b * B_ + cb, tid);
    };
    if (t == 1) {
      for (int s : order)
        for (int b = 0; b < B_; ++b) run_block(s, b, 0);
      return;
    }
    std::unique_ptr<std::atomic<int>[]> next(new std::atomic<int>[B_]);
    for (int d = 0; d < B_; ++d) next[d].store(0);
    Barrier barrier(t);
    parallel_region(t, [&](int tid, int) {
      for (int d = 0; d < B_; ++d) {
        for (;;) {
          int b = next[d].fetch_add(1);
          if (b >= B_) break;
          run_block(order[d], b, tid);
        }
        barrier.wait();
      }
    });
  }

 private:
  int B_;
  std::vector<int64_t> offsets_;  // B * B + 1
  std::vector<RatingEntry> entries_;
};

// The default grid size: 2 blocks per thread and at least 8, so that every thread count up to 4 (one included)
// walks the same grid and gives the same model, and blocks stay small enough to balance between threads.
inline int default_grid_blocks(int threads) { return std::max(8, 2 * resolve_threads(threads)); }

}  // namespace recsys
