// Parallel loops over an index range. Work is split into `threads` contiguous blocks (static schedule), so a
// result that depends on how work is divided is the same for the same thread count on every run. The dynamic
// variant hands out chunks from a shared counter, for work whose result per index does not depend on order.
// BLAS calls made inside these loops run single-threaded (see blas.h): never nest OpenBLAS threads in ours.
#pragma once
#include <algorithm>
#include <atomic>
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

// fn(tid, nthreads) once on each of `threads` threads (the calling thread is tid 0), for work that coordinates
// itself inside (block-scheduled SGD). If fn can wait on other threads, it must not throw while they depend on it.
template <typename F>
void parallel_region(int threads, F&& fn) {
  int t = resolve_threads(threads);
  detail::run_threads(t, [&](int tid) { fn(tid, t); });
}

}  // namespace recsys
