// Module entry: every native/**/*.cc registers its exports (RECSYS_REGISTER_EXPORTS); this file adds info().
#include <napi.h>

#include <thread>

#include "core/blas.h"
#include "core/common.h"
#include "core/dispatch.h"

namespace recsys {
namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("blas", Napi::String::New(env, blas::backend()));
  o.Set("openblas", Napi::Boolean::New(env, blas::using_openblas()));
  o.Set("hardwareThreads", Napi::Number::New(env, std::thread::hardware_concurrency()));
  o.Set("simd", Napi::String::New(env, kernel_isa()));
  o.Set("archFlag", Napi::String::New(env, RECSYS_ARCH_FLAG));
  o.Set("dispatch", Napi::Boolean::New(env, RECSYS_DISPATCH != 0));
#if defined(__clang__)
  o.Set("compiler", Napi::String::New(env, std::string("clang ") + __clang_version__));
#elif defined(__GNUC__)
  o.Set("compiler", Napi::String::New(env, std::string("gcc ") + __VERSION__));
#else
  o.Set("compiler", Napi::String::New(env, "unknown"));
#endif
  o.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return o;
}

// setErrorClass(cls): native errors reach JS as `new cls(code, message)` (ts/native.ts passes RecsysError).
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    if (!info[0].IsFunction()) fail_arg("setErrorClass expects a class");
    addon_data(info.Env()).error_class = Napi::Persistent(info[0].As<Napi::Function>());
    return info.Env().Undefined();
  });
}

}  // namespace
}  // namespace recsys

static Napi::Object InitRecsys(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, recsys::Info));
  exports.Set("setErrorClass", Napi::Function::New(env, recsys::SetErrorClass));
  recsys::register_all_exports(env, exports);
  return exports;
}

NODE_API_MODULE(recsys, InitRecsys)
