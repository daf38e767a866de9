// Prebuilt binaries (RECSYS_BLAS=static, scripts/blas-config.mjs) are linked on Debian bookworm (glibc 2.36) but
// must load on any glibc >= 2.28. The linker binds each glibc function to its newest version: pthread_* moved into
// libc in 2.34, exp/log/pow got new versions in 2.29, and libstdc++.a (linked in) asks for 2.32's
// __libc_single_threaded, 2.33's fstat64 and 2.36's arc4random. The static build links with --wrap=<function> for each function
// below, so every reference (ours, OpenBLAS's, libstdc++'s) lands here and is forwarded to the oldest version of
// the same function, which every glibc since 2.17 has. scripts/prebuild.mjs checks the result: no GLIBC_2.29 or later.
#if defined(RECSYS_GLIBC_COMPAT)
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/stat.h>

#if defined(__x86_64__)
#define RECSYS_GLIBC_BASE "GLIBC_2.2.5"
#define RECSYS_GLIBC_AFFINITY "GLIBC_2.3.4"
#elif defined(__aarch64__)
#define RECSYS_GLIBC_BASE "GLIBC_2.17"
#define RECSYS_GLIBC_AFFINITY "GLIBC_2.17"
#else
#error "glibc_compat.cc covers x86_64 and aarch64"
#endif

#define RECSYS_HIDDEN __attribute__((visibility("hidden")))
// old_<f> is bound to f@<version>; __wrap_<f> (what --wrap=<f> makes every reference to f call) forwards to it.
#define RECSYS_FORWARD(version, ret, f, params, args) \
  extern "C" ret old_##f params;                      \
  __asm__(".symver old_" #f "," #f "@" version);      \
  extern "C" RECSYS_HIDDEN ret __wrap_##f params { return old_##f args; }

RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_create,
               (pthread_t * t, const pthread_attr_t* a, void* (*f)(void*), void* arg), (t, a, f, arg))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_join, (pthread_t t, void** r), (t, r))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_detach, (pthread_t t), (t))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_once, (pthread_once_t * o, void (*f)(void)), (o, f))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_key_create, (pthread_key_t * k, void (*d)(void*)), (k, d))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_key_delete, (pthread_key_t k), (k))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, void*, pthread_getspecific, (pthread_key_t k), (k))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_setspecific, (pthread_key_t k, const void* v), (k, v))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_rwlock_rdlock, (pthread_rwlock_t * l), (l))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_rwlock_wrlock, (pthread_rwlock_t * l), (l))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, int, pthread_rwlock_unlock, (pthread_rwlock_t * l), (l))
RECSYS_FORWARD(RECSYS_GLIBC_AFFINITY, int, pthread_getaffinity_np, (pthread_t t, size_t n, cpu_set_t* s), (t, n, s))
RECSYS_FORWARD(RECSYS_GLIBC_AFFINITY, int, pthread_setaffinity_np, (pthread_t t, size_t n, const cpu_set_t* s),
               (t, n, s))
// The 2.29 versions only dropped the SVID error handling (matherr); the values are the same.
RECSYS_FORWARD(RECSYS_GLIBC_BASE, double, exp, (double x), (x))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, double, exp2, (double x), (x))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, double, log, (double x), (x))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, double, log2, (double x), (x))
RECSYS_FORWARD(RECSYS_GLIBC_BASE, double, pow, (double x, double y), (x, y))

// std::random_device (in libstdc++.a, unused by recsys) may call arc4random: the same bytes from getrandom (2.25).
extern "C" RECSYS_HIDDEN uint32_t __wrap_arc4random(void) {
  uint32_t v = 0;
  while (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {}
  return v;
}

// libstdc++.a's file streams (hnswlib's virtual saveIndex/loadIndex instantiate them) call fstat64, a real symbol
// only since glibc 2.33; before, it was an inline wrapper over __fxstat64(_STAT_VER, ...), which every glibc exports.
#if defined(__x86_64__)
#define RECSYS_STAT_VER 1
#else
#define RECSYS_STAT_VER 0
#endif
extern "C" int old___fxstat64(int ver, int fd, struct stat64* buf);
__asm__(".symver old___fxstat64,__fxstat64@" RECSYS_GLIBC_BASE);
extern "C" RECSYS_HIDDEN int __wrap_fstat64(int fd, struct stat64* buf) {
  return old___fxstat64(RECSYS_STAT_VER, fd, buf);
}

// libstdc++'s inline code skips atomic reference counts when this is nonzero; 0 keeps them always on (correct
// whatever the process does) and needs no glibc 2.32.
extern "C" {
RECSYS_HIDDEN char __libc_single_threaded = 0;
}
#endif
