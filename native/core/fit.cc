#include "core/fit.h"

#include <chrono>
#include <cstdio>

#include "core/async.h"
#include "core/common.h"

namespace recsys {

namespace {
double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

Napi::Object progress_to_js(Napi::Env env, const Progress& p) {
  auto o = Napi::Object::New(env);
  o.Set("phase", Napi::String::New(env, p.phase));
  o.Set("step", Napi::Number::New(env, p.step));
  o.Set("total", Napi::Number::New(env, p.total));
  if (!std::isnan(p.loss)) o.Set("loss", Napi::Number::New(env, p.loss));
  o.Set("seconds", Napi::Number::New(env, p.seconds));
  return o;
}

}  // namespace

FitContext::FitContext(const volatile int32_t* cancel_flag, std::function<void(const Progress&)> sink)
    : cancel_(cancel_flag), sink_(std::move(sink)), start_(now_seconds()) {}

bool FitContext::cancelled() const { return cancel_ && *cancel_ != 0; }

void FitContext::check_cancelled() const {
  if (cancelled()) throw Error("E_CANCELLED", "fit was cancelled");
}

void FitContext::progress(int step, int total, double loss, const char* phase) {
  check_cancelled();
  if (sink_) {
    Progress p;
    p.phase = phase;
    p.step = step;
    p.total = total;
    p.loss = loss;
    p.seconds = now_seconds() - start_;
    sink_(p);
  }
}

namespace {
std::string gib(double bytes) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buf;
}
}  // namespace

double max_memory_arg(const Napi::Object& o) { return real_req(o, "maxMemoryBytes", 0, 1e18); }

void check_memory(const std::string& model, double need, const std::string& what, double max_bytes,
                  const std::string& hint) {
  if (!(need > max_bytes)) return;
  fail("E_MEMORY", model + " needs " + std::to_string(static_cast<int64_t>(std::min(need, 9e18))) + " bytes (" +
                       gib(need) + ") for " + what +
                       ", more than maxMemoryBytes = " + std::to_string(static_cast<int64_t>(max_bytes)) + " (" +
                       gib(max_bytes) + "); raise maxMemoryBytes or " + hint);
}

double pair_bound(const CsrView& m) {
  double s = 0;
  for (int32_t r = 0; r < m.rows; ++r) s += static_cast<double>(m.row_len(r)) * m.row_len(r);
  return s;
}

Napi::Value run_fit(const Napi::CallbackInfo& info, const Napi::Object& opts, FitFn fn,
                    const std::vector<Napi::Value>& keep_alive) {
  Napi::Env env = info.Env();
  bool async = bool_req(opts, "async");
  Napi::Value cb = opts.Get("onProgress");
  if (!cb.IsUndefined() && !cb.IsNull() && !cb.IsFunction()) fail_arg("onProgress must be a function");
  Napi::Value cancel_v = opts.Get("cancel");
  const volatile int32_t* cancel = nullptr;
  std::vector<Napi::Value> keep(keep_alive);
  if (!cancel_v.IsUndefined() && !cancel_v.IsNull()) {
    auto c = typed_array<int32_t>(cancel_v, "cancel");
    if (c.size < 1) fail_arg("cancel must be an Int32Array of length >= 1");
    cancel = c.data;
    keep.push_back(cancel_v);
  }
  if (async) {
    std::shared_ptr<Napi::FunctionReference> on_progress;
    if (cb.IsFunction())
      on_progress = std::make_shared<Napi::FunctionReference>(Napi::Persistent(cb.As<Napi::Function>()));
    return run_async<std::shared_ptr<Model>, Progress>(
        env, "recsys.fit",
        [fn = std::move(fn), cancel](const std::function<void(const Progress&)>& send) {
      FitContext ctx(cancel, send);
      auto model = fn(ctx);
      check_fit_finite(*model);
      return model;
        },
        [](Napi::Env e, std::shared_ptr<Model>& model) -> Napi::Value { return wrap_model(e, std::move(model)); },
        [on_progress](Napi::Env e, const Progress& p) {
      if (on_progress) on_progress->Call({progress_to_js(e, p)});
    },
        keep);
  }
  Napi::Function f = cb.IsFunction() ? cb.As<Napi::Function>() : Napi::Function();
  FitContext ctx(cancel, [&](const Progress& p) {
    if (!f.IsEmpty()) f.Call({progress_to_js(env, p)});
  });
  auto model = fn(ctx);
  check_fit_finite(*model);
  return wrap_model(env, std::move(model));
}

}  // namespace recsys
