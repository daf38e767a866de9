// Streaming parser of interaction files (MovieLens 100K / 1M / CSV and generic delimited text) into a CSR.
// The file is read in 1 MiB chunks on a libuv worker thread (never held whole); lines split across chunks are
// carried over. Ids are mapped to dense indices here: a column keeps numeric ids while every token is a canonical
// integer in the safe range (what String(Number(token)) gives back unchanged), and switches to string ids at the
// first token that is not (ids seen so far become their decimal text, which equals their original token).
//
// Line rules (the TS reference parser in test/data mirrors them exactly):
//   - a UTF-8 BOM at the start of the file is skipped; lines end at '\n', one '\r' before it is dropped;
//   - lines holding only spaces and tabs are skipped;
//   - fields are split at the delimiter; spaces and tabs that are not part of the delimiter are trimmed around
//     fields; with quoting, a field may be "quoted" ("" inside stands for ") and then holds delimiters;
//   - every data line has the same number of fields: fixed by the format, else by the header, else by the first
//     data line; ratings and timestamps are decimal numbers ([+-]digits[.digits][e[+-]digits]) that must be
//     finite (ratings also as float32); string ids must be valid UTF-8 and not empty.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/async.h"
#include "core/common.h"
#include "core/csr.h"

namespace recsys {
namespace {

constexpr size_t kChunk = size_t{1} << 20;
constexpr size_t kMaxLine = size_t{64} << 20;
constexpr int64_t kMaxSafe = (int64_t{1} << 53) - 1;

// ---- ids --------------------------------------------------------------------------------------------

// "0", "-7", "42": what JS prints for a safe integer. Anything else (leading zeros or '+', "-0", beyond 2^53-1,
// not digits) is not canonical and makes the column use string ids.
bool canonical_int(const char* s, size_t n, int64_t* out) {
  size_t i = 0;
  bool neg = n > 0 && s[0] == '-';
  if (neg) i = 1;
  if (i == n || n - i > 16) return false;
  if (s[i] == '0') {
    if (n - i != 1 || neg) return false;
    *out = 0;
    return true;
  }
  int64_t v = 0;
  for (; i < n; ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  if (v > kMaxSafe) return false;
  *out = neg ? -v : v;
  return true;
}

bool valid_utf8(const char* s, size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += len;
  }
  return true;
}

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
inline uint64_t hash_bytes(const char* s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 0x100000001b3ULL;
  return mix64(h ^ n);
}

// Ids given by JS to start from (extending an existing map): all safe integers or all strings.
struct KnownIds {
  bool strings = false;
  std::vector<int64_t> nums;
  std::vector<std::string> strs;
};

// External id <-> dense index for one column, open addressing with linear probing. A slot holds the key itself
// (the number, or the string's 64-bit hash) next to the index, so a probe touches one cache line.
class IdColumn {
 public:
  bool numeric() const { return numeric_; }
  size_t size() const { return numeric_ ? nums_.size() : offs_.size() - 1; }

  void preload(const KnownIds& k, const char* what) {
    if (k.strings) {
      to_strings();
      for (const auto& s : k.strs)
        if (get_string(s.data(), s.size(), true) != static_cast<int32_t>(size()) - 1)
          fail_arg(std::string("known ") + what + " ids repeat " + s);
    } else {
      for (int64_t v : k.nums)
        if (get_number(v) != static_cast<int32_t>(size()) - 1)
          fail_arg(std::string("known ") + what + " ids repeat " + std::to_string(v));
    }
  }

  // Dense index of a token (added when new); -1 when it would need a string id that is not valid UTF-8.
  int32_t get(const char* s, size_t n) {
    if (numeric_) {
      int64_t v;
      if (canonical_int(s, n, &v)) return get_number(v);
      to_strings();
    }
    return get_string(s, n, false);
  }

  // The id as text for messages: numbers in decimal, strings quoted.
  std::string describe(int32_t ix) const {
    if (numeric_) return std::to_string(nums_[ix]);
    return "\"" + std::string(arena_.data() + offs_[ix], offs_[ix + 1] - offs_[ix]) + "\"";
  }

  Napi::Value to_js(Napi::Env env) {
    if (numeric_) {
      std::vector<double> d(nums_.begin(), nums_.end());
      return give_to_js(env, std::move(d));
    }
    size_t n = size();
    auto a = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; ++i)
      a.Set(static_cast<uint32_t>(i), Napi::String::New(env, arena_.data() + offs_[i], offs_[i + 1] - offs_[i]));
    return a;
  }

 private:
  struct Slot {
    uint64_t key;
    int32_t ix;  // -1 = empty
  };
  bool numeric_ = true;
  std::vector<int64_t> nums_;
  std::string arena_;
  std::vector<uint64_t> offs_{0};
  std::vector<Slot> slots_ = std::vector<Slot>(16, Slot{0, -1});

  size_t mask() const { return slots_.size() - 1; }
  uint64_t key_of(int32_t ix) const {
    return numeric_ ? static_cast<uint64_t>(nums_[ix])
                    : hash_bytes(arena_.data() + offs_[ix], offs_[ix + 1] - offs_[ix]);
  }
  // Numbers are keys as they are (their slot comes from mixing them); strings are keyed by their hash.
  size_t home(uint64_t key) const { return (numeric_ ? mix64(key) : key) & mask(); }
  void put(uint64_t key, int32_t ix) {
    size_t h = home(key);
    while (slots_[h].ix >= 0) h = (h + 1) & mask();
    slots_[h] = Slot{key, ix};
  }
  void rehash(size_t cap) {
    slots_.assign(cap, Slot{0, -1});
    int32_t n = static_cast<int32_t>(size());
    for (int32_t ix = 0; ix < n; ++ix) put(key_of(ix), ix);
  }
  int32_t next_index() {
    size_t n = size();
    if (n >= static_cast<size_t>(std::numeric_limits<int32_t>::max() - 1))
      fail("E_MEMORY", "more than 2^31-2 distinct ids in one column");
    if ((n + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    return static_cast<int32_t>(n);
  }
  int32_t get_number(int64_t v) {
    const uint64_t key = static_cast<uint64_t>(v);
    for (size_t h = home(key);; h = (h + 1) & mask()) {
      const Slot& sl = slots_[h];
      if (sl.ix < 0) break;
      if (sl.key == key) return sl.ix;
    }
    int32_t ix = next_index();
    nums_.push_back(v);
    put(key, ix);
    return ix;
  }
  int32_t get_string(const char* s, size_t n, bool trusted) {
    const uint64_t key = hash_bytes(s, n);
    for (size_t h = home(key);; h = (h + 1) & mask()) {
      const Slot& sl = slots_[h];
      if (sl.ix < 0) break;
      if (sl.key == key && offs_[sl.ix + 1] - offs_[sl.ix] == n && std::memcmp(arena_.data() + offs_[sl.ix], s, n) == 0)
        return sl.ix;
    }
    // Only new ids need checking: an invalid sequence cannot equal a stored (valid) one.
    if (!trusted && !valid_utf8(s, n)) return -1;
    int32_t ix = next_index();
    arena_.append(s, n);
    offs_.push_back(arena_.size());
    put(key, ix);
    return ix;
  }
  void to_strings() {
    if (!numeric_) return;
    char buf[32];
    for (int64_t v : nums_) {
      auto r = std::to_chars(buf, buf + sizeof buf, v);
      arena_.append(buf, r.ptr);
      offs_.push_back(arena_.size());
    }
    nums_.clear();
    nums_.shrink_to_fit();
    numeric_ = false;
    rehash(slots_.size());
  }
};

// ---- numbers ----------------------------------------------------------------------------------------

// A decimal number as JS Number() reads it, restricted to [+-]digits[.digits][(e|E)[+-]digits] (so no "NaN",
// "Infinity", hex or blanks). Returns false when the text is not such a number; *out may be +-inf on overflow.
bool parse_decimal(const char* s, size_t n, double* out) {
  size_t i = 0;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  size_t mant_begin = i, int_digits = 0, frac_digits = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') ++i, ++int_digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  size_t mant_end = i;
  int64_t exp = 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    size_t d = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      if (exp < 1000000000) exp = exp * 10 + (s[i] - '0');
      ++i, ++d;
    }
    if (d == 0) return false;
    if (eneg) exp = -exp;
  }
  if (i != n) return false;
  double v = 0;
  auto r = std::from_chars(s + mant_begin, s + n, v);  // from_chars takes no sign
  if (r.ec == std::errc::result_out_of_range) {
    // Overflow or underflow: tell them apart by the magnitude of the first nonzero digit.
    int64_t mag = 0;
    bool found = false;
    for (size_t k = mant_begin, pos = 0; k < mant_end && !found; ++k) {
      if (s[k] == '.') continue;
      if (s[k] != '0') {
        mag =
            pos < int_digits ? static_cast<int64_t>(int_digits - pos - 1) : -static_cast<int64_t>(pos - int_digits + 1);
        found = true;
      }
      ++pos;
    }
    v = found && mag + exp >= 0 ? std::numeric_limits<double>::infinity() : 0.0;
  } else if (r.ec != std::errc() || r.ptr != s + n) {
    return false;
  }
  *out = neg ? -v : v;
  return true;
}

// ---- the parser -------------------------------------------------------------------------------------

struct Column {
  int index = -1;    // field index, or -1 while only the name is known
  std::string name;  // header name, when the mapping names the column
  bool used = false;
};

struct Options {
  std::string path, delimiter;
  bool quote = false, header = false;
  int fields = 0;  // exact field count; 0 = from the header or the first data line
  Column user, item, rating, timestamp;
  DupPolicy policy = DupPolicy::Last;
  KnownIds known_users, known_items;
};

struct Field {
  const char* p;
  size_t n;
};

struct Result {
  Csr csr;
  int64_t duplicates = 0, interactions = 0, lines = 0;
  bool values = false, times = false;
  std::unique_ptr<IdColumn> users, items;
};

std::string show(const char* s, size_t n) {
  std::string out = "'";
  static const char* hex = "0123456789abcdef";
  for (size_t i = 0; i < n && i < 40; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\'' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += "\\x", out += hex[c >> 4], out += hex[c & 15];
  }
  if (n > 40) out += "...";
  return out + "'";
}

class Parser {
 public:
  explicit Parser(Options o) : o_(std::move(o)) {
    for (char c : std::string(" \t"))
      if (o_.delimiter.find(c) == std::string::npos) trim_[static_cast<unsigned char>(c)] = true;
    r_.users = std::make_unique<IdColumn>();
    r_.items = std::make_unique<IdColumn>();
    r_.users->preload(o_.known_users, "user");
    r_.items->preload(o_.known_items, "item");
    r_.values = o_.rating.used;
    r_.times = o_.timestamp.used;
    expected_ = o_.fields;
    header_pending_ = o_.header;
    int need = 1 + std::max(std::max(o_.user.index, o_.item.index), std::max(o_.rating.index, o_.timestamp.index));
    if (expected_ > 0 && expected_ < need)
      fail_arg("the column mapping needs " + std::to_string(need) + " fields but fields is " +
               std::to_string(expected_));
  }

  Result run() {
    read_file();
    if (rows_.empty())
      fail("E_EMPTY", o_.path + ": no interactions in " + std::to_string(line_) + " line" + (line_ == 1 ? "" : "s"));
    r_.interactions = static_cast<int64_t>(rows_.size());
    r_.lines = line_;
    int32_t nu = static_cast<int32_t>(r_.users->size()), ni = static_cast<int32_t>(r_.items->size());
    try {
      r_.csr =
          build_csr(nu, ni, rows_.data(), cols_.data(), r_.values ? values_.data() : nullptr,
                    r_.times ? times_.data() : nullptr, static_cast<int64_t>(rows_.size()), o_.policy, &r_.duplicates);
    } catch (const DuplicateError& d) {
      fail("E_DUPLICATE", o_.path + ":" + std::to_string(line_of_[d.second]) + ": duplicate interaction of user " +
                              r_.users->describe(d.row) + " with item " + r_.items->describe(d.col) + " (also at " +
                              o_.path + ":" + std::to_string(line_of_[d.first]) + "; duplicates: 'error')");
    }
    // The COO arrays are not needed any more; free them before the result is handed over.
    std::vector<int32_t>().swap(rows_);
    std::vector<int32_t>().swap(cols_);
    std::vector<float>().swap(values_);
    std::vector<double>().swap(times_);
    return std::move(r_);
  }

 private:
  Options o_;
  bool trim_[256] = {};
  Result r_;
  int64_t line_ = 0;
  int expected_ = 0;
  bool header_pending_ = false;
  std::vector<Field> fields_;
  std::string scratch_;
  std::vector<int32_t> rows_, cols_;
  std::vector<float> values_;
  std::vector<double> times_;
  std::vector<int64_t> line_of_;  // input position -> line, only for duplicates: 'error'

  [[noreturn]] void parse_error(const std::string& what) const {
    fail("E_PARSE", o_.path + ":" + std::to_string(line_) + ": " + what);
  }

  void read_file() {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(o_.path.c_str(), "rb"), &std::fclose);
    if (!f) fail("E_IO", "cannot open " + o_.path + ": " + std::strerror(errno));
    std::vector<char> buf(kChunk);
    size_t have = 0;
    bool bom_checked = false;
    for (;;) {
      if (have == buf.size()) {
        if (buf.size() >= kMaxLine) {
          line_ += 1;
          parse_error("line longer than " + std::to_string(kMaxLine >> 20) + " MiB");
        }
        buf.resize(buf.size() * 2);
      }
      errno = 0;
      size_t got = std::fread(buf.data() + have, 1, buf.size() - have, f.get());
      bool eof = got == 0;
      if (eof && std::ferror(f.get()))
        fail("E_IO", "cannot read " + o_.path + ": " + std::strerror(errno ? errno : EIO));
      size_t end = have + got, start = 0;
      if (!bom_checked && (end >= 3 || eof)) {
        bom_checked = true;
        if (end >= 3 && std::memcmp(buf.data(), "\xEF\xBB\xBF", 3) == 0) start = 3;
      }
      if (!bom_checked) {
        have = end;
        continue;
      }
      for (;;) {
        const char* nl = static_cast<const char*>(std::memchr(buf.data() + start, '\n', end - start));
        if (!nl) break;
        line(buf.data() + start, static_cast<size_t>(nl - (buf.data() + start)));
        start = static_cast<size_t>(nl - buf.data()) + 1;
      }
      if (eof) {
        if (start < end) line(buf.data() + start, end - start);
        return;
      }
      std::memmove(buf.data(), buf.data() + start, end - start);
      have = end - start;
    }
  }

  bool is_trim(char c) const { return trim_[static_cast<unsigned char>(c)]; }

  bool delimiter_at(const char* p, const char* end) const {
    size_t d = o_.delimiter.size();
    return static_cast<size_t>(end - p) >= d && std::memcmp(p, o_.delimiter.data(), d) == 0;
  }
  const char* find_delimiter(const char* p, const char* end) const {
    const char first = o_.delimiter[0];
    for (;;) {
      p = static_cast<const char*>(std::memchr(p, first, end - p));
      if (!p || delimiter_at(p, end)) return p ? p : end;
      ++p;
    }
  }

  // Splits a line into fields_ (quoted fields are unescaped into scratch_, reserved so pointers stay valid).
  void split(const char* p, size_t n) {
    fields_.clear();
    const char* end = p + n;
    const size_t dl = o_.delimiter.size();
    if (o_.quote) {
      scratch_.clear();
      scratch_.reserve(n);
    }
    for (;;) {
      const char* s = p;
      while (s < end && is_trim(*s)) ++s;
      if (o_.quote && s < end && *s == '"') {
        size_t at = scratch_.size();
        const char* q = s + 1;
        for (;;) {
          const char* c = static_cast<const char*>(std::memchr(q, '"', end - q));
          if (!c) parse_error("a quoted field has no closing quote");
          scratch_.append(q, c);
          if (c + 1 < end && c[1] == '"') {
            scratch_ += '"';
            q = c + 2;
            continue;
          }
          q = c + 1;
          break;
        }
        fields_.push_back({scratch_.data() + at, scratch_.size() - at});
        while (q < end && is_trim(*q)) ++q;
        if (q == end) return;
        if (!delimiter_at(q, end)) parse_error("unexpected text after a closing quote");
        p = q + dl;
        continue;
      }
      const char* d = find_delimiter(s, end);
      const char* e = d;
      while (e > s && is_trim(e[-1])) --e;
      fields_.push_back({s, static_cast<size_t>(e - s)});
      if (d == end) return;
      p = d + dl;
    }
  }

  void resolve(Column& c, const char* what) {
    if (!c.used || c.index >= 0) return;
    int found = -1;
    for (size_t k = 0; k < fields_.size(); ++k)
      if (fields_[k].n == c.name.size() && std::memcmp(fields_[k].p, c.name.data(), c.name.size()) == 0) {
        found = static_cast<int>(k);
        break;
      }
    if (found < 0) {
      std::string names;
      for (size_t k = 0; k < fields_.size(); ++k) names += (k ? ", " : "") + show(fields_[k].p, fields_[k].n);
      parse_error(std::string("the header has no ") + what + " column '" + c.name + "' (it has " + names + ")");
    }
    c.index = found;
  }

  void line(const char* p, size_t n) {
    ++line_;
    if (n > 0 && p[n - 1] == '\r') --n;
    size_t k = 0;
    while (k < n && (p[k] == ' ' || p[k] == '\t')) ++k;
    if (k == n) return;  // blank
    split(p, n);
    int count = static_cast<int>(fields_.size());
    if (header_pending_) {
      header_pending_ = false;
      resolve(o_.user, "user");
      resolve(o_.item, "item");
      resolve(o_.rating, "rating");
      resolve(o_.timestamp, "timestamp");
      if (expected_ == 0) expected_ = count;
      else if (count != expected_)
        parse_error("the header has " + std::to_string(count) + " fields, expected " + std::to_string(expected_));
      check_columns_fit();
      return;
    }
    if (expected_ == 0) {
      expected_ = count;
      check_columns_fit();
    }
    if (count != expected_)
      parse_error("expected " + std::to_string(expected_) + " fields separated by " +
                  show(o_.delimiter.data(), o_.delimiter.size()) + ", found " + std::to_string(count));
    if (rows_.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
      parse_error("more than 2^31-1 interactions");
    rows_.push_back(id(*r_.users, o_.user, "user"));
    cols_.push_back(id(*r_.items, o_.item, "item"));
    if (o_.rating.used) {
      const Field& f = fields_[o_.rating.index];
      double v;
      if (!parse_decimal(f.p, f.n, &v)) parse_error("rating " + show(f.p, f.n) + " is not a number");
      float x = static_cast<float>(v);
      if (!std::isfinite(x)) parse_error("rating " + show(f.p, f.n) + " is not a finite float32 number");
      values_.push_back(x);
    }
    if (o_.timestamp.used) {
      const Field& f = fields_[o_.timestamp.index];
      double v;
      if (!parse_decimal(f.p, f.n, &v)) parse_error("timestamp " + show(f.p, f.n) + " is not a number");
      if (!std::isfinite(v)) parse_error("timestamp " + show(f.p, f.n) + " is not a finite number");
      times_.push_back(v);
    }
    if (o_.policy == DupPolicy::Error) line_of_.push_back(line_);
  }

  void check_columns_fit() {
    int need = 1 + std::max(std::max(o_.user.index, o_.item.index), std::max(o_.rating.index, o_.timestamp.index));
    if (expected_ < need)
      parse_error("found " + std::to_string(expected_) + " field" + (expected_ == 1 ? "" : "s") + " separated by " +
                  show(o_.delimiter.data(), o_.delimiter.size()) + ", the column mapping needs at least " +
                  std::to_string(need));
  }

  int32_t id(IdColumn& col, const Column& c, const char* what) {
    const Field& f = fields_[c.index];
    if (f.n == 0) parse_error(std::string("empty ") + what + " id");
    int32_t ix = col.get(f.p, f.n);
    if (ix < 0) parse_error(std::string(what) + " id " + show(f.p, f.n) + " is not valid UTF-8");
    return ix;
  }
};

// ---- JS entry point ---------------------------------------------------------------------------------

Column column_arg(const Napi::Object& cols, const char* key, bool required) {
  Column c;
  Napi::Value v = cols.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) fail_arg(std::string("columns.") + key + " is required");
    return c;
  }
  c.used = true;
  if (v.IsString()) {
    c.name = v.As<Napi::String>().Utf8Value();
    if (c.name.empty()) fail_arg(std::string("columns.") + key + " must not be an empty name");
  } else {
    c.index = static_cast<int>(int_arg(v, (std::string("columns.") + key).c_str(), 0, 4095));
  }
  return c;
}

KnownIds known_arg(const Napi::Value& v, const char* name) {
  KnownIds k;
  if (v.IsUndefined() || v.IsNull()) return k;
  if (!v.IsArray()) fail_arg(std::string(name) + " must be an array of ids");
  auto a = v.As<Napi::Array>();
  uint32_t n = a.Length();
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value x = a.Get(i);
    if (x.IsString()) {
      if (i > 0 && !k.strings) fail_arg(std::string(name) + " mixes numbers and strings");
      k.strings = true;
      k.strs.push_back(x.As<Napi::String>().Utf8Value());
    } else if (x.IsNumber()) {
      double d = x.As<Napi::Number>().DoubleValue();
      if (k.strings) fail_arg(std::string(name) + " mixes numbers and strings");
      if (!(std::floor(d) == d && std::fabs(d) <= static_cast<double>(kMaxSafe)))
        fail_arg(std::string(name) + "[" + std::to_string(i) + "] must be a safe integer or a string");
      k.nums.push_back(static_cast<int64_t>(d == 0 ? 0 : d));
    } else {
      fail_arg(std::string(name) + "[" + std::to_string(i) + "] must be a number or a string");
    }
  }
  return k;
}

// parseInteractions(path, {delimiter, quote, header, fields, columns: {user, item, rating?, timestamp?},
//                          duplicates, knownUsers?, knownItems?}) -> Promise<CSR & {users, items, duplicates,
//                          interactions, lines}>
Napi::Value ParseInteractions(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    if (!info[0].IsString()) fail_arg("path must be a string");
    if (!info[1].IsObject()) fail_arg("options must be an object");
    auto o = info[1].As<Napi::Object>();
    Options opt;
    opt.path = info[0].As<Napi::String>().Utf8Value();
    if (opt.path.empty() || opt.path.find('\0') != std::string::npos)
      fail_arg("path must be a non-empty string without NUL");
    opt.delimiter = string_req(o, "delimiter");
    if (opt.delimiter.empty() || opt.delimiter.size() > 16) fail_arg("delimiter must have 1 to 16 bytes");
    if (opt.delimiter.find_first_of(std::string("\n\r\0", 3)) != std::string::npos)
      fail_arg("delimiter must not contain line breaks or NUL");
    opt.quote = bool_req(o, "quote");
    if (opt.quote && opt.delimiter.find('"') != std::string::npos)
      fail_arg("a delimiter with '\"' cannot be used with quoting");
    opt.header = bool_req(o, "header");
    opt.fields = static_cast<int>(int_req(o, "fields", 0, 4096));
    Napi::Value cv = o.Get("columns");
    if (!cv.IsObject()) fail_arg("columns must be an object");
    auto cols = cv.As<Napi::Object>();
    opt.user = column_arg(cols, "user", true);
    opt.item = column_arg(cols, "item", true);
    opt.rating = column_arg(cols, "rating", false);
    opt.timestamp = column_arg(cols, "timestamp", false);
    const Column* all[] = {&opt.user, &opt.item, &opt.rating, &opt.timestamp};
    for (int a = 0; a < 4; ++a) {
      if (!all[a]->used) continue;
      if (all[a]->index < 0 && !opt.header) fail_arg("columns given by name need header: true");
      for (int b = 0; b < a; ++b)
        if (all[b]->used && ((all[a]->index >= 0 && all[a]->index == all[b]->index) ||
                             (!all[a]->name.empty() && all[a]->name == all[b]->name)))
          fail_arg("two columns of the mapping name the same field");
    }
    opt.policy = dup_policy_from(string_req(o, "duplicates"));
    opt.known_users = known_arg(o.Get("knownUsers"), "knownUsers");
    opt.known_items = known_arg(o.Get("knownItems"), "knownItems");
    auto shared = std::make_shared<Options>(std::move(opt));
    return run_async<std::shared_ptr<Result>>(
        info.Env(), "recsys.parse",
        [shared](const auto&) { return std::make_shared<Result>(Parser(std::move(*shared)).run()); },
        [](Napi::Env env, std::shared_ptr<Result>& r) -> Napi::Value {
          Napi::Object out = csr_to_js(env, std::move(r->csr));
          out.Set("duplicates", Napi::Number::New(env, static_cast<double>(r->duplicates)));
          out.Set("interactions", Napi::Number::New(env, static_cast<double>(r->interactions)));
          out.Set("lines", Napi::Number::New(env, static_cast<double>(r->lines)));
          out.Set("users", r->users->to_js(env));
          out.Set("items", r->items->to_js(env));
          return out;
        },
        {}, {});
  });
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("parseInteractions", Napi::Function::New(env, ParseInteractions));
}

}  // namespace

RECSYS_REGISTER_EXPORTS(parse, init);

}  // namespace recsys
