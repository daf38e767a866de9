// Runs a task off the event loop: `work` on a libuv worker thread, then `convert` of its result on the JS thread,
// settling a Promise. Errors thrown by work (recsys::Error with its code, bad_alloc as E_MEMORY, anything else as
// E_NATIVE) or by convert reject the promise with a JS Error carrying .code. Reports of type Report sent from
// work through `send` reach `on_report` on the JS thread (a throwing handler is ignored: it must not take the
// task down). Used by run_fit (reports = fit progress) and by the file parsers (no reports).
//
//   return run_async<Result>(env, "recsys.parse", [=](const auto& send) { return work(); },
//                            [](Napi::Env env, Result& r) -> Napi::Value { ... }, {}, {info[0]});
//
// JS values whose memory work reads (typed arrays) must be listed in keep_alive so they outlive the task.
#pragma once
#include <napi.h>

#include <functional>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "core/common.h"

namespace recsys {

namespace detail {
// Runs f, turning any exception into (code, message); returns false when it threw.
template <typename F>
bool capture_error(F&& f, std::string& code, std::string& message) {
  try {
    f();
    return true;
  } catch (const Error& e) {
    code = e.code();
    message = e.what();
  } catch (const std::bad_alloc&) {
    code = "E_MEMORY";
    message = "out of memory";
  } catch (const std::exception& e) {
    code = "E_NATIVE";
    message = e.what();
  }
  return false;
}
}  // namespace detail

template <typename Result, typename Report = char>
class AsyncTask : public Napi::AsyncProgressQueueWorker<Report> {
 public:
  using Send = std::function<void(const Report&)>;
  using Work = std::function<Result(const Send&)>;
  using Convert = std::function<Napi::Value(Napi::Env, Result&)>;
  using OnReport = std::function<void(Napi::Env, const Report&)>;

  AsyncTask(Napi::Env env, const char* name, Work work, Convert convert, OnReport on_report,
            const std::vector<Napi::Value>& keep_alive)
      : Napi::AsyncProgressQueueWorker<Report>(env, name),
        work_(std::move(work)),
        convert_(std::move(convert)),
        on_report_(std::move(on_report)),
        deferred_(Napi::Promise::Deferred::New(env)) {
    for (const auto& v : keep_alive)
      if (v.IsObject()) keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  using Progress = typename Napi::AsyncProgressQueueWorker<Report>::ExecutionProgress;

  void Execute(const Progress& progress) override {
    Send send = [&progress](const Report& r) { progress.Send(&r, 1); };
    ok_ = detail::capture_error([&] { result_ = work_(send); }, code_, message_);
  }
  void OnProgress(const Report* data, size_t count) override {
    if (!on_report_) return;
    Napi::HandleScope scope(this->Env());
    for (size_t i = 0; i < count; ++i) {
      try {
        on_report_(this->Env(), data[i]);
      } catch (const Napi::Error&) {
        // dropped: a failing report handler must not fail the task
      }
    }
  }
  void OnOK() override {
    Napi::Env env = this->Env();
    Napi::HandleScope scope(env);
    if (!ok_) {
      deferred_.Reject(to_js_error(env, Error(code_, message_)).Value());
      return;
    }
    try {
      Napi::Value v = convert_(env, result_);
      deferred_.Resolve(v);
    } catch (const Napi::Error& e) { deferred_.Reject(e.Value()); } catch (const std::bad_alloc&) {
      deferred_.Reject(to_js_error(env, Error("E_MEMORY", "out of memory")).Value());
    } catch (const std::exception& e) { deferred_.Reject(to_js_error(env, e).Value()); }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Work work_;
  Convert convert_;
  OnReport on_report_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> keep_;
  Result result_{};
  bool ok_ = false;
  std::string code_, message_;
};

// Queues the task and returns its promise.
template <typename Result, typename Report = char>
Napi::Promise run_async(Napi::Env env, const char* name, typename AsyncTask<Result, Report>::Work work,
                        typename AsyncTask<Result, Report>::Convert convert,
                        typename AsyncTask<Result, Report>::OnReport on_report,
                        const std::vector<Napi::Value>& keep_alive) {
  auto* task =
      new AsyncTask<Result, Report>(env, name, std::move(work), std::move(convert), std::move(on_report), keep_alive);
  Napi::Promise p = task->promise();
  task->Queue();
  return p;
}

}  // namespace recsys
