// The native model interface every family implements, the factor-model base most of them reuse, and the
// JS handle (ModelHandle) through which TS calls recommend / predict / similar / state on any of them.
#pragma once
#include <napi.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/csr.h"
#include "core/topk.h"

namespace recsys {

// A named tensor of a fitted model, for persistence and for exposing factors to JS.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> f32;    // float tensors
  std::vector<int32_t> i32;  // integer tensors (one of the two is used)
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string kind() const = 0;
  virtual int32_t n_users() const = 0;
  virtual int32_t n_items() const = 0;

  // Ranking scores of every item for user u (0 <= u < n_users) into out[n_items].
  virtual void score_user(int32_t u, float* out) const = 0;
  // Scores for n users into out (n x n_items, row-major). Default: score_user per row; factor models use gemm.
  virtual void score_users(const int32_t* users, int n, float* out) const;
  // Predicted rating/score of (u, i). Ids outside [0, n) or without training data take the model's fallback
  // (global mean, biases of the known side) — the Surprise convention. Rating models clip to their scale.
  virtual float predict(int32_t u, int32_t i) const = 0;
  // Scores of every item for a user not in training, from that user's interactions (fold-in). Default E_UNSUPPORTED.
  virtual void score_new_user(const int32_t* items, const float* values, int n, float* out) const;
  // Similarity of every item to item i (out[n_items]); every user to user u. Default E_UNSUPPORTED.
  virtual void similar_items(int32_t i, float* out) const;
  virtual void similar_users(int32_t u, float* out) const;
  // Named tensors describing the fitted state (factors, biases, neighbour lists ...).
  virtual std::map<std::string, Tensor> state() const { return {}; }
  // Bytes the fitted state holds, reported to the JS engine as external memory so that garbage collection
  // sees large native models (folds of a cross-validation) and frees them in time. An estimate is enough.
  virtual int64_t memory_bytes() const { return 0; }
};

// Score = global + item_bias[i] + user_bias[u] + <U[u], V[i]>; every term optional. Used by BaselineOnly,
// BiasedMF, SVD++, ALS, BPR, PureSVD, NMF and exported deep-model embeddings.
class FactorModel : public Model {
 public:
  int32_t users = 0, items = 0, factors = 0;
  std::vector<float> U, V;                     // users x factors, items x factors (empty when factors == 0)
  std::vector<float> user_bias, item_bias;     // empty when the model has none
  float global = 0.f;
  std::vector<uint8_t> user_known, item_known;  // 1 = had training data; empty = all known
  bool clip = false;
  float clip_min = 0.f, clip_max = 0.f;
  // When not NaN, predict() of a pair with an unknown user or item returns this (clipped) instead of the bias
  // terms: models without biases (unbiased MF, NMF) fall back to the global mean, as Surprise does.
  float unknown_fallback = std::numeric_limits<float>::quiet_NaN();
  // Whether ranking scores include the user bias (constant per user, so only for display) and global term.
  std::string kind_name;

  std::string kind() const override { return kind_name; }
  int32_t n_users() const override { return users; }
  int32_t n_items() const override { return items; }
  void score_user(int32_t u, float* out) const override;
  void score_users(const int32_t* us, int n, float* out) const override;
  float predict(int32_t u, int32_t i) const override;
  void similar_items(int32_t i, float* out) const override;
  void similar_users(int32_t u, float* out) const override;
  std::map<std::string, Tensor> state() const override;
  int64_t memory_bytes() const override {
    return static_cast<int64_t>(sizeof(float) * (U.size() + V.size() + user_bias.size() + item_bias.size()) +
                                user_known.size() + item_known.size());
  }

  bool is_user_known(int32_t u) const { return u >= 0 && u < users && (user_known.empty() || user_known[u]); }
  bool is_item_known(int32_t i) const { return i >= 0 && i < items && (item_known.empty() || item_known[i]); }
  // Scores all items for a user represented by vector p (factors) and bias bu.
  void score_vector(const float* p, float bu, float* out) const;
  // Marks users/items that have at least one interaction in m (rows = users).
  void mark_known(const CsrView& m);
};

// ---- the JS handle ----------------------------------------------------------------------------------
// Wraps any fitted Model. Created by a family's fit function with wrap_model(); unwrapped by evaluation code.
Napi::Object wrap_model(Napi::Env env, std::shared_ptr<Model> model);
std::shared_ptr<Model> model_arg(const Napi::Value& v, const char* name);

}  // namespace recsys
