// Run-time ISA dispatch for the hot kernels. The addon is compiled for a portable baseline (x86-64-v2 on x64,
// armv8-a on arm64, where NEON is baseline) so one binary runs on every CPU of its architecture; a function marked
// RECSYS_KERNEL is compiled once more per level below, and the loader picks the best clone the CPU supports (GCC
// target_clones: one ifunc resolver per kernel, resolved once when the addon loads). The inline helpers a kernel
// calls (blas::dot, blas::axpy) are inlined into each clone and so vectorize at its level. A clone is never inlined
// into its caller, and a function the clone calls runs at the baseline unless it inlines: mark the function that holds
// the whole hot loop and its local arrays (ALS marks cg_row; marking the cg_steps it calls, with the arrays passed
// in, made the sweep 3.6x slower), and force large helpers in with RECSYS_INLINE.
// A RECSYS_KERNEL function must not throw: GCC 12 compiles a call to a target_clones function made from its own
// translation unit as a call that cannot throw, so an exception passing through ends in std::terminate (ALS's
// cancellation check inside its exact solve did). Kernels are noexcept; allocation and cancellation checks stay
// in their callers.
// RECSYS_DISPATCH comes from binding.gyp (scripts/blas-config.mjs dispatch): 1 for the x64 baseline build with GCC
// on Linux; a RECSYS_MARCH build (e.g. native) compiles every kernel once, for that -march.
#pragma once

#ifndef RECSYS_DISPATCH
#define RECSYS_DISPATCH 0
#endif

#if RECSYS_DISPATCH
#define RECSYS_KERNEL __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define RECSYS_KERNEL
#endif

// For a large helper of a kernel: without it GCC may keep one baseline copy shared by all clones (ALS's cg_steps,
// called from three clones, stayed out of line and ran at SSE speed: the sweep was 1.6x slower than -march=native).
#if defined(__GNUC__)
#define RECSYS_INLINE inline __attribute__((always_inline))
#else
#define RECSYS_INLINE inline
#endif

namespace recsys {
// The instruction set the RECSYS_KERNEL functions run with on this CPU: the best clone it supports ("avx512",
// "avx2+fma", "sse4.2") with dispatch, else the level of the -march the addon was built with ("neon", "avx512").
const char* kernel_isa();
}  // namespace recsys
