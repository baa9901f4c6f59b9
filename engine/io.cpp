#include "engine/io.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE (glibc ≥ 2.28, _GNU_SOURCE)
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <memory>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <json/json.h>

#include "engine/ops.h"
#include "engine/utf8.h"

namespace coopgen {

namespace fs = std::filesystem;

void atomic_write(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(path, ": cannot write: ", std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(path, ": write failed: ", std::strerror(err));
    }
    done += size_t(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail(path, ": write failed at fsync/close");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(path, ": cannot rename the temporary file into place: ", std::strerror(err));
  }
}

std::ifstream open_input(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) fail(path, ": no such file");
  if (st.type() == fs::file_type::directory) fail(path, ": is a folder, not a file");
  if (!ec && st.type() != fs::file_type::regular) fail(path, ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) fail(path, ": cannot open: ", std::strerror(errno));
  return in;
}

std::string read_file(const std::string& path) {
  std::ifstream in = open_input(path);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

void check_finite(const Tensor& t, const std::string& file, const std::string& name) {
  if (t.dtype() == DType::I32 || t.numel() == 0) return;
  const Tensor x = t.dtype() == DType::BF16 ? t.to(DType::F32) : t;
  if (!std::isfinite(sum_squares(x).item())) fail(file, ": tensor '", name, "' holds a NaN or infinite value");
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += char(c);
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += char(c);
  }
  return out + "\"";
}

JsonWriter& JsonWriter::number(const std::string& key, double value, int digits) {
  char buf[40] = "null";
  if (std::isfinite(value)) std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  items_.emplace_back(json_quote(key), buf);
  return *this;
}
JsonWriter& JsonWriter::string(const std::string& key, const std::string& value) {
  items_.emplace_back(json_quote(key), json_quote(value));
  return *this;
}
JsonWriter& JsonWriter::json(const std::string& key, const std::string& text) {
  items_.emplace_back(json_quote(key), text);
  return *this;
}
std::string JsonWriter::line() const {
  std::string out = "{";
  for (size_t k = 0; k < items_.size(); ++k) out += (k ? ", " : "") + items_[k].first + ": " + items_[k].second;
  return out + "}";
}
std::string JsonWriter::lines() const {
  std::string out = "{\n";
  for (size_t k = 0; k < items_.size(); ++k) out += "  " + items_[k].first + ": " + items_[k].second + (k + 1 < items_.size() ? ",\n" : "\n");
  return out + "}\n";
}

std::string json_text(const Json::Value& value) {
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "";
  builder["emitUTF8"] = true;
  return Json::writeString(builder, value);
}

static const char* st_dtype(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
  }
  return "?";
}

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  std::ostringstream os;
  os << '{';
  const char* sep = "";
  if (!metadata.empty()) {
    os << "\"__metadata__\":{";
    for (auto& [k, v] : metadata) {
      os << sep << json_quote(k) << ':' << json_quote(v);
      sep = ",";
    }
    os << '}';
  }
  std::set<std::string> names;
  size_t offset = 0;
  std::vector<Tensor> host;
  for (auto& [name, t] : tensors) {
    if (!names.insert(name).second) fail(path, ": tensor name '", name, "' appears twice");
    Tensor h = t.detach().contiguous().to(Device::CPU);
    const size_t bytes = size_t(h.numel()) * dtype_size(h.dtype());
    os << (metadata.empty() && host.empty() ? "" : ",") << json_quote(name) << ":{\"dtype\":\"" << st_dtype(h.dtype())
       << "\",\"shape\":[";
    for (int64_t d = 0; d < h.dim(); ++d) os << (d ? "," : "") << h.size(d);
    os << "],\"data_offsets\":[" << offset << ',' << offset + bytes << "]}";
    offset += bytes;
    host.push_back(h);
  }
  os << '}';
  std::string header = os.str();
  while (header.size() % 8) header += ' ';  // align the data section, as the reference writer does
  std::string file(8, '\0');
  uint64_t n = header.size();
  for (int k = 0; k < 8; ++k) file[size_t(k)] = char((n >> (8 * k)) & 0xff);
  file += header;
  file.reserve(file.size() + offset);
  for (const Tensor& h : host)
    file.append(static_cast<const char*>(h.raw_data()), size_t(h.numel()) * dtype_size(h.dtype()));
  atomic_write(path, file);
}

Json::Value parse_json(const std::string& text, const std::string& what) {
  if (const size_t bad = invalid_utf8_at(text); bad != std::string::npos)
    fail(what, ": not UTF-8 (byte ", bad, ")");
  // jsoncpp skips /* */ and // comments even in strict mode; JSON has none: '/' may only stand in a string.
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (in_string && text[i] == '\\') ++i;
    else if (text[i] == '"') in_string = !in_string;
    else if (!in_string && text[i] == '/') fail(what, ", byte ", i, ": a comment, which JSON does not have");
  }
  Json::CharReaderBuilder builder;
  Json::CharReaderBuilder::strictMode(&builder.settings_);  // RFC 8259 only; a key twice is an error
  const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  Json::Value root;
  std::string errors;
  bool parsed = false;
  try {
    parsed = reader->parse(text.data(), text.data() + text.size(), &root, &errors);
  } catch (const Json::Exception& e) {  // e.g. nesting deeper than its stack limit
    fail(what, ": ", e.what());
  }
  if (!parsed) {
    // jsoncpp reports each error in two lines, "* Line 1, Column 9\n  Duplicate key: 'w'\n": the first, on one line.
    std::istringstream report(errors);
    std::string where, message;
    std::getline(report, where), std::getline(report, message);
    auto trim = [](std::string t) {
      const size_t a = t.find_first_not_of("* "), b = t.find_last_not_of(' ');
      return a == std::string::npos ? std::string() : t.substr(a, b - a + 1);
    };
    fail(what, ", ", trim(where), ": ", trim(message));
  }
  if (!root.isObject()) fail(what, ": not a JSON object");
  return root;
}

namespace {

// The safetensors dtypes (the reference library's list) with their sizes; coopgen reads four.
struct StDtype {
  const char* name;
  size_t bytes;
  bool read;
  DType dtype;
};
constexpr StDtype kStDtypes[] = {
    {"BOOL", 1, false, DType::F32}, {"U8", 1, false, DType::F32},   {"I8", 1, false, DType::F32},
    {"F8_E5M2", 1, false, DType::F32}, {"F8_E4M3", 1, false, DType::F32}, {"I16", 2, false, DType::F32},
    {"U16", 2, false, DType::F32},  {"F16", 2, false, DType::F32},  {"BF16", 2, true, DType::BF16},
    {"I32", 4, true, DType::I32},   {"U32", 4, false, DType::F32},  {"F32", 4, true, DType::F32},
    {"F64", 8, true, DType::F64},   {"I64", 8, false, DType::F32},  {"U64", 8, false, DType::F32},
};

// A non-negative integer of a header field that fits in int64 (shapes, offsets).
uint64_t header_count(const Json::Value& v, const std::string& where) {
  if (v.isUInt64() && v.asUInt64() <= uint64_t(INT64_MAX)) return v.asUInt64();
  std::string got = v.isInt64() ? std::to_string(v.asInt64()) : v.isNumeric() ? std::to_string(v.asDouble()) : "a non-number";
  fail(where, " holds ", got, ", not a non-negative integer below 2^63");
}

}  // namespace

std::map<std::string, Tensor> load_safetensors(const std::string& path, Metadata* metadata) {
  return parse_safetensors(read_file(path), path, metadata);
}

std::map<std::string, Tensor> parse_safetensors(const std::string& file, const std::string& path, Metadata* metadata) {
  constexpr uint64_t kMaxHeader = 100'000'000;  // the reference reader's limit
  if (file.size() < 8) fail(path, ": truncated safetensors file (", file.size(), " bytes, no header)");
  uint64_t n = 0;
  for (int k = 0; k < 8; ++k) n |= uint64_t(uint8_t(file[size_t(k)])) << (8 * k);
  if (n > file.size() - 8) fail(path, ": header length ", n, " exceeds the file size ", file.size(), " (truncated?)");
  if (n > kMaxHeader) fail(path, ": header length ", n, " is over the ", kMaxHeader, "-byte limit");
  const Json::Value header = parse_json(file.substr(8, n), path + ": safetensors header");
  const uint64_t data_len = file.size() - 8 - n;
  const char* data = file.data() + 8 + n;
  struct Entry {
    std::string name;
    const StDtype* type;
    Shape shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (const std::string& name : header.getMemberNames()) {
    const Json::Value& info = header[name];
    const std::string where = path + ": tensor '" + name + "'";
    if (name == "__metadata__") {
      if (!info.isObject()) fail(path, ": __metadata__ must be an object of strings");
      for (const std::string& key : info.getMemberNames()) {
        if (!info[key].isString()) fail(path, ": __metadata__ '", key, "' must be a string");
        if (metadata) (*metadata)[key] = info[key].asString();
      }
      continue;
    }
    if (!info.isObject() || !info["dtype"].isString() || !info["shape"].isArray() || !info["data_offsets"].isArray())
      fail(where, ": needs dtype (a string), shape and data_offsets (arrays)");
    const std::string dt = info["dtype"].asString();
    const StDtype* type = nullptr;
    for (const StDtype& t : kStDtypes)
      if (dt == t.name) type = &t;
    if (!type) fail(where, ": unknown dtype '", dt, "'");
    Entry e{name, type, {}, 0, 0};
    // Element count and byte size with overflow checks: a shape of 2^62 × 1 must not wrap to 0.
    uint64_t count = 1;
    for (const Json::Value& d : info["shape"]) {
      const uint64_t dim = header_count(d, where + ": shape");
      if (__builtin_mul_overflow(count, dim, &count)) fail(where, ": the element count of its shape overflows 64 bits");
      e.shape.push_back(int64_t(dim));
    }
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(count, type->bytes, &bytes) || count > uint64_t(INT64_MAX))
      fail(where, ": ", count, " elements of ", dt, " overflow 64 bits");
    if (info["data_offsets"].size() != 2) fail(where, ": data_offsets must be [begin, end]");
    e.begin = header_count(info["data_offsets"][0], where + ": data_offsets");
    e.end = header_count(info["data_offsets"][1], where + ": data_offsets");
    if (e.end < e.begin || e.end - e.begin != bytes)
      fail(where, ": data_offsets [", e.begin, ", ", e.end, "] do not hold ", dt, shape_str(e.shape), " (", bytes,
           " bytes)");
    entries.push_back(std::move(e));
  }
  // The tensors must tile the data section exactly, in offset order: no gap, no overlap, no byte
  // past the last one (as the reference reader demands).
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::pair(a.begin, a.end) < std::pair(b.begin, b.end); });
  uint64_t at = 0;
  for (const Entry& e : entries) {
    if (e.begin != at)
      fail(path, ": tensor '", e.name, "' starts at byte ", e.begin, " of the data section, but the tensors before it end at byte ",
           at, e.begin < at ? " (they overlap)" : " (unused bytes between tensors)");
    if (e.end > data_len)
      fail(path, ": tensor '", e.name, "': its data ends at byte ", e.end, " but the data section holds ", data_len,
           " bytes (truncated file?)");
    at = e.end;
  }
  if (at != data_len)
    fail(path, ": the tensors end at byte ", at, " of the data section, but it holds ", data_len,
         " bytes (bytes that belong to no tensor)");
  std::map<std::string, Tensor> out;
  for (const Entry& e : entries) {
    if (!e.type->read)
      fail(path, ": tensor '", e.name, "': dtype ", e.type->name, " (coopgen reads F32, F64, BF16 and I32)");
    Tensor t = Tensor::empty(e.shape, e.type->dtype, Device::CPU);
    if (e.end > e.begin) std::memcpy(t.raw_data(), data + e.begin, e.end - e.begin);
    out.emplace(e.name, t);
  }
  return out;
}

static const char* kModelFile = "model.safetensors";
static const char* kStateFile = "trainer_state.json";

void save_checkpoint(const std::string& dir, const NamedTensors& tensors, const TrainerState& state) {
  JsonWriter json;
  for (auto& [k, v] : state.numbers) {
    if (!std::isfinite(v)) fail("checkpoint ", dir, ": trainer state '", k, "' is ", v, " (not finite)");
    json.number(k, v);
  }
  for (auto& [k, v] : state.strings) json.string(k, v);

  // Built whole in a sibling folder, then swapped in with one atomic rename (RENAME_EXCHANGE): at
  // every instant `dir` holds a complete checkpoint, the old or the new one, so a process killed
  // here (SIGKILL, a full disk, a file-size limit) leaves the previous checkpoint loadable.
  const fs::path target(dir);
  const fs::path tmp = target.string() + ".tmp";  // one writer per run folder (rank 0)
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp, ec) && ec) fail("checkpoint ", dir, ": cannot create ", tmp.string(), ": ", ec.message());
  save_safetensors((tmp / kModelFile).string(), tensors);
  atomic_write((tmp / kStateFile).string(), json.lines());
  if (fs::exists(target)) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0)
      fail("checkpoint ", dir, ": cannot swap in the new checkpoint: ", std::strerror(errno));
  } else if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    fail("checkpoint ", dir, ": cannot move the new checkpoint into place: ", std::strerror(errno));
  }
  fs::remove_all(tmp, ec);  // the previous checkpoint, now at tmp
}

std::map<std::string, Tensor> load_checkpoint(const std::string& dir, TrainerState* state) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) fail("checkpoint ", dir, ": not a checkpoint folder");
  auto tensors = load_safetensors((d / kModelFile).string());
  if (state) {
    const std::string path = (d / kStateFile).string();
    *state = parse_trainer_state(read_file(path), path);
  }
  return tensors;
}

int64_t TrainerState::count(const std::string& key, int64_t lo, int64_t hi, const std::string& file) const {
  const auto it = numbers.find(key);
  if (it == numbers.end()) fail(file, ": '", key, "' is missing");
  const double v = it->second;
  if (!(v >= double(lo) && v <= double(hi)) || v != std::floor(v))
    fail(file, ": '", key, "' is ", v, ", expected a whole number from ", lo, " to ", hi);
  return int64_t(v);
}

TrainerState parse_trainer_state(const std::string& text, const std::string& name) {
  const Json::Value json = parse_json(text, name + ": trainer state");
  TrainerState state;
  for (const std::string& key : json.getMemberNames()) {
    const Json::Value& v = json[key];
    if (v.isNumeric() && std::isfinite(v.asDouble())) state.numbers[key] = v.asDouble();
    else if (v.isString()) state.strings[key] = v.asString();
    else fail(name, ": trainer state '", key, "' must be a finite number or a string");
  }
  return state;
}

}  // namespace coopgen
