// What every kernel benchmark shares: a median of timed repetitions after warm-up (CUDA events on
// the GPU), the peak of the device's caching allocator over one repetition, the device's ceilings
// measured in the same run (copy bandwidth, GEMM rate) and each run's fraction of them, JSON out,
// and `--check BASELINE.json`, which fails when a ratio against the peer run in the same process
// (lower is better) has grown by more than the tolerance since the baseline was recorded.
// Absolute times are reported, never checked: CI machines differ, the ratio of two runs on one
// machine much less.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "engine/allocator.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/ops.h"

namespace coopgen::bench {

struct Timing {
  double median_ms = 0;
  double peak_mb = 0;  // the allocator's peak during one repetition, above what was live before
};

// Times each of `runs` `reps` times after `warmup` calls, interleaved (a, b, a, b, ...) so that
// all see the same machine: a ratio between them stays meaningful on a busy CI host. On the GPU a
// call is timed by CUDA events on the compute stream around it, on the CPU by the wall clock; the
// peak is the allocator's during one call, above what was live before it.
inline std::vector<Timing> measure(Device dev, const std::vector<std::function<void()>>& runs, int reps = 20,
                                   int warmup = 3) {
  auto sync = [&] {
    if (dev == Device::CUDA) device::synchronize();
  };
  for (int i = 0; i < warmup; ++i)
    for (const auto& f : runs) f();
  sync();
  CachingAllocator& alloc = allocator(dev);
  std::vector<std::vector<double>> ms(runs.size());
  std::vector<Timing> out(runs.size());
  for (int i = 0; i < reps; ++i) {
    for (size_t k = 0; k < runs.size(); ++k) {
      alloc.reset_peak();
      const size_t base = alloc.stats().current_bytes;
      if (dev == Device::CUDA) {
        ms[k].push_back(device::stream_elapsed_ms(runs[k]));
      } else {
        const auto t0 = std::chrono::steady_clock::now();
        runs[k]();
        ms[k].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      out[k].peak_mb = std::max(out[k].peak_mb, double(alloc.stats().peak_bytes - base) / 1e6);
    }
  }
  for (size_t k = 0; k < runs.size(); ++k) {
    std::nth_element(ms[k].begin(), ms[k].begin() + long(ms[k].size() / 2), ms[k].end());
    out[k].median_ms = ms[k][ms[k].size() / 2];
  }
  return out;
}

// What the device can do at best, measured in the same process as the kernels it rates.
struct Ceilings {
  double copy_gb_s = 0;     // a large device-to-device copy: bytes read + bytes written per second
  double gemm_tflop_s = 0;  // a square matmul: bf16 storage on the tensor cores (cuBLAS) on the GPU, f32 CBLAS on the CPU
};

inline Ceilings measure_ceilings(Device dev, int reps = 10) {
  const bool gpu = dev == Device::CUDA;
  const int64_t floats = gpu ? (int64_t(1) << 26) : (int64_t(1) << 23), n = gpu ? 8192 : 512;  // 256/32 MB; n³
  const Tensor src = Tensor::uniform({floats}, 91, 0, -1, 1, DType::F32, dev);
  Tensor dst = Tensor::empty({floats}, DType::F32, dev);
  const DType gemm_type = gpu ? DType::BF16 : DType::F32;
  const Tensor a = Tensor::uniform({n, n}, 92, 0, -1, 1, DType::F32, dev).to(gemm_type);
  const Tensor b = Tensor::uniform({n, n}, 93, 0, -1, 1, DType::F32, dev).to(gemm_type);
  const std::vector<Timing> t = measure(dev, {[&] { copy_(dst, src); }, [&] { matmul(a, b); }}, reps, 2);
  return {2.0 * double(floats) * 4 / (t[0].median_ms * 1e6), 2.0 * double(n) * double(n) * double(n) / (t[1].median_ms * 1e9)};
}

// One timed version: its timing and the work of one call, from which its rates and fractions of
// the ceilings follow (0: not reported).
struct Run {
  std::string name;
  Timing t;
  double flop = 0;   // useful floating-point operations
  double bytes = 0;  // global-memory bytes the call must move at least (read + written)
  double tflop_s() const { return flop / (t.median_ms * 1e9); }
  double gb_s() const { return bytes / (t.median_ms * 1e6); }
};

// A benchmark's result: named runs, the ceilings, and the ratios that --check guards.
struct Report {
  std::string bench, device;
  std::map<std::string, double> shape;  // the problem's sizes
  std::vector<Run> runs;
  std::map<std::string, double> ratios;
  Ceilings ceilings;

  // The table every benchmark prints: time, memory, rates and their fractions of the ceilings.
  void print(const std::string& title) const {
    std::printf("%s\nceilings on %s: copy %.1f GB/s, GEMM %.2f TFLOP/s\n", title.c_str(), device.c_str(),
                ceilings.copy_gb_s, ceilings.gemm_tflop_s);
    std::printf("%-12s %11s %10s %9s %7s %9s %7s\n", "version", "median ms", "peak MB", "TFLOP/s", "%GEMM", "GB/s", "%copy");
    for (const Run& r : runs) {
      std::printf("%-12s %11.3f %10.1f", r.name.c_str(), r.t.median_ms, r.t.peak_mb);
      if (r.flop > 0) std::printf(" %9.3f %6.1f%%", r.tflop_s(), 100 * r.tflop_s() / ceilings.gemm_tflop_s);
      else std::printf(" %9s %7s", "-", "-");
      if (r.bytes > 0) std::printf(" %9.1f %6.1f%%\n", r.gb_s(), 100 * r.gb_s() / ceilings.copy_gb_s);
      else std::printf(" %9s %7s\n", "-", "-");
    }
  }

  void write_json(const std::string& file) const {
    FILE* f = std::fopen(file.c_str(), "w");
    if (!f) fail(file, ": cannot write");
    std::fprintf(f, "{\"bench\": \"%s\", \"device\": \"%s\", \"shape\": {", bench.c_str(), device.c_str());
    const char* sep = "";
    for (const auto& [k, v] : shape) std::fprintf(f, "%s\"%s\": %g", std::exchange(sep, ", "), k.c_str(), v);
    std::fprintf(f, "}, \"ceilings\": {\"copy_gb_s\": %.2f, \"gemm_tflop_s\": %.3f}, \"runs\": [", ceilings.copy_gb_s,
                 ceilings.gemm_tflop_s);
    sep = "";
    for (const Run& r : runs) {
      std::fprintf(f, "%s{\"name\": \"%s\", \"median_ms\": %.4f, \"peak_mb\": %.3f", std::exchange(sep, ", "),
                   r.name.c_str(), r.t.median_ms, r.t.peak_mb);
      if (r.flop > 0)
        std::fprintf(f, ", \"tflop_s\": %.4f, \"of_gemm\": %.4f", r.tflop_s(), r.tflop_s() / ceilings.gemm_tflop_s);
      if (r.bytes > 0) std::fprintf(f, ", \"gb_s\": %.3f, \"of_copy\": %.4f", r.gb_s(), r.gb_s() / ceilings.copy_gb_s);
      std::fprintf(f, "}");
    }
    std::fprintf(f, "], \"ratios\": {");
    sep = "";
    for (const auto& [k, v] : ratios) std::fprintf(f, "%s\"%s\": %.4f", std::exchange(sep, ", "), k.c_str(), v);
    std::fprintf(f, "}}\n");
    if (std::fclose(f) != 0) fail(file, ": write failed");
  }

  // Every ratio of the baseline must be present and at most (1 + tolerance) times its baseline
  // value. Returns the failures, one line each.
  std::vector<std::string> check(const std::string& baseline_file, double tolerance = 0.15) const {
    YAML::Node base;  // JSON is YAML
    try {
      base = YAML::LoadFile(baseline_file);
    } catch (const std::exception& e) {
      fail(baseline_file, ": cannot read the baseline (", e.what(), ")");
    }
    if (!base["ratios"] || !base["ratios"].IsMap()) fail(baseline_file, ": no \"ratios\" object");
    std::vector<std::string> bad;
    for (const auto& kv : base["ratios"]) {
      const std::string key = kv.first.as<std::string>();
      const double was = kv.second.as<double>();
      const auto now = ratios.find(key);
      if (now == ratios.end()) {
        bad.push_back(key + ": in the baseline, not measured");
      } else if (now->second > was * (1 + tolerance)) {
        char line[256];
        std::snprintf(line, sizeof line, "%s: %.3f, baseline %.3f (more than %.0f%% worse)", key.c_str(), now->second,
                      was, tolerance * 100);
        bad.emplace_back(line);
      }
    }
    return bad;
  }
};

// Command-line options `--name value`, each with a default; an unknown one is an error that lists
// the known ones. Every benchmark takes --json FILE and --check BASELINE.json (default: none).
class Options {
 public:
  Options(int argc, char** argv, std::map<std::string, std::string> defaults) : values_(std::move(defaults)) {
    values_.emplace("json", "");
    values_.emplace("check", "");
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const std::string name = a.rfind("--", 0) == 0 ? a.substr(2) : "";
      if (!values_.count(name)) {
        std::string known;
        for (const auto& kv : values_) known += " --" + kv.first;
        fail("unknown option ", a, " (options:", known, ")");
      }
      if (i + 1 >= argc) fail(a, " needs a value");
      values_[name] = argv[++i];
    }
  }
  const std::string& str(const std::string& name) const { return values_.at(name); }
  int64_t num(const std::string& name) const {
    try {
      return std::stoll(values_.at(name));
    } catch (const std::exception&) {
      fail("--", name, " ", values_.at(name), ": expected a whole number");
    }
  }
  double real(const std::string& name) const {
    try {
      return std::stod(values_.at(name));
    } catch (const std::exception&) {
      fail("--", name, " ", values_.at(name), ": expected a number");
    }
  }
  // --precision fp32|bf16 into the engine (engine/ops.h set_precision), where the bench takes it.
  void apply_precision() const {
    const std::string& p = str("precision");
    if (p != "fp32" && p != "bf16") fail("--precision ", p, ": expected fp32 or bf16");
    set_precision(p == "bf16" ? Precision::BF16 : Precision::F32);
  }
  Device device() const {
    if (str("device") != "cpu" && str("device") != "cuda") fail("--device ", str("device"), ": expected cpu or cuda");
    const Device d = str("device") == "cuda" ? Device::CUDA : Device::CPU;
    if (d == Device::CUDA) device::require_cuda();
    return d;
  }

 private:
  std::map<std::string, std::string> values_;
};

// The end of every benchmark: --json writes the report, --check compares its ratios with the
// baseline's. Returns main's exit code (1 on a regression, named on stderr).
inline int finish(const char* tool, const Report& r, const Options& o) {
  if (!o.str("json").empty()) r.write_json(o.str("json"));
  if (o.str("check").empty()) return 0;
  const std::vector<std::string> bad = r.check(o.str("check"));
  for (const std::string& line : bad)
    std::fprintf(stderr, "%s: regression against %s: %s\n", tool, o.str("check").c_str(), line.c_str());
  if (bad.empty()) std::printf("within 15%% of %s\n", o.str("check").c_str());
  return bad.empty() ? 0 : 1;
}

// main's body, with any error reported as "tool: message" and exit code 1.
template <class Body> int guarded_main(const char* tool, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 1;
  }
}

}  // namespace coopgen::bench
