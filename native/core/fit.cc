#include "core/fit.h"

#include <chrono>

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

class FitWorker : public Napi::AsyncProgressQueueWorker<Progress> {
 public:
  FitWorker(Napi::Env env, FitFn fn, const volatile int32_t* cancel, Napi::Function on_progress,
            const std::vector<Napi::Value>& keep_alive)
      : Napi::AsyncProgressQueueWorker<Progress>(env, "recsys.fit"),
        fn_(std::move(fn)),
        cancel_(cancel),
        deferred_(Napi::Promise::Deferred::New(env)) {
    if (!on_progress.IsEmpty()) on_progress_ = Napi::Persistent(on_progress);
    for (const auto& v : keep_alive)
      if (v.IsObject()) keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    try {
      FitContext ctx(cancel_, [&progress](const Progress& p) { progress.Send(&p, 1); });
      model_ = fn_(ctx);
    } catch (const Error& e) {
      code_ = e.code();
      message_ = e.what();
    } catch (const std::bad_alloc&) {
      code_ = "E_MEMORY";
      message_ = "out of memory";
    } catch (const std::exception& e) {
      code_ = "E_NATIVE";
      message_ = e.what();
    }
  }
  void OnProgress(const Progress* data, size_t count) override {
    if (on_progress_.IsEmpty()) return;
    Napi::HandleScope scope(Env());
    for (size_t i = 0; i < count; ++i) {
      try {
        on_progress_.Call({progress_to_js(Env(), data[i])});
      } catch (const Napi::Error&) {
        // a throwing progress callback must not take the fit down; the error is dropped
      }
    }
  }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (!code_.empty()) {
      deferred_.Reject(to_js_error(Env(), Error(code_, message_)).Value());
      return;
    }
    try {
      deferred_.Resolve(wrap_model(Env(), std::move(model_)));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  FitFn fn_;
  const volatile int32_t* cancel_;
  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference on_progress_;
  std::vector<Napi::ObjectReference> keep_;
  std::shared_ptr<Model> model_;
  std::string code_, message_;
};
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

Napi::Value run_fit(const Napi::CallbackInfo& info, const Napi::Object& opts, FitFn fn,
                    const std::vector<Napi::Value>& keep_alive) {
  Napi::Env env = info.Env();
  bool async = bool_arg(opts, "async", false);
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
    auto* w = new FitWorker(env, std::move(fn), cancel, cb.IsFunction() ? cb.As<Napi::Function>() : Napi::Function(), keep);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }
  Napi::Function f = cb.IsFunction() ? cb.As<Napi::Function>() : Napi::Function();
  FitContext ctx(cancel, [&](const Progress& p) {
    if (!f.IsEmpty()) f.Call({progress_to_js(env, p)});
  });
  return wrap_model(env, fn(ctx));
}

}  // namespace recsys
