// Baseline estimates b_ui = mu + b_u + b_i (Koren 2010, as Surprise's BaselineOnly). Shared by every rating
// model that starts from baselines (KNNBaseline, SVD++ fallbacks).
#pragma once
#include <vector>

#include "core/csr.h"
#include "core/fit.h"

namespace recsys {

// Set from the options TS resolved (ts/models/baseline.ts, rating_knn.ts own the defaults).
struct BaselineParams {
  bool sgd = false;  // false: alternating least squares
  int epochs = 0;
  double reg_user = 0, reg_item = 0;  // ALS
  double reg = 0, lr = 0;             // SGD
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
