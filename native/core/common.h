// Shared basics of the native core: the typed error every native function throws, argument readers that
// validate what JS hands over, and the export registry that lets each model file add its functions.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace recsys {

// A failure with a stable code (E_ARG, E_PARSE, E_STATE, E_CANCELLED, E_MEMORY, ...). Thrown anywhere in the
// native code, turned into a JS Error with .code at the boundary; TS rethrows it as RecsysError.
class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

[[noreturn]] inline void fail(const char* code, const std::string& message) { throw Error(code, message); }
[[noreturn]] inline void fail_arg(const std::string& message) { throw Error("E_ARG", message); }

// Make a JS error object carrying .code from any C++ exception: an instance of the class given to setErrorClass
// (RecsysError, constructed as new RecsysError(code, message)), else a plain Error with .code.
Napi::Error to_js_error(Napi::Env env, const std::exception& e);

// Wraps a native entry point so that every C++ exception reaches JS as an Error with .code, never a crash.
template <typename F>
Napi::Value guard(const Napi::CallbackInfo& info, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) { throw; } catch (const std::bad_alloc&) {
    throw to_js_error(info.Env(), Error("E_MEMORY", "out of memory"));
  } catch (const std::exception& e) { throw to_js_error(info.Env(), e); }
}

// ---- argument readers: each checks type and names the argument in its error -------------------------
template <typename T>
struct Span {
  T* data = nullptr;
  size_t size = 0;
  T& operator[](size_t i) const { return data[i]; }
  T* begin() const { return data; }
  T* end() const { return data + size; }
  bool empty() const { return size == 0; }
};

template <typename T>
Span<T> typed_array(const Napi::Value& v, const char* name);  // Float32Array/Float64Array/Int32Array/Uint8Array
template <typename T>
Span<T> optional_typed_array(const Napi::Value& v, const char* name);  // undefined/null -> empty span

// Positional arguments.
double number_arg(const Napi::Value& v, const char* name);
int64_t int_arg(const Napi::Value& v, const char* name, int64_t lo, int64_t hi);

// Options read from an object. Every one is required: TS owns every option's default (ts/models/params.ts for
// models; the TS caller for the internal seams) and sends each one resolved, so the native side holds no
// defaults. A key that is missing or undefined is E_ARG "option 'key' is required"; a value of the wrong type or
// outside its range is E_ARG naming it. (test/core/readers.test.ts fails if a defaulted reader comes back.)
int64_t int_req(const Napi::Object& o, const char* key, int64_t lo, int64_t hi);
// A finite number in [lo, hi] (inclusive bounds, lo exclusive when lo_open; use +-INFINITY for none).
double real_req(const Napi::Object& o, const char* key, double lo, double hi, bool lo_open = false);
bool bool_req(const Napi::Object& o, const char* key);
std::string string_req(const Napi::Object& o, const char* key);
// A required key whose null means "derive it from the data" (ratingMin / ratingMax: the training data's range):
// the derivation needs the data, which only the native fit holds, so null is a value TS sends on purpose, not a
// default. Missing or undefined is still E_ARG "required".
std::optional<double> real_req_or_null(const Napi::Object& o, const char* key, double lo, double hi);

// Copies of plain vectors into new JS typed arrays (the memory belongs to JS afterwards).
Napi::Float32Array to_js(Napi::Env env, const std::vector<float>& v);
Napi::Float64Array to_js(Napi::Env env, const std::vector<double>& v);
Napi::Int32Array to_js(Napi::Env env, const std::vector<int32_t>& v);
// Hands a vector's storage to JS without a copy (the vector is moved into the ArrayBuffer's finalizer).
Napi::Float32Array give_to_js(Napi::Env env, std::vector<float>&& v);
Napi::Float64Array give_to_js(Napi::Env env, std::vector<double>&& v);
Napi::Int32Array give_to_js(Napi::Env env, std::vector<int32_t>&& v);

// Per-environment data (the addon may be loaded in several worker threads): constructors of wrapped classes, and
// the library's error class (setErrorClass; better-sqlite3 injects its SqliteError the same way).
struct AddonData {
  std::vector<std::pair<std::string, Napi::FunctionReference>> constructors;
  Napi::FunctionReference error_class;
  Napi::FunctionReference& get(const std::string& name);
};
AddonData& addon_data(Napi::Env env);

// ---- export registry: model files register their functions at static-init time -----------------------
using ExportInit = void (*)(Napi::Env env, Napi::Object exports);
struct ExportRegistrar {
  ExportRegistrar(const char* name, ExportInit init);
};
void register_all_exports(Napi::Env env, Napi::Object exports);

#define RECSYS_REGISTER_EXPORTS(name, fn) static ::recsys::ExportRegistrar recsys_registrar_##name(#name, fn)

}  // namespace recsys
