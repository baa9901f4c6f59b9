#include "engine/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

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

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
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

std::map<std::string, Tensor> load_safetensors(const std::string& path, Metadata* metadata) {
  const std::string file = read_file(path);
  if (file.size() < 8) fail(path, ": truncated safetensors file (", file.size(), " bytes, no header)");
  uint64_t n = 0;
  for (int k = 0; k < 8; ++k) n |= uint64_t(uint8_t(file[size_t(k)])) << (8 * k);
  if (n > file.size() - 8) fail(path, ": header length ", n, " exceeds the file size ", file.size(), " (truncated?)");
  YAML::Node header;
  try {
    header = YAML::Load(file.substr(8, n));
  } catch (const YAML::Exception& e) {
    fail(path, ": malformed safetensors header: ", e.msg);
  }
  if (!header.IsMap()) fail(path, ": malformed safetensors header: not a JSON object");
  const size_t data_len = file.size() - 8 - n;
  const char* data = file.data() + 8 + n;
  std::map<std::string, Tensor> out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string name = it->first.as<std::string>();
    const YAML::Node info = it->second;  // a copy: it->second is a temporary proxy
    if (name == "__metadata__") {
      if (metadata)
        for (auto m = info.begin(); m != info.end(); ++m)
          (*metadata)[m->first.as<std::string>()] = m->second.as<std::string>();
      continue;
    }
    try {
      const std::string dt = info["dtype"].as<std::string>();
      DType dtype;
      if (dt == "F32") dtype = DType::F32;
      else if (dt == "F64") dtype = DType::F64;
      else if (dt == "BF16") dtype = DType::BF16;
      else if (dt == "I32") dtype = DType::I32;
      else fail(path, ": tensor '", name, "': unsupported dtype ", dt);
      Shape shape;
      for (const auto& d : info["shape"]) shape.push_back(d.as<int64_t>());
      const uint64_t begin = info["data_offsets"][0].as<uint64_t>();
      const uint64_t end = info["data_offsets"][1].as<uint64_t>();
      const uint64_t bytes = uint64_t(shape_numel(shape)) * dtype_size(dtype);
      if (end < begin || end - begin != bytes)
        fail(path, ": tensor '", name, "': data_offsets [", begin, ",", end, "] do not hold ",
             dt, shape_str(shape), " (", bytes, " bytes)");
      if (end > data_len)
        fail(path, ": tensor '", name, "': data ends at byte ", end, " but the file holds ", data_len,
             " data bytes (truncated file?)");
      Tensor t = Tensor::empty(shape, dtype, Device::CPU);
      if (bytes) std::memcpy(t.raw_data(), data + begin, bytes);
      out.emplace(name, t);
      ranges.emplace_back(begin, end);
    } catch (const YAML::Exception& e) {
      fail(path, ": tensor '", name, "': malformed entry (", e.msg, ")");
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t k = 1; k < ranges.size(); ++k)
    if (ranges[k].first < ranges[k - 1].second) fail(path, ": tensors overlap in the data section");
  return out;
}

static const char* kModelFile = "model.safetensors";
static const char* kStateFile = "trainer_state.json";

void save_checkpoint(const std::string& dir, const NamedTensors& tensors, const TrainerState& state) {
  std::string json = "{\n";
  bool first = true;
  for (auto& [k, v] : state.numbers) {
    if (!std::isfinite(v)) fail("checkpoint ", dir, ": trainer state '", k, "' is ", v, " (not finite)");
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    json += std::string(first ? "" : ",\n") + "  " + json_quote(k) + ": " + buf;
    first = false;
  }
  for (auto& [k, v] : state.strings) {
    json += std::string(first ? "" : ",\n") + "  " + json_quote(k) + ": " + json_quote(v);
    first = false;
  }
  json += "\n}\n";

  const fs::path target(dir);
  const fs::path tmp = target.string() + ".tmp-" + std::to_string(::getpid());
  const fs::path old = target.string() + ".old-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp, ec) && ec) fail("checkpoint ", dir, ": cannot create ", tmp.string(), ": ", ec.message());
  save_safetensors((tmp / kModelFile).string(), tensors);
  atomic_write((tmp / kStateFile).string(), json);
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(tmp, target);
  fs::remove_all(old, ec);
}

std::map<std::string, Tensor> load_checkpoint(const std::string& dir, TrainerState* state) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) fail("checkpoint ", dir, ": not a checkpoint folder");
  auto tensors = load_safetensors((d / kModelFile).string());
  if (state) {
    const std::string path = (d / kStateFile).string();
    YAML::Node json;
    try {
      json = YAML::Load(read_file(path));
    } catch (const YAML::Exception& e) {
      fail(path, ": malformed trainer state: ", e.msg);
    }
    if (!json.IsMap()) fail(path, ": malformed trainer state: not a JSON object");
    for (auto it = json.begin(); it != json.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      double v;
      if (it->second.Tag() != "!" && YAML::convert<double>::decode(it->second, v)) state->numbers[key] = v;
      else state->strings[key] = it->second.as<std::string>();
    }
  }
  return tensors;
}

}  // namespace coopgen
