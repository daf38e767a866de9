// The one function of the GNU Fortran runtime that the LAPACK routines we call (Debian's static OpenBLAS, whose LAPACK
// half is Fortran) need: ilaenv's callers build option strings with it. Debian's libgfortran.a is compiled with
// local-exec TLS and cannot be linked into a shared object, and the prebuilt binary must not ask for libgfortran.so,
// so the static build (RECSYS_BLAS=static, scripts/blas-config.mjs) carries this copy. Semantics as libgfortran's
// string_intrinsics_inc.c: dest = s1 // s2, truncated or blank-padded to destlen (lengths are size_t since GCC 8).
#if defined(RECSYS_OPENBLAS_STATIC)
#include <cstddef>
#include <cstring>

extern "C" __attribute__((visibility("hidden"))) void _gfortran_concat_string(size_t destlen, char* dest, size_t len1,
                                                                              const char* s1, size_t len2,
                                                                              const char* s2) {
  if (len1 >= destlen) {
    std::memcpy(dest, s1, destlen);
    return;
  }
  std::memcpy(dest, s1, len1);
  dest += len1;
  destlen -= len1;
  if (len2 >= destlen) {
    std::memcpy(dest, s2, destlen);
    return;
  }
  std::memcpy(dest, s2, len2);
  std::memset(dest + len2, ' ', destlen - len2);
}
#endif
