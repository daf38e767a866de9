// Runs a model fit either inline (fit) or on a libuv worker thread (fitAsync) with progress reports and
// cancellation. A family's fit entry point parses and validates its arguments on the JS thread, then hands
// run_fit a function that does the work and returns the fitted Model:
//
//   return run_fit(info, opts, [=](FitContext& ctx) { ...; ctx.progress(epoch, epochs, loss); return model; });
//
// opts (a JS object): async (boolean, required), onProgress (function) and cancel (Int32Array(1), set to 1 to
// stop), both optional: their absence means no progress reports / no cancellation.
// The JS values the fit reads (typed arrays) must be listed in keep_alive so they outlive an async fit.
#pragma once
#include <napi.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/csr.h"
#include "core/model.h"

namespace recsys {

struct Progress {
  std::string phase;  // "epoch", "iteration", "users", ...
  int step = 0, total = 0;
  double loss = NAN;   // NaN when not computed
  double seconds = 0;  // since the fit started
};

class FitContext {
 public:
  FitContext(const volatile int32_t* cancel_flag, std::function<void(const Progress&)> sink);
  // Report progress (call from the thread that runs the fit, between steps). Also checks cancellation.
  void progress(int step, int total, double loss = NAN, const char* phase = "epoch");
  // Throws E_CANCELLED when cancellation was asked for; cheap, call it at least once per epoch.
  void check_cancelled() const;
  bool cancelled() const;

 private:
  const volatile int32_t* cancel_;
  std::function<void(const Progress&)> sink_;
  double start_;
};

// ---- memory limit: every fit estimates its large allocations before making any --------------------------
// maxMemoryBytes of a model's options (common to every model; required: TS sends its default, half of the
// physical memory, ts/models/params.ts).
double max_memory_arg(const Napi::Object& o);
// E_MEMORY when need > max_bytes: "<model> needs N bytes (x GiB) for <what>, more than maxMemoryBytes = M (y GiB);
// raise maxMemoryBytes or <hint>".
void check_memory(const std::string& model, double need, const std::string& what, double max_bytes,
                  const std::string& hint);
// sum over rows of row_len^2: an upper bound on the distinct column pairs that share a row (co-occurrences).
double pair_bound(const CsrView& m);

using FitFn = std::function<std::shared_ptr<Model>(FitContext&)>;

// Returns the wrapped Model (sync) or a Promise of it (opts.async). Errors thrown by fn become JS errors with
// .code (or the promise rejects with them).
Napi::Value run_fit(const Napi::CallbackInfo& info, const Napi::Object& opts, FitFn fn,
                    const std::vector<Napi::Value>& keep_alive);

}  // namespace recsys
