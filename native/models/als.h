// The implicit-feedback least-squares solve of ImplicitALS (als.cc), shared with the fold-in of factors fitted
// elsewhere (foldin.cc): Spark MLlib's implicit ALS solves the same per-user system.
#pragma once
#include <cstdint>

namespace recsys::als {

// The exact x of (YtY + sum_q alpha |r_q| y_q y_q^T) x = sum_{q: r_q > 0} (1 + alpha |r_q|) y_q for one user with
// interactions (items[q], values[q]) against item factors Y (row-major, k per row). YtY = Y^T Y + reg I (k x k,
// row-major, both triangles). values null = all ones; n = 0 gives x = 0. For fold-in: solved in float as the fit
// does, and where float cannot hold the system, in double with the smallest ridge that makes it definite
// (blas::solve_psd_ridged), so it always answers.
void solve_implicit(const int32_t* items, const float* values, int n, const float* Y, const float* YtY, int k,
                    float alpha, float* x);

}  // namespace recsys::als
