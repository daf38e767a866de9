#include "core/hash.h"

#include <cstring>

#include "core/common.h"

namespace recsys {

namespace {
constexpr uint64_t P1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t P2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t P3 = 0x165667B19E3779F9ULL;
constexpr uint64_t P4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t P5 = 0x27D4EB2F165667C5ULL;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
// The spec reads lanes little-endian; every platform we build for is little-endian (checked in TS before writing).
inline uint64_t read64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t read32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t round(uint64_t acc, uint64_t lane) {
  acc += lane * P2;
  acc = rotl(acc, 31);
  return acc * P1;
}
inline uint64_t merge(uint64_t acc, uint64_t v) {
  acc ^= round(0, v);
  return acc * P1 + P4;
}
}  // namespace

Xxh64::Xxh64(uint64_t seed) : seed_(seed) {
  v_[0] = seed + P1 + P2;
  v_[1] = seed + P2;
  v_[2] = seed;
  v_[3] = seed - P1;
}

void Xxh64::update(const void* data, size_t n) {
  if (n == 0) return;  // data may be null then (an empty span): memcpy's pointers must not be
  const auto* p = static_cast<const unsigned char*>(data);
  total_ += n;
  if (buffered_ + n < 32) {
    std::memcpy(buf_ + buffered_, p, n);
    buffered_ += n;
    return;
  }
  if (buffered_ > 0) {
    size_t fill = 32 - buffered_;
    std::memcpy(buf_ + buffered_, p, fill);
    for (int l = 0; l < 4; ++l) v_[l] = round(v_[l], read64(buf_ + 8 * l));
    p += fill;
    n -= fill;
    buffered_ = 0;
  }
  uint64_t a = v_[0], b = v_[1], c = v_[2], d = v_[3];
  while (n >= 32) {
    a = round(a, read64(p));
    b = round(b, read64(p + 8));
    c = round(c, read64(p + 16));
    d = round(d, read64(p + 24));
    p += 32;
    n -= 32;
  }
  v_[0] = a, v_[1] = b, v_[2] = c, v_[3] = d;
  std::memcpy(buf_, p, n);
  buffered_ = n;
}

uint64_t Xxh64::digest() const {
  uint64_t acc;
  if (total_ >= 32) {
    acc = rotl(v_[0], 1) + rotl(v_[1], 7) + rotl(v_[2], 12) + rotl(v_[3], 18);
    for (int l = 0; l < 4; ++l) acc = merge(acc, v_[l]);
  } else {
    acc = seed_ + P5;
  }
  acc += total_;
  const unsigned char* p = buf_;
  size_t n = buffered_;
  while (n >= 8) {
    acc ^= round(0, read64(p));
    acc = rotl(acc, 27) * P1 + P4;
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    acc ^= static_cast<uint64_t>(read32(p)) * P1;
    acc = rotl(acc, 23) * P2 + P3;
    p += 4;
    n -= 4;
  }
  while (n > 0) {
    acc ^= (*p) * P5;
    acc = rotl(acc, 11) * P1;
    ++p;
    --n;
  }
  acc ^= acc >> 33;
  acc *= P2;
  acc ^= acc >> 29;
  acc *= P3;
  acc ^= acc >> 32;
  return acc;
}

std::string Xxh64::hex() const {
  static const char* digits = "0123456789abcdef";
  uint64_t h = digest();
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) s[i] = digits[h & 15];
  return s;
}

namespace {
// xxh64(chunks: (Uint8Array | Float32Array | Int32Array)[], seed?) -> 16 hex digits of the concatenation's hash.
Napi::Value JsXxh64(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    if (!info[0].IsArray()) fail_arg("xxh64 expects an array of typed arrays");
    auto arr = info[0].As<Napi::Array>();
    Xxh64 h(0);
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value v = arr.Get(i);
      if (!v.IsTypedArray()) fail_arg("xxh64: chunk " + std::to_string(i) + " is not a typed array");
      auto ta = v.As<Napi::TypedArray>();
      const auto* base = static_cast<const unsigned char*>(ta.ArrayBuffer().Data());
      h.update(base + ta.ByteOffset(), ta.ByteLength());
    }
    return Napi::String::New(info.Env(), h.hex());
  });
}
void init(Napi::Env env, Napi::Object exports) { exports.Set("xxh64", Napi::Function::New(env, JsXxh64)); }
}  // namespace

RECSYS_REGISTER_EXPORTS(hash, init);

}  // namespace recsys
