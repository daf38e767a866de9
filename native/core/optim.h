// First-order optimizers over parameters that live in host memory (the deep models keep their weights in
// Float32Arrays and let TensorFlow.js compute only the loss and its gradients). Dense tensors take a full update;
// embedding tables take a sparse one that touches only the rows of the mini-batch ("lazy" Adam, as TensorFlow's
// LazyAdam): the cost of a step is O(batch x dim), not O(table), whatever the catalogue size.
#pragma once
#include <cstdint>
#include <vector>

namespace recsys {

// Every field is required from the caller (ts/models/deep/params.ts passes the model's resolved optimizer settings).
struct OptimizerParams {
  bool adam = true;  // false: plain SGD
  double lr = 0;
  double beta1 = 0, beta2 = 0, eps = 0;
  double l2 = 0;     // coupled weight decay: the gradient gains l2 * w
  int64_t step = 1;  // Adam's bias-correction step, 1-based
};

// w[0..n) -= update(g); m and v are Adam's moments (unused for SGD).
void optimizer_step(float* w, const float* g, float* m, float* v, int64_t n, const OptimizerParams& p);

// Rows rows[0..n) of a table (n_rows x dim) take gradients grads (n x dim); repeated rows have their gradients
// summed first (one update per distinct row, as a dense step would give). Only those rows of w, m and v change.
void optimizer_rows_step(float* table, float* m, float* v, int32_t n_rows, int dim, const int32_t* rows, int64_t n,
                         const float* grads, const OptimizerParams& p);

// A sparse input layer ("embedding bag"): out (n_out x dim) row r = sum over entries p with row_of[p] == r of
// values[p] * table[indices[p]]. The first layer of an autoencoder whose input is a sparse user or item vector
// (Mult-VAE, AutoRec) is this product, at O(entries x dim) instead of O(n_out x n_rows x dim).
void embedding_bag(const float* table, int32_t n_rows, int dim, const int32_t* row_of, const int32_t* indices,
                   const float* values, int64_t n, int32_t n_out, float* out);
// Its backward pass and update: the table's gradient is, per distinct index i, sum over entries p with
// indices[p] == i of values[p] * d_out[row_of[p]]; only those rows take an optimizer step.
void embedding_bag_step(float* table, float* m, float* v, int32_t n_rows, int dim, const int32_t* row_of,
                        const int32_t* indices, const float* values, int64_t n, const float* d_out,
                        const OptimizerParams& p);

// out (n x dim) = table rows rows[0..n); an index outside [0, n_rows) gives a zero row (an unknown user or item).
void gather_rows(const float* table, int32_t n_rows, int dim, const int32_t* rows, int64_t n, float* out);

}  // namespace recsys
