// Baseline estimates b_ui = mu + b_u + b_i (Koren 2010, as Surprise's BaselineOnly). Shared by every rating
// model that starts from baselines (KNNBaseline, SVD++ fallbacks).
#pragma once
#include <vector>

#include "core/csr.h"
#include "core/fit.h"

namespace recsys {

struct BaselineParams {
  bool sgd = false;                     // false: alternating least squares (Surprise's default)
  int epochs = 10;                      // ALS default 10; SGD default 20
  double reg_user = 15, reg_item = 10;  // ALS
  double reg = 0.02, lr = 0.005;        // SGD
};

struct Baselines {
  double mu = 0;
  std::vector<float> bu, bi;
};

// R: users x items ratings (CSR), C: the same as items x users (CSC). ALS is parallel over users and items,
// deterministic for any thread count; SGD runs in CSR order on one thread. Reports each epoch to ctx if given.
Baselines fit_baselines(const CsrView& R, const CsrView& C, const BaselineParams& p, int threads,
                        FitContext* ctx = nullptr);

}  // namespace recsys
