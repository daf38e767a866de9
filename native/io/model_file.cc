// Reads the tensors of a model file (ts/io/format.ts describes the layout: a safetensors file whose header
// carries our metadata and an XXH64 checksum) straight into the vectors a restored model keeps: one sequential
// pass over the file that reads, hashes and places each tensor, with no copy through JS. TS parses and checks
// the header first and hands over the tensor table; everything is checked again here, and every failure is an
// E_FORMAT / E_IO error, never a crash.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/async.h"
#include "core/common.h"
#include "core/hash.h"
#include "core/model.h"

namespace recsys {

namespace {

struct TensorSpec {
  std::string name;
  bool f32 = true;
  std::vector<int64_t> shape;
  int64_t begin = 0, end = 0;
  int64_t numel = 1;
};

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

// Reads exactly n bytes into dst and feeds them to the hash, in chunks so each is hashed while still in cache.
void read_hashed(std::FILE* f, unsigned char* dst, int64_t n, Xxh64& h, const std::string& path) {
  const int64_t chunk = int64_t{4} << 20;
  while (n > 0) {
    size_t want = static_cast<size_t>(std::min(n, chunk));
    size_t got = std::fread(dst, 1, want, f);
    if (got != want) {
      if (std::ferror(f)) fail("E_IO", path + ": read error");
      fail("E_FORMAT", path + ": the file is truncated (or changed while it was read)");
    }
    h.update(dst, got);
    dst += got;
    n -= static_cast<int64_t>(got);
  }
}

// What TS hands over: the file, the header bytes it parsed, the tensor table and what to restore.
struct ReadSpec {
  std::string path;
  std::vector<unsigned char> header;
  int64_t checksum_at = 0, data_length = 0;
  std::string expected;  // empty: do not verify
  std::vector<TensorSpec> tensors;
  bool restore = false;
  std::string kind;
  int32_t users = 0, items = 0;
  std::vector<std::string> names;
  ParamMap params;
};

struct ReadResult {
  std::string checksum;
  std::shared_ptr<Model> model;
  std::vector<Tensor> tensors;  // those not moved into the model (others are left empty)
  std::vector<bool> used;
};

// spec: { header: Uint8Array (the file's first bytes, as TS read them), checksumAt: number (offset of the 16 hex
//   digits in header that hashing treats as '0'), tensors: [{ name, dtype: 'F32' | 'I32', shape, begin, end }]
//   (offsets into the data section, contiguous from 0), dataLength, expected?: hex (verify when given),
//   restore?: { kind, users, items, names: string[], params } (these tensors and the model's resolved options build
//   the model; the rest come back as arrays) }
ReadSpec read_spec(const Napi::CallbackInfo& info) {
  ReadSpec rs;
  if (!info[0].IsString()) fail_arg("path must be a string");
  rs.path = info[0].As<Napi::String>().Utf8Value();
  const std::string& path = rs.path;
  if (!info[1].IsObject()) fail_arg("readModelFile expects a spec object");
  auto spec = info[1].As<Napi::Object>();
  auto header = typed_array<const uint8_t>(spec.Get("header"), "header");
  rs.header.assign(header.begin(), header.end());
  rs.checksum_at = int_arg(spec.Get("checksumAt"), "checksumAt", 0, static_cast<int64_t>(header.size) - 16);
  rs.data_length = int_arg(spec.Get("dataLength"), "dataLength", 0, int64_t{1} << 50);
  // Optional: no expected checksum means "do not verify" (loadModel's verify: false), not a default value.
  if (!spec.Get("expected").IsUndefined()) rs.expected = string_req(spec, "expected");
  const int64_t data_length = rs.data_length;

  // The tensor table, checked: known dtypes, sizes that match shapes, contiguous offsets covering the data.
  Napi::Value tv = spec.Get("tensors");
  if (!tv.IsArray()) fail_arg("tensors must be an array");
  auto ta = tv.As<Napi::Array>();
  rs.tensors.resize(ta.Length());
  int64_t at = 0;
  for (uint32_t k = 0; k < ta.Length(); ++k) {
    Napi::Value e = ta.Get(k);
    if (!e.IsObject()) fail_arg("tensors[" + std::to_string(k) + "] must be an object");
    auto o = e.As<Napi::Object>();
    TensorSpec& t = rs.tensors[k];
    t.name = string_req(o, "name");
    std::string dtype = string_req(o, "dtype");
    if (dtype != "F32" && dtype != "I32")
      fail("E_FORMAT", path + ": tensor '" + t.name + "' has dtype " + dtype + " (F32 and I32 are read)");
    t.f32 = dtype == "F32";
    Napi::Value sv = o.Get("shape");
    if (!sv.IsArray()) fail_arg("tensors[].shape must be an array");
    auto sa = sv.As<Napi::Array>();
    for (uint32_t d = 0; d < sa.Length(); ++d) {
      int64_t x = int_arg(sa.Get(d), "shape", 0, std::numeric_limits<int32_t>::max());
      t.shape.push_back(x);
      if (x > 0 && t.numel > data_length / x)
        fail("E_FORMAT", path + ": tensor '" + t.name + "' is larger than the file");
      t.numel *= x;
      if (t.numel > data_length) fail("E_FORMAT", path + ": tensor '" + t.name + "' is larger than the file");
    }
    t.begin = int_arg(o.Get("begin"), "begin", 0, data_length);
    t.end = int_arg(o.Get("end"), "end", 0, data_length);
    if (t.begin != at || t.end < t.begin || t.end - t.begin != t.numel * 4)
      fail("E_FORMAT", path + ": tensor '" + t.name + "' does not lie where its offsets and shape say");
    at = t.end;
  }
  if (at != data_length) fail("E_FORMAT", path + ": the tensors do not cover the data section");

  Napi::Value rv = spec.Get("restore");
  if (rv.IsObject()) {
    auto r = rv.As<Napi::Object>();
    rs.restore = true;
    rs.kind = string_req(r, "kind");
    rs.users = static_cast<int32_t>(int_arg(r.Get("users"), "users", 0, std::numeric_limits<int32_t>::max() - 1));
    rs.items = static_cast<int32_t>(int_arg(r.Get("items"), "items", 0, std::numeric_limits<int32_t>::max() - 1));
    Napi::Value nv = r.Get("names");
    if (!nv.IsArray()) fail_arg("restore.names must be an array");
    auto na = nv.As<Napi::Array>();
    for (uint32_t q = 0; q < na.Length(); ++q) rs.names.push_back(na.Get(q).ToString().Utf8Value());
    rs.params = params_arg(r.Get("params"));
  }
  return rs;
}

// The work: no N-API here, so it runs on the JS thread (readModelFile) or a worker thread (readModelFileAsync).
ReadResult read_file(const ReadSpec& rs) {
  const std::string& path = rs.path;
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) fail("E_IO", path + ": cannot open: " + std::strerror(errno));
  // The header must be the one TS parsed (the file may have been replaced in between).
  std::vector<unsigned char> head(rs.header.size());
  if (std::fread(head.data(), 1, head.size(), f.get()) != head.size() ||
      std::memcmp(head.data(), rs.header.data(), head.size()) != 0)
    fail("E_FORMAT", path + ": the file changed while it was read");
  std::memset(head.data() + rs.checksum_at, '0', 16);
  Xxh64 h(0);
  h.update(head.data(), head.size());

  ReadResult out;
  out.tensors.resize(rs.tensors.size());
  for (size_t k = 0; k < rs.tensors.size(); ++k) {
    const TensorSpec& sp = rs.tensors[k];
    Tensor& t = out.tensors[k];
    t.shape = sp.shape;
    unsigned char* dst;
    if (sp.f32) {
      t.f32.resize(static_cast<size_t>(sp.numel));
      dst = reinterpret_cast<unsigned char*>(t.f32.data());
    } else {
      t.i32.resize(static_cast<size_t>(sp.numel));
      dst = reinterpret_cast<unsigned char*>(t.i32.data());
    }
    read_hashed(f.get(), dst, sp.numel * 4, h, path);
  }
  if (std::fgetc(f.get()) != EOF) fail("E_FORMAT", path + ": the file has bytes after its last tensor");
  out.checksum = h.hex();
  if (!rs.expected.empty() && out.checksum != rs.expected)
    fail("E_FORMAT", path + ": checksum mismatch (the file says " + rs.expected + ", its contents hash to " +
                         out.checksum + "): the file is corrupt");

  out.used.assign(rs.tensors.size(), false);
  if (rs.restore) {
    TensorMap state;
    for (const std::string& name : rs.names) {
      size_t k = 0;
      while (k < rs.tensors.size() && rs.tensors[k].name != name) ++k;
      if (k == rs.tensors.size() || out.used[k]) fail("E_FORMAT", path + ": state tensor '" + name + "' is missing");
      out.used[k] = true;
      state[name] = std::move(out.tensors[k]);
    }
    out.model = restore_model(rs.kind, rs.users, rs.items, std::move(state), rs.params);
  }
  return out;
}

// -> { model?: NativeModel, tensors: { name: { shape, data } }, checksum: hex }
Napi::Value result_to_js(Napi::Env env, const ReadSpec& rs, ReadResult& r) {
  auto out = Napi::Object::New(env);
  out.Set("checksum", Napi::String::New(env, r.checksum));
  if (r.model) out.Set("model", wrap_model(env, std::move(r.model)));
  auto tensors = Napi::Object::New(env);
  for (size_t k = 0; k < rs.tensors.size(); ++k) {
    if (r.used[k]) continue;
    const TensorSpec& sp = rs.tensors[k];
    auto e = Napi::Object::New(env);
    auto shape = Napi::Array::New(env, sp.shape.size());
    for (size_t d = 0; d < sp.shape.size(); ++d)
      shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(sp.shape[d])));
    e.Set("shape", shape);
    if (sp.f32) e.Set("data", give_to_js(env, std::move(r.tensors[k].f32)));
    else e.Set("data", give_to_js(env, std::move(r.tensors[k].i32)));
    tensors.Set(sp.name, e);
  }
  out.Set("tensors", tensors);
  return out;
}

// readModelFile(path, spec): on the calling thread.
Napi::Value ReadModelFile(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    ReadSpec rs = read_spec(info);
    ReadResult r = read_file(rs);
    return result_to_js(info.Env(), rs, r);
  });
}

// readModelFileAsync(path, spec) -> Promise of the same: reading, hashing and restoring run on a worker thread, so
// a server reloading a large model keeps answering meanwhile.
Napi::Value ReadModelFileAsync(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto rs = std::make_shared<ReadSpec>(read_spec(info));
    return run_async<std::shared_ptr<ReadResult>>(
        info.Env(), "recsys.readModelFile",
        [rs](const std::function<void(const char&)>&) { return std::make_shared<ReadResult>(read_file(*rs)); },
        [rs](Napi::Env env, std::shared_ptr<ReadResult>& r) -> Napi::Value { return result_to_js(env, *rs, *r); },
        nullptr, {});
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("readModelFile", Napi::Function::New(env, ReadModelFile));
  exports.Set("readModelFileAsync", Napi::Function::New(env, ReadModelFileAsync));
}

}  // namespace

RECSYS_REGISTER_EXPORTS(model_file, init);

}  // namespace recsys
