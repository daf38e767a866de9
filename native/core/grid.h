// Conflict-free block schedule for parallel SGD over ratings (Gemulla et al. 2011, DSGD; Zhuang et al. 2013,
// FPSG/LIBMF). Users and items are split into B groups each, giving a B x B grid of rating blocks. The B blocks
// of one "diagonal" {(b, (b + s) mod B)} share no user and no item, so threads may update them concurrently
// with no locks. An epoch walks the B diagonals in a seeded random order; every row group and every column group
// meets its blocks in that fixed order whatever the threads do, so a fit is reproducible for a given seed and
// B, whatever the thread count. B = 1 is plain sequential SGD.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <numeric>
#include <thread>
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

  // Runs `epochs` passes over every rating. block_fn(first, last, epoch, rb, cb, tid) is called once per block
  // (empty ones too).
  // epoch_done(e) runs on the calling thread once epoch e is complete, in order; if it throws (cancellation,
  // divergence), the run stops and rethrows.
  //
  // With several threads there is no barrier between diagonals: a block may start as soon as the block before
  // it in its row group and the one before it in its column group are done (a dataflow schedule). Every row
  // group and column group still sees its blocks in the fixed order, so the result is the same as running the
  // schedule on one thread, and a thread slowed down by a busy machine holds up only the blocks that depend
  // on its own.
  template <typename BlockFn, typename EpochFn>
  void run(int epochs, int threads, Rng& rng, BlockFn&& block_fn, EpochFn&& epoch_done) const {
    const int B = B_;
    const int64_t total = static_cast<int64_t>(epochs) * B;
    const uint64_t order_seed = rng.next();
    // Diagonal of a step: each epoch's order is an affine permutation d -> (a d + b) mod B with a coprime to B,
    // drawn from a hash of the epoch, so no table grows with the number of epochs.
    auto diagonal = [B, order_seed](int64_t step) {
      const int64_t e = step / B, d = step % B;
      if (B == 1) return 0;
      uint64_t h = hash3(order_seed, static_cast<uint64_t>(e), 0);
      int64_t a = 1 + static_cast<int64_t>(h % static_cast<uint64_t>(B - 1));
      while (std::gcd(a, static_cast<int64_t>(B)) != 1) a = a % (B - 1) + 1;
      const int64_t b = static_cast<int64_t>(hash3(order_seed, static_cast<uint64_t>(e), 1) % static_cast<uint64_t>(B));
      return static_cast<int>((a * d + b) % B);
    };
    const int t = std::max(1, std::min(resolve_threads(threads), B));
    if (t == 1) {
      for (int e = 0; e < epochs; ++e) {
        for (int d = 0; d < B; ++d)
          for (int rb = 0; rb < B; ++rb) {
            const int cb = (rb + diagonal(static_cast<int64_t>(e) * B + d)) % B;
            block_fn(begin(rb, cb), end(rb, cb), e, rb, cb, 0);
          }
        epoch_done(e);
      }
      return;
    }
    // Steps completed by each row group / column group; a row group's next block is at step row_done[rb].
    std::unique_ptr<std::atomic<int64_t>[]> row_done(new std::atomic<int64_t>[B]);
    std::unique_ptr<std::atomic<int64_t>[]> col_done(new std::atomic<int64_t>[B]);
    std::unique_ptr<std::atomic<int>[]> busy(new std::atomic<int>[B]);
    for (int b = 0; b < B; ++b) {
      row_done[b].store(0);
      col_done[b].store(0);
      busy[b].store(0);
    }
    std::atomic<bool> stop{false};
    std::exception_ptr error;
    auto min_row_done = [&] {
      int64_t m = total;
      for (int b = 0; b < B; ++b) m = std::min(m, row_done[b].load(std::memory_order_acquire));
      return m;
    };
    parallel_region(t, [&](int tid, int) {
      int start = tid % B, idle = 0, reported = 0;
      for (;;) {
        if (stop.load(std::memory_order_relaxed)) return;
        if (tid == 0) {
          const int64_t done = min_row_done();
          while (reported < epochs && done >= static_cast<int64_t>(reported + 1) * B) {
            try {
              epoch_done(reported);
            } catch (...) {
              error = std::current_exception();
              stop.store(true);
              return;
            }
            ++reported;
          }
          if (reported == epochs) return;
        }
        bool ran = false, left = false;
        for (int k = 0; k < B && !ran; ++k) {
          const int rb = (start + k) % B;
          const int64_t d = row_done[rb].load(std::memory_order_acquire);
          if (d >= total) continue;
          left = true;
          const int cb = (rb + diagonal(d)) % B;
          if (col_done[cb].load(std::memory_order_acquire) != d) continue;
          int expected = 0;
          if (!busy[rb].compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) continue;
          if (row_done[rb].load(std::memory_order_acquire) == d) {
            block_fn(begin(rb, cb), end(rb, cb), static_cast<int>(d / B), rb, cb, tid);
            col_done[cb].store(d + 1, std::memory_order_release);
            row_done[rb].store(d + 1, std::memory_order_release);
            ran = true;
            start = rb + 1;
          }
          busy[rb].store(0, std::memory_order_release);
        }
        if (ran) {
          idle = 0;
        } else if (!left && tid != 0) {
          return;  // every block is done or taken; thread 0 stays to report
        } else if (++idle < 64) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();
        }
      }
    });
    if (error) std::rethrow_exception(error);
  }

 private:
  int B_;
  std::vector<int64_t> offsets_;  // B * B + 1
  std::vector<RatingEntry> entries_;
};

// The default grid size: 2 blocks per thread and at least 8, so that every thread count up to 4 (one included)
// walks the same grid and gives the same model, and blocks stay small enough to balance between threads.
inline int default_grid_blocks(int threads) { return std::min(1024, std::max(8, 2 * resolve_threads(threads))); }

}  // namespace recsys
