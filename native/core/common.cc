#include "core/common.h"

#include <limits>
#include <type_traits>

namespace recsys {

Napi::Error to_js_error(Napi::Env env, const std::exception& e) {
  const auto* re = dynamic_cast<const Error*>(&e);
  const std::string code = re ? re->code() : "E_NATIVE";
  AddonData& d = addon_data(env);
  if (!d.error_class.IsEmpty() && !env.IsExceptionPending()) {
    try {
      Napi::Value err = d.error_class.New({Napi::String::New(env, code), Napi::String::New(env, e.what())});
      if (err.IsObject()) return Napi::Error(env, err);
    } catch (const Napi::Error&) {
      // the class threw: fall back to a plain Error below
    }
  }
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Value().Set("code", Napi::String::New(env, code));
  return err;
}

namespace {
template <typename T>
constexpr napi_typedarray_type typed_array_type() {
  if constexpr (std::is_same_v<std::remove_const_t<T>, float>) return napi_float32_array;
  else if constexpr (std::is_same_v<std::remove_const_t<T>, double>) return napi_float64_array;
  else if constexpr (std::is_same_v<std::remove_const_t<T>, int32_t>) return napi_int32_array;
  else if constexpr (std::is_same_v<std::remove_const_t<T>, uint8_t>) return napi_uint8_array;
  else static_assert(sizeof(T) == 0, "unsupported typed array element");
}
template <typename T>
constexpr const char* typed_array_name() {
  if constexpr (std::is_same_v<std::remove_const_t<T>, float>) return "Float32Array";
  else if constexpr (std::is_same_v<std::remove_const_t<T>, double>) return "Float64Array";
  else if constexpr (std::is_same_v<std::remove_const_t<T>, int32_t>) return "Int32Array";
  else return "Uint8Array";
}
}  // namespace

template <typename T>
Span<T> typed_array(const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray()) fail_arg(std::string(name) + " must be a " + typed_array_name<T>());
  // napi_get_typedarray_info's own data pointer, not ArrayBuffer().Data(): the latter refuses a typed array over
  // a SharedArrayBuffer ("Invalid argument"). A detached buffer reads as length 0.
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != typed_array_type<T>()) {
    fail_arg(std::string(name) + " must be a " + typed_array_name<T>());
  }
  Span<T> s;
  s.data = static_cast<T*>(data);
  s.size = length;
  return s;
}
template <typename T>
Span<T> optional_typed_array(const Napi::Value& v, const char* name) {
  if (v.IsUndefined() || v.IsNull()) return Span<T>{};
  return typed_array<T>(v, name);
}
template Span<float> typed_array<float>(const Napi::Value&, const char*);
template Span<const float> typed_array<const float>(const Napi::Value&, const char*);
template Span<double> typed_array<double>(const Napi::Value&, const char*);
template Span<const double> typed_array<const double>(const Napi::Value&, const char*);
template Span<int32_t> typed_array<int32_t>(const Napi::Value&, const char*);
template Span<const int32_t> typed_array<const int32_t>(const Napi::Value&, const char*);
template Span<uint8_t> typed_array<uint8_t>(const Napi::Value&, const char*);
template Span<const uint8_t> typed_array<const uint8_t>(const Napi::Value&, const char*);
template Span<const float> optional_typed_array<const float>(const Napi::Value&, const char*);
template Span<const double> optional_typed_array<const double>(const Napi::Value&, const char*);
template Span<const int32_t> optional_typed_array<const int32_t>(const Napi::Value&, const char*);
template Span<float> optional_typed_array<float>(const Napi::Value&, const char*);

double number_arg(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) fail_arg(std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

namespace {
// The value of a required option (E_ARG when it is missing or undefined).
Napi::Value required(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) fail_arg(std::string("option '") + key + "' is required");
  return v;
}
double real_in(double x, const char* key, double lo, double hi, bool lo_open) {
  if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo)) {
    fail_arg(std::string(key) + " must be a finite number " + (lo_open ? "> " : ">= ") + std::to_string(lo) +
             (std::isfinite(hi) ? " and <= " + std::to_string(hi) : "") + ", got " + std::to_string(x));
  }
  return x;
}
}  // namespace

int64_t int_arg(const Napi::Value& v, const char* name, int64_t lo, int64_t hi) {
  double x = number_arg(v, name);
  if (!std::isfinite(x) || std::floor(x) != x || x < static_cast<double>(lo) || x > static_cast<double>(hi)) {
    fail_arg(std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
             "], got " + std::to_string(x));
  }
  return static_cast<int64_t>(x);
}

int64_t int_req(const Napi::Object& o, const char* key, int64_t lo, int64_t hi) {
  return int_arg(required(o, key), key, lo, hi);
}

double real_req(const Napi::Object& o, const char* key, double lo, double hi, bool lo_open) {
  return real_in(number_arg(required(o, key), key), key, lo, hi, lo_open);
}

std::optional<double> real_req_or_null(const Napi::Object& o, const char* key, double lo, double hi) {
  Napi::Value v = required(o, key);
  if (v.IsNull()) return std::nullopt;
  return real_in(number_arg(v, key), key, lo, hi, false);
}

bool bool_req(const Napi::Object& o, const char* key) {
  Napi::Value v = required(o, key);
  if (!v.IsBoolean()) fail_arg(std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string string_req(const Napi::Object& o, const char* key) {
  Napi::Value v = required(o, key);
  if (!v.IsString()) fail_arg(std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Float32Array to_js(Napi::Env env, const std::vector<float>& v) {
  auto a = Napi::Float32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}
Napi::Float64Array to_js(Napi::Env env, const std::vector<double>& v) {
  auto a = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}
Napi::Int32Array to_js(Napi::Env env, const std::vector<int32_t>& v) {
  auto a = Napi::Int32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

namespace {
template <typename T>
Napi::ArrayBuffer adopt(Napi::Env env, std::vector<T>&& v) {
  if (v.empty()) return Napi::ArrayBuffer::New(env, 0);
  auto* owner = new std::vector<T>(std::move(v));
  return Napi::ArrayBuffer::New(
      env, owner->data(), owner->size() * sizeof(T), [](Napi::Env, void*, std::vector<T>* o) { delete o; }, owner);
}
}  // namespace

Napi::Float32Array give_to_js(Napi::Env env, std::vector<float>&& v) {
  size_t n = v.size();
  return Napi::Float32Array::New(env, n, adopt(env, std::move(v)), 0);
}
Napi::Float64Array give_to_js(Napi::Env env, std::vector<double>&& v) {
  size_t n = v.size();
  return Napi::Float64Array::New(env, n, adopt(env, std::move(v)), 0);
}
Napi::Int32Array give_to_js(Napi::Env env, std::vector<int32_t>&& v) {
  size_t n = v.size();
  return Napi::Int32Array::New(env, n, adopt(env, std::move(v)), 0);
}

Napi::FunctionReference& AddonData::get(const std::string& name) {
  for (auto& [n, ref] : constructors)
    if (n == name) return ref;
  constructors.emplace_back(name, Napi::FunctionReference());
  return constructors.back().second;
}

AddonData& addon_data(Napi::Env env) {
  AddonData* d = env.GetInstanceData<AddonData>();
  if (!d) {
    d = new AddonData();
    env.SetInstanceData(d);
  }
  return *d;
}

namespace {
std::vector<std::pair<const char*, ExportInit>>& registry() {
  static std::vector<std::pair<const char*, ExportInit>> r;
  return r;
}
}  // namespace

ExportRegistrar::ExportRegistrar(const char* name, ExportInit init) { registry().emplace_back(name, init); }

void register_all_exports(Napi::Env env, Napi::Object exports) {
  for (auto& [name, init] : registry()) init(env, exports);
}

}  // namespace recsys
