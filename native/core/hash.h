// XXH64 (Yann Collet's xxHash, 64-bit variant, implemented from its published specification): the checksum of
// model files. Fast (several GB/s, one pass) and available to Python users as the `xxhash` package.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace recsys {

class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0);
  void update(const void* data, size_t n);
  uint64_t digest() const;
  // 16 lower-case hex digits.
  std::string hex() const;

 private:
  uint64_t v_[4];
  uint64_t seed_;
  uint64_t total_ = 0;
  unsigned char buf_[32];
  size_t buffered_ = 0;
};

}  // namespace recsys
