#include "core/dispatch.h"

namespace recsys {

namespace {
// The level the compiler was told to assume (-march): what every function without dispatch runs with.
const char* compiled_level() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
  return "avx2+fma";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__AVX__)
  return "avx";
#elif defined(__SSE4_2__)
  return "sse4.2";
#elif defined(__SSE2__)
  return "sse2";
#elif defined(__ARM_NEON)
  return "neon";
#else
  return "scalar";
#endif
}
}  // namespace

const char* kernel_isa() {
#if RECSYS_DISPATCH
  // The same test the target_clones resolver makes, in the same order (best first).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return "avx512";
  if (__builtin_cpu_supports("x86-64-v3")) return "avx2+fma";
#endif
  return compiled_level();
}

}  // namespace recsys
