// Parallel loops over an index range. Work is split into `threads` contiguous blocks (static schedule), so a
// result that depends on how work is divided is the same for the same thread count on every run. The dynamic
// variant hands out chunks from a shared counter, for work whose result per index does not depend on order.
// BLAS calls made inside these loops run single-threaded (see blas.h): never nest OpenBLAS threads in ours.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace recsys {

// 0 means "all hardware threads"; otherwise clamped to [1, 256].
inline int resolve_threads(int requested) {
  if (requested <= 0) {
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(std::min(hw, 256u));
  }
  return std::min(requested, 256);
}

namespace detail {
template <typename F>
void run_threads(int threads, F&& per_thread) {
  if (threads <= 1) {
    per_thread(0);
    return;
  }
  std::exception_ptr first;
  std::mutex m;
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  auto wrapped = [&](int tid) {
    try {
      per_thread(tid);
    } catch (...) {
      std::lock_guard<std::mutex> lock(m);
      if (!first) first = std::current_exception();
    }
  };
  for (int t = 1; t < threads; ++t) pool.emplace_back(wrapped, t);
  wrapped(0);
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}
}  // namespace detail

// fn(begin, end, tid) over [0, n) in `threads` contiguous, nearly equal blocks.
template <typename F>
void parallel_blocks(int64_t n, int threads, F&& fn) {
  if (n <= 0) return;
  int t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(resolve_threads(threads), n)));
  detail::run_threads(t, [&](int tid) {
    int64_t begin = n * tid / t, end = n * (tid + 1) / t;
    if (begin < end) fn(begin, end, tid);
  });
}

// fn(i, tid) for every i in [0, n), chunks of `chunk` handed out dynamically (good for skewed work).
template <typename F>
void parallel_for(int64_t n, int threads, F&& fn, int64_t chunk = 64) {
  if (n <= 0) return;
  chunk = std::max<int64_t>(1, chunk);
  int t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(resolve_threads(threads), (n + chunk - 1) / chunk)));
  std::atomic<int64_t> next{0};
  detail::run_threads(t, [&](int tid) {
    for (;;) {
      int64_t begin = next.fetch_add(chunk);
      if (begin >= n) break;
      int64_t end = std::min(n, begin + chunk);
      for (int64_t i = begin; i < end; ++i) fn(i, tid);
    }
  });
}

// fn(tid, nthreads) once on each of `threads` threads (the calling thread is tid 0), for work that synchronizes
// inside with a Barrier (e.g. block-scheduled SGD). Code between barriers must not throw: a thread that leaves
// early would leave the others waiting.
template <typename F>
void parallel_region(int threads, F&& fn) {
  int t = resolve_threads(threads);
  detail::run_threads(t, [&](int tid) { fn(tid, t); });
}

// A reusable barrier for a fixed number of threads (std::barrier is C++20). A waiter spins briefly (phases of
// block-scheduled SGD are short, and a futex sleep and wake costs more than the wait itself on idle cores),
// then blocks, so that on a busy shared machine it does not steal the core its partner needs.
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void wait() {
    const uint64_t gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
      arrived_.store(0, std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> lock(m_);
        generation_.store(gen + 1, std::memory_order_release);
      }
      cv_.notify_all();
      return;
    }
    for (int spin = 0; spin < 256; ++spin) {
      if (generation_.load(std::memory_order_acquire) != gen) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != gen; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  const int n_;
  std::atomic<int> arrived_{0};
  std::atomic<uint64_t> generation_{0};
};

}  // namespace recsys
