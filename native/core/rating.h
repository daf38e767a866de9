// Pieces every rating-prediction model shares: the rating scale predictions are clipped to, the check that
// training data carries ratings, and the options of the SGD factor models (BiasedMF, SVD++).
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "core/csr.h"
#include "core/model.h"

namespace recsys {

struct RatingScale {
  float lo = 0.f, hi = 0.f;
};

// Real parameters are kept at float precision (rounded when read), so that a saved model, whose tensors are
// float32, restores them exactly and a loaded model computes what the original did.
inline double as_f32(double x) { return static_cast<double>(static_cast<float>(x)); }
// real_req, rounded to float precision.
double real_param(const Napi::Object& o, const char* key, double lo, double hi, bool lo_open = false);

// Fails with E_ARG unless R has ratings (model names the caller in the message).
void require_ratings(const CsrView& R, const std::string& model);
// Options ratingMin / ratingMax (finite, min <= max; both required): null is the smallest / largest rating in R
// (a value only the data gives, so TS sends null for it).
RatingScale rating_scale_arg(const Napi::Object& o, const CsrView& R);
// Sets m.clip / clip_min / clip_max from the scale.
void set_clip(FactorModel& m, const RatingScale& s);
inline float clip_to(const RatingScale& s, float x) { return x < s.lo ? s.lo : (x > s.hi ? s.hi : x); }
// Mean of R's values (0 when empty).
double global_mean(const CsrView& R);
// The common start of a rating model fitted on R: with biases, global = R's mean and zero user / item biases;
// without, the mean as the prediction for pairs the model cannot score. Then the known users and items and the
// clip range. Returns the mean.
double start_rating_model(FactorModel& m, const CsrView& R, bool biased, const RatingScale& scale);

// Options of the SGD matrix-factorization models. No defaults here: every field comes from the options TS resolved
// (ts/models/biased_mf.ts, svdpp.ts) or from a model file's params.
struct SgdParams {
  int factors = 0, epochs = 0;
  double lr = 0, reg = 0;            // factor learning rate and regularization
  double lr_bias = 0, reg_bias = 0;  // the same for the biases (lrBias / regBias)
  double init_mean = 0, init_std = 0;
  bool biased = false;
  bool shuffle = false;
  int blocks = 0;  // BiasedMF's grid side (its option blocks; 0 there means default_grid_blocks(threads))
  int threads = 0;
  uint64_t seed = 0;
};
// Reads factors, epochs, lr, reg, lrBias, regBias, initMean, initStd, biased, shuffle, threads, seed, all
// required, validating each (E_ARG names the option).
SgdParams sgd_params_arg(const Napi::Object& o);

// SgdParams in a model's state ("sgd" f32 {6}, "sgd_options" i32 {4}, "seed") and back (E_FORMAT when invalid).
// The SGD options fold-in uses, from the model's options (model files keep them by name).
SgdParams read_sgd_params(const StateReader& s, int factors);
// A rating scale as the "clip" tensor {2}, and back.
Tensor scale_tensor(const RatingScale& s);
RatingScale read_scale(StateReader& s);
// A CSR with ratings as tensors <prefix>_indptr, <prefix>_items, <prefix>_ratings, and back (checked).
void put_ratings(std::map<std::string, Tensor>& state, const std::string& prefix, const Csr& m);
Csr read_ratings(StateReader& s, const std::string& prefix, int32_t rows, int32_t cols);

// Fold-in for the SGD factor models: a new user's vector (p_out[m.factors]) and bias (*bu_out) after p.epochs SGD
// epochs over their ratings, in the order given, with everything on the item side fixed. The vector starts from
// the training initialization (seeded); z, when not null, is a fixed extra user term (SVD++'s implicit part).
void sgd_fold_in(const FactorModel& m, const SgdParams& p, const int32_t* items, const float* values, int n,
                 const float* z, float* p_out, float* bu_out);

}  // namespace recsys
