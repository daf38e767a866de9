// The native model interface every family implements, the factor-model base most of them reuse, and the
// JS handle (ModelHandle) through which TS calls recommend / predict / similar / state on any of them.
#pragma once
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/ann.h"
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
  // Top-k of known user u from an approximate index, when the model holds one that applies (FactorModel with an
  // ANN index): the count written to out. -1 = no index or it cannot answer: the caller takes the exact path.
  virtual int approx_topk(int32_t u, int k, const TopKFilter& f, ScoredItem* out) const { return -1; }
  // The same for a user not in training, from their interactions (fold-in), as score_new_user would rank them.
  virtual int approx_topk_new(const int32_t* items, const float* values, int n, int k, const TopKFilter& f,
                              ScoredItem* out) const {
    return -1;
  }
  virtual bool has_approx() const { return false; }
  // Named tensors describing the fitted state (factors, biases, neighbour lists ...). Complete: together with
  // kind(), n_users() and n_items() they are all a restorer (below) needs to rebuild an equal model, so scalars
  // that scoring uses are tensors of shape {1}. Names are [A-Za-z][A-Za-z0-9_]* (model files reserve dotted ones).
  virtual std::map<std::string, Tensor> state() const { return {}; }
  // Bytes the fitted state holds (reported to V8 so that dropped models are collected promptly, e.g. after a
  // server reloads its model file). Families with large state override it.
  virtual size_t memory_bytes() const { return 0; }
};

using TensorMap = std::map<std::string, Tensor>;

// ---- restoring a model from its state (model files) -------------------------------------------------
// Every family registers, next to its fit functions, one restorer per kind it produces:
//
//   std::shared_ptr<Model> restore_als(StateReader& s) {
//     auto m = std::make_shared<AlsModel>();
//     restore_factor_state(*m, s, true);      // what FactorModel::state() wrote; factors required
//     m->alpha = s.scalar("alpha");           // what AlsModel::state() added
//     return m;
//   }
//   RECSYS_REGISTER_RESTORER(ImplicitALS, restore_als);
//
// A restorer must validate what it reads (the reader checks names, dtypes, shapes and finiteness; ranges of
// index tensors are the restorer's job: see check_csr) and throw E_FORMAT, never crash.
//
// The model's options come by name, as TS resolved and checked them with the model's spec (ts/models/params.ts
// owns their names, types, ranges and defaults; model files keep them in their metadata and loadModel checks
// them before restoring): restorers read the ones the fitted state depends on and hold no defaults. A missing or
// mistyped option is E_ARG naming it (TS always sends every option, so that is a bug, not a bad file); ranges
// are checked again only where a bad value could be unsafe (counts converted to int).
struct ParamValue {
  enum Type { Number, Bool, String } type = Number;
  double num = 0;
  std::string str;
};
using ParamMap = std::map<std::string, ParamValue>;
// A JS object of numbers, booleans and strings (other values are skipped: no native restorer reads them).
ParamMap params_arg(const Napi::Value& v);

class StateReader {
 public:
  StateReader(std::string kind, int32_t users, int32_t items, TensorMap tensors, ParamMap params = {});
  const std::string& kind() const { return kind_; }
  int32_t users() const { return users_; }
  int32_t items() const { return items_; }
  bool has(const std::string& name) const { return tensors_.count(name) > 0; }
  // The shape of a tensor (E_FORMAT when missing).
  const std::vector<int64_t>& shape(const std::string& name) const;
  // Moves out a float tensor with exactly this shape (an extent of -1 matches any); every value must be finite.
  std::vector<float> f32(const std::string& name, const std::vector<int64_t>& shape);
  std::vector<int32_t> i32(const std::string& name, const std::vector<int64_t>& shape);
  float scalar(const std::string& name);                                // a finite float tensor of shape {1}
  int32_t int_scalar(const std::string& name, int32_t lo, int32_t hi);  // an int32 tensor of shape {1} in [lo, hi]
  // E_FORMAT naming the kind and the tensor.
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& why) const;
  // E_FORMAT when a tensor was never read (f32 / i32 / scalar): it belongs to another kind's state.
  void check_all_read() const;

  // The model's options (see above).
  double real_param(const std::string& name) const;                          // a finite number
  int64_t int_param(const std::string& name, int64_t lo, int64_t hi) const;  // an integer in [lo, hi]
  bool bool_param(const std::string& name) const;
  std::string string_param(const std::string& name) const;

 private:
  const Tensor& get(const std::string& name, bool want_f32) const;
  const ParamValue& param(const std::string& name, ParamValue::Type type) const;
  std::string kind_;
  int32_t users_, items_;
  TensorMap tensors_;
  ParamMap params_;
  mutable std::set<std::string> read_;  // names get() handed out
};

// Checks a CSR held as two i32 tensors (indptr of rows + 1 entries from 0, non-decreasing, ending at
// indices.size(); every index in [0, cols)), throwing E_FORMAT through the reader.
void check_csr(const StateReader& s, const std::vector<int32_t>& indptr, const std::vector<int32_t>& indices,
               int64_t rows, int32_t cols, const char* name);

// max |x| over v, or +Infinity when some x is not finite (the score bounds of the linear models read it).
inline double max_abs_or_inf(const std::vector<float>& v) {
  double a = 0;
  for (float x : v) {
    if (!std::isfinite(x)) return INFINITY;
    a = std::max(a, static_cast<double>(std::abs(x)));
  }
  return a;
}

// The training interactions an item-item model keeps to score its known users (EASE, ItemKNN): CSR rows with
// optional values (empty = ones), every value read as 1 when binary. Saved as user_indptr, user_items,
// user_values (when there are values) and binary.
struct UserRows {
  std::vector<int32_t> indptr, indices;
  std::vector<float> values;
  bool binary = false;

  void assign(const CsrView& R, bool binary);
  const int32_t* items_of(int32_t u) const { return indices.data() + indptr[u]; }
  // The row's values, or nullptr when every value is 1.
  const float* values_of(int32_t u) const { return values.empty() || binary ? nullptr : values.data() + indptr[u]; }
  int32_t length(int32_t u) const { return indptr[u + 1] - indptr[u]; }
  float value(int32_t p) const { return values.empty() || binary ? 1.f : values[p]; }
  void put_state(std::map<std::string, Tensor>& s) const;
  // Reads and checks what put_state wrote (a users x items CSR).
  void restore(StateReader& s, int32_t users, int32_t items);
  size_t bytes() const { return (indptr.size() + indices.size()) * sizeof(int32_t) + values.size() * sizeof(float); }
  // max over users of sum |r_ui|: with weights of magnitude at most w, a linear model's score is at most this * w.
  double max_abs_row_sum() const {
    double best = 0;
    for (size_t u = 0; u + 1 < indptr.size(); ++u) {
      double r = 0;
      for (int32_t p = indptr[u]; p < indptr[u + 1]; ++p) r += std::abs(static_cast<double>(value(p)));
      best = std::max(best, r);
    }
    return best;
  }
};

using Restorer = std::shared_ptr<Model> (*)(StateReader& state);
struct RestorerRegistrar {
  RestorerRegistrar(const char* kind, Restorer fn);
};
#define RECSYS_REGISTER_RESTORER(kind, fn) static ::recsys::RestorerRegistrar recsys_restorer_##kind(#kind, fn)

// Rebuilds a model of `kind` (E_FORMAT for a kind no family registered, or a bad state). The result must report
// the given n_users / n_items.
std::shared_ptr<Model> restore_model(const std::string& kind, int32_t users, int32_t items, TensorMap tensors,
                                     ParamMap params);
bool can_restore(const std::string& kind);
std::vector<std::string> restorable_kinds();

// Score = global + item_bias[i] + user_bias[u] + <U[u], V[i]>; every term optional. Used by BaselineOnly,
// BiasedMF, SVD++, ALS, BPR, PureSVD, NMF and exported deep-model embeddings.
class FactorModel : public Model {
 public:
  int32_t users = 0, items = 0, factors = 0;
  std::vector<float> U, V;                  // users x factors, items x factors (empty when factors == 0)
  std::vector<float> user_bias, item_bias;  // empty when the model has none
  float global = 0.f;
  std::vector<uint8_t> user_known, item_known;  // 1 = had training data; empty = all known
  bool clip = false;
  float clip_min = 0.f, clip_max = 0.f;
  // When not NaN, predict() of a pair with an unknown user or item returns this (clipped) instead of the bias
  // terms: models without biases (unbiased MF, NMF) fall back to the global mean, as Surprise does.
  float unknown_fallback = std::numeric_limits<float>::quiet_NaN();
  // Whether ranking scores include the user bias (constant per user, so only for display) and global term.
  std::string kind_name;
  // Approximate top-K over V (and item_bias) for recommend; null = exact only. Saved with the state (ann_*).
  std::shared_ptr<AnnIndex> ann;

  std::string kind() const override { return kind_name; }
  int32_t n_users() const override { return users; }
  int32_t n_items() const override { return items; }
  void score_user(int32_t u, float* out) const override;
  void score_users(const int32_t* us, int n, float* out) const override;
  float predict(int32_t u, int32_t i) const override;
  void similar_items(int32_t i, float* out) const override;
  void similar_users(int32_t u, float* out) const override;
  std::map<std::string, Tensor> state() const override;
  int approx_topk(int32_t u, int k, const TopKFilter& f, ScoredItem* out) const override;
  int approx_topk_new(const int32_t* its, const float* values, int n, int k, const TopKFilter& f,
                      ScoredItem* out) const override;
  bool has_approx() const override { return ann != nullptr; }
  // Fold-in: the vector p (factors entries, zeroed by the caller) and bias bu of a user not in training, from
  // their interactions; false = the family has none. score_new_user scores it exactly, approx_topk_new searches
  // the index with it, so both rank by the same vector.
  virtual bool fold_in(const int32_t* its, const float* values, int n, float* p, float* bu) const { return false; }
  void score_new_user(const int32_t* its, const float* values, int n, float* out) const override;
  size_t memory_bytes() const override {
    return (U.size() + V.size() + user_bias.size() + item_bias.size()) * sizeof(float) + user_known.size() +
           item_known.size() + (ann ? ann->bytes() : 0);
  }

  bool is_user_known(int32_t u) const { return u >= 0 && u < users && (user_known.empty() || user_known[u]); }
  bool is_item_known(int32_t i) const { return i >= 0 && i < items && (item_known.empty() || item_known[i]); }
  // Scores all items for a user represented by vector p (factors) and bias bu.
  void score_vector(const float* p, float bu, float* out) const;
  // Marks users/items that have at least one interaction in m (rows = users).
  void mark_known(const CsrView& m);
};

// Reads back what FactorModel::state() writes (factors, biases, global, known flags, clip range) into m, with
// kind_name = s.kind(). Families deriving from FactorModel call it first, then read their own tensors. With
// needs_factors, a state without factors is refused ("item_factors is missing").
void restore_factor_state(FactorModel& m, StateReader& s, bool needs_factors = false);

// ---- divergence -------------------------------------------------------------------------------------
// The one E_STATE message for a fit whose numbers left the finite range: "<model> diverged (<what>): ...", with
// what to change.
[[noreturn]] void fail_diverged(const std::string& model, const std::string& what);
// Throws fail_diverged when a fitted FactorModel holds a non-finite factor, bias or global mean. run_fit calls it
// on every model a fit returns, so no fit (ALS, BPR, BiasedMF, SVD++, NMF, PureSVD, BaselineOnly ...) can end
// with a model that predicts NaN or recommends nothing. Other kinds pass unchecked.
void check_fit_finite(const Model& m);

// ---- the JS handle ----------------------------------------------------------------------------------
// Reads the options of createFactorModel into m: users, items, factors (in [min_factors, max_factors]), kind,
// global, and userFactors / itemFactors (required when factors > 0) and userBias / itemBias (optional), each
// Float32Array checked for its size and finiteness and copied.
void factor_model_from_options(const Napi::Object& o, FactorModel& m, int min_factors, int max_factors);

// Wraps any fitted Model. Created by a family's fit function with wrap_model(); unwrapped by evaluation code.
Napi::Object wrap_model(Napi::Env env, std::shared_ptr<Model> model);
std::shared_ptr<Model> model_arg(const Napi::Value& v, const char* name);

}  // namespace recsys
