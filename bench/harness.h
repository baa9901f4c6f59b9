// What every kernel benchmark shares: timed repetitions in interleaved rounds after warm-up (CUDA
// events on the GPU; median and a low quantile reported), the peak of the device's caching allocator over one repetition, the device's ceilings
// measured in the same run (copy bandwidth, GEMM rate) and each run's fraction of them, JSON out,
// and `--check BASELINE.json`, which fails when a ratio against the peer run in the same process
// (lower is better) has grown by more than the tolerance since the baseline was recorded, in every
// one of up to three measurements.
// Absolute times are reported, never checked: CI machines differ, the ratio of two runs on one
// machine much less.
#pragma once
#include <algorithm>
#include <climits>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/counters.h"
#include "core/parse.h"
#include "engine/allocator.h"
#include "engine/device.h"
#include "engine/io.h"
#include "core/error.h"
#include "engine/ops.h"

namespace coopgen::bench {

struct Timing {
  double median_ms = 0;
  // The guard statistic: the 20th percentile of the rounds. Another job on a shared machine only
  // ever adds time to a call, so a low quantile is what the code costs; the median moves with the
  // machine's load (docs/perf.md, "Benchmark guards").
  double low_ms = 0;
  double peak_mb = 0;  // the allocator's peak during one repetition, above what was live before
  DeviceCounters counters;  // what one timed call asked of the GPU (core/counters.h; zero on the CPU)
};

// Counters as a report row, each divided by `per` (per token, per simulation, ...).
inline std::map<std::string, double> counter_row(const DeviceCounters& c, double per = 1) {
  std::map<std::string, double> row;
  c.each([&](const char* name, int64_t v) { row[name] = double(v) / per; });
  return row;
}

// One version of the work a benchmark times.
struct Version {
  std::string name;
  std::function<void()> call;
};

// COOPGEN_BENCH_SLOWDOWN=NAME=F (F ≥ 0) makes the version NAME a fraction F slower on the CPU: after
// each timed call it spins for F times that call's own CPU time, inside the timed region. It exists to
// prove that a guard catches a regression of that size (docs/perf.md); unset, it costs nothing.
inline double slowdown_of(const std::string& name) {
  const char* env = std::getenv("COOPGEN_BENCH_SLOWDOWN");
  if (!env || !*env) return 0;
  const std::string spec = env;
  const size_t eq = spec.rfind('=');
  char* end = nullptr;
  const double f = eq == std::string::npos ? -1 : std::strtod(spec.c_str() + eq + 1, &end);
  if (eq == std::string::npos || !end || *end || !(f >= 0))
    fail("COOPGEN_BENCH_SLOWDOWN=", spec, ": expected NAME=FRACTION, e.g. top_p=0.3");
  return spec.substr(0, eq) == name ? f : 0;
}

// The CPU time this process has used, in ms: on a shared machine the time other processes take
// from it is not counted (wall-clock time would be), nor time it spends waiting.
inline double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
}

// Times each version `reps` times after `warmup` calls, in interleaved rounds (a, b, a, b, ...) so
// that all see the same machine: a ratio between them stays meaningful on a busy CI host. On the
// GPU a call is timed by CUDA events on the compute stream around it; on the CPU by the process's
// CPU time (process_cpu_ms), which another job on the machine does not inflate. The peak is the
// allocator's during one call, above what was live before it.
inline std::vector<Timing> measure(Device dev, const std::vector<Version>& versions, int reps = 20, int warmup = 3) {
  auto sync = [&] {
    if (dev == Device::CUDA) device::synchronize();
  };
  for (int i = 0; i < warmup; ++i)
    for (const Version& v : versions) v.call();
  sync();
  std::vector<double> slow(versions.size());
  for (size_t k = 0; k < versions.size(); ++k) slow[k] = slowdown_of(versions[k].name);
  CachingAllocator& alloc = allocator(dev);
  std::vector<std::vector<double>> ms(versions.size());
  std::vector<Timing> out(versions.size());
  for (int i = 0; i < reps; ++i) {
    for (size_t k = 0; k < versions.size(); ++k) {
      alloc.reset_peak();
      const size_t base = alloc.stats().current_bytes;
      const std::function<void()> counted = [&] {
        const PerfCounters c;
        versions[k].call();
        out[k].counters = c.read();
      };
      if (dev == Device::CUDA) {
        ms[k].push_back(device::stream_elapsed_ms(counted));
      } else {
        const double t0 = process_cpu_ms();
        counted();
        if (slow[k] > 0)  // the planted regression: work worth `slow` of the call's own CPU time
          for (const double until = process_cpu_ms() + (process_cpu_ms() - t0) * slow[k]; process_cpu_ms() < until;) {
          }
        ms[k].push_back(process_cpu_ms() - t0);
      }
      out[k].peak_mb = std::max(out[k].peak_mb, double(alloc.stats().peak_bytes - base) / 1e6);
    }
  }
  for (size_t k = 0; k < versions.size(); ++k) {
    std::sort(ms[k].begin(), ms[k].end());
    out[k].median_ms = ms[k][ms[k].size() / 2];
    out[k].low_ms = ms[k][ms[k].size() / 5];
  }
  return out;
}

// The time ratio a guard compares (lower is better): a's low quantile over b's.
inline double time_ratio(const Timing& a, const Timing& b) { return a.low_ms / b.low_ms; }

// What the device can do at best, measured in the same process as the kernels it rates.
struct Ceilings {
  double copy_gb_s = 0;     // a large device-to-device copy: bytes read + bytes written per second
  double gemm_tflop_s = 0;  // a square matmul: bf16 storage on the tensor cores (cuBLAS) on the GPU, f32 CBLAS on the CPU
};

inline Ceilings measure_ceilings(Device dev, int reps = 10) {
#ifdef COOPGEN_SIM
  if (dev == Device::CUDA) return {};  // the emulator's speed says nothing of a GPU's; its counts do
#endif
  const bool gpu = dev == Device::CUDA;
  const int64_t floats = gpu ? (int64_t(1) << 26) : (int64_t(1) << 23), n = gpu ? 8192 : 512;  // 256/32 MB; n³
  const Tensor src = Tensor::uniform({floats}, 91, 0, -1, 1, DType::F32, dev);
  Tensor dst = Tensor::empty({floats}, DType::F32, dev);
  const DType gemm_type = gpu ? DType::BF16 : DType::F32;
  const Tensor a = Tensor::uniform({n, n}, 92, 0, -1, 1, DType::F32, dev).to(gemm_type);
  const Tensor b = Tensor::uniform({n, n}, 93, 0, -1, 1, DType::F32, dev).to(gemm_type);
  const std::vector<Timing> t = measure(dev, {{"copy", [&] { copy_(dst, src); }}, {"gemm", [&] { matmul(a, b); }}}, reps, 2);
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
  Report(std::string bench_name, Device dev, std::map<std::string, double> sizes)
      : bench(std::move(bench_name)), device(dev), shape(std::move(sizes)) {}
  std::string bench;
  Device device;
  std::map<std::string, double> shape;  // the problem's sizes
  std::vector<Run> runs;
  std::map<std::string, double> ratios;
  Ceilings ceilings;
  // What the GPU was asked per call or per unit of work (counter_row), by run or part: "mle_fused",
  // "gcn.sampling", "sample.per_token", ... Empty on the CPU. A baseline's counters are checked
  // exactly: a count that grows is a regression.
  std::map<std::string, std::map<std::string, double>> counters;

  // On CUDA, what each run's timed call asked of the GPU, under the run's name (core/counters.h).
  void count_runs() {
    if (device != Device::CUDA) return;
    for (const Run& r : runs) counters[r.name] = counter_row(r.t.counters);
  }

  // The table every benchmark prints: time, memory, rates and their fractions of the ceilings.
  void print(const std::string& title) const {
    std::printf("%s\nceilings on %s: copy %.1f GB/s, GEMM %.2f TFLOP/s\n", title.c_str(), name_of(device),
                ceilings.copy_gb_s, ceilings.gemm_tflop_s);
    std::printf("%-12s %11s %10s %9s %7s %9s %7s\n", "version", "median ms", "peak MB", "TFLOP/s", "%GEMM", "GB/s", "%copy");
    for (const Run& r : runs) {
      std::printf("%-12s %11.3f %10.1f", r.name.c_str(), r.t.median_ms, r.t.peak_mb);
      if (r.flop > 0 && ceilings.gemm_tflop_s > 0) std::printf(" %9.3f %6.1f%%", r.tflop_s(), 100 * r.tflop_s() / ceilings.gemm_tflop_s);
      else std::printf(" %9s %7s", "-", "-");
      if (r.bytes > 0 && ceilings.copy_gb_s > 0) std::printf(" %9.1f %6.1f%%\n", r.gb_s(), 100 * r.gb_s() / ceilings.copy_gb_s);
      else std::printf(" %9s %7s\n", "-", "-");
    }
    print_counters();
  }
  void print_counters() const {
    for (const auto& [name, row] : counters) {
      std::printf("counters %-24s", name.c_str());
      for (const auto& [k, v] : row) std::printf(" %s %g", k.c_str(), v);
      std::printf("\n");
    }
  }

  // The results as one JSON object (engine/io.h's writer: a non-finite number is null), written
  // atomically.
  void write_json(const std::string& file) const {
    auto object = [](const auto& map, int digits) {
      JsonWriter o;
      for (const auto& [k, v] : map) o.number(k, v, digits);
      return o.line();
    };
    std::string runs_json = "[";
    for (const Run& r : runs) {
      JsonWriter o;
      o.string("name", r.name).number("median_ms", r.t.median_ms, 6).number("low_ms", r.t.low_ms, 6).number("peak_mb", r.t.peak_mb, 6);
      if (r.flop > 0 && ceilings.gemm_tflop_s > 0)
        o.number("tflop_s", r.tflop_s(), 6).number("of_gemm", r.tflop_s() / ceilings.gemm_tflop_s, 4);
      if (r.bytes > 0 && ceilings.copy_gb_s > 0) o.number("gb_s", r.gb_s(), 6).number("of_copy", r.gb_s() / ceilings.copy_gb_s, 4);
      runs_json += (runs_json.size() > 1 ? ", " : "") + o.line();
    }
    JsonWriter counters_json;
    for (const auto& [name, row] : counters) counters_json.json(name, object(row, 10));
    JsonWriter out;
    out.string("bench", bench).string("device", name_of(device)).json("shape", object(shape, 6));
    out.json("ceilings", JsonWriter().number("copy_gb_s", ceilings.copy_gb_s, 6).number("gemm_tflop_s", ceilings.gemm_tflop_s, 6).line());
    out.json("runs", runs_json + "]").json("ratios", object(ratios, 5)).json("counters", counters_json.line());
    atomic_write(file, out.line() + "\n");
  }

  // Every ratio of the baseline must be present and at most (1 + tolerance) times its baseline
  // value; a key's tolerance is the baseline's "tolerance" entry for it (chosen from the spread
  // measured when it was recorded: scripts/bench_baseline.py), 0.15 where it has none. Every
  // counter of the baseline ("counters": {name: {field: value}}) must be present and not above its
  // baseline value. Returns the failures.
  struct Failure {
    std::string line;
    bool timed;  // a ratio of times (noisy: worth measuring again), not an exact count
  };
  std::vector<Failure> check(const std::string& baseline_file) const {
    YAML::Node base;  // JSON is YAML
    try {
      base = YAML::LoadFile(baseline_file);
    } catch (const std::exception& e) {
      fail(baseline_file, ": cannot read the baseline (", e.what(), ")");
    }
    if (!(base["ratios"] && base["ratios"].IsMap()) && !(base["counters"] && base["counters"].IsMap()))
      fail(baseline_file, ": no \"ratios\" or \"counters\" object");
    std::vector<Failure> bad;
    const YAML::Node none(YAML::NodeType::Map);
    for (const auto& group : base["counters"] ? base["counters"] : none) {
      const std::string name = group.first.as<std::string>();
      for (const auto& kv : group.second) {
        const std::string field = kv.first.as<std::string>();
        const double was = kv.second.as<double>();
        const auto row = counters.find(name);
        if (row == counters.end() || !row->second.count(field)) {
          bad.push_back({"counters " + name + "." + field + ": in the baseline, not measured", false});
        } else if (row->second.at(field) > was * (1 + 1e-9) + 1e-9) {
          char line[256];
          std::snprintf(line, sizeof line, "counters %s.%s: %g, baseline %g (a count grew)", name.c_str(), field.c_str(),
                        row->second.at(field), was);
          bad.push_back({line, false});
        }
      }
    }
    for (const auto& kv : base["ratios"] ? base["ratios"] : none) {
      const std::string key = kv.first.as<std::string>();
      const double was = kv.second.as<double>();
      const double tolerance = base["tolerance"] && base["tolerance"][key] ? base["tolerance"][key].as<double>() : 0.15;
      const auto now = ratios.find(key);
      if (now == ratios.end()) {
        bad.push_back({key + ": in the baseline, not measured", true});
      } else if (!(now->second <= was * (1 + tolerance))) {
        char line[256];
        std::snprintf(line, sizeof line, "%s: %.3f, baseline %.3f (more than %.0f%% worse)", key.c_str(), now->second,
                      was, tolerance * 100);
        bad.push_back({line, true});
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
  int64_t num(const std::string& name) const { return whole_flag("--" + name, values_.at(name), 0, INT64_MAX); }
  double real(const std::string& name) const { return number_flag("--" + name, values_.at(name), -1e300, 1e300); }
  // An enumerated option by the config's spellings (engine/config.h), e.g. --precision fp32|bf16.
  template <ConfigEnum E> E choice(const std::string& name) const {
    const std::optional<E> named = enum_named<E>(str(name));
    if (!named) fail("--", name, " ", str(name), ": expected ", enum_spellings<E>(" or "));
    return *named;
  }
  // A preset chosen by name, e.g. --size small|gpt2 (the table's order is the error's).
  template <class T> T preset(const std::string& name, const std::vector<std::pair<std::string, T>>& table) const {
    std::string known;
    for (size_t i = 0; i < table.size(); ++i) {
      if (table[i].first == str(name)) return table[i].second;
      known += (i == 0 ? "" : i + 1 == table.size() ? " or " : ", ") + table[i].first;
    }
    fail("--", name, " ", str(name), ": expected ", known);
  }
  // A count whose 0 (its default) leaves it to `fallback`, a preset's.
  int64_t num_or(const std::string& name, int64_t fallback) const { return num(name) ? num(name) : fallback; }
  Precision precision() const { return choice<Precision>("precision"); }
  Device device() const {
    const Device d = choice<Device>("device");
    if (d == Device::CUDA) device::require_cuda();
    return d;
  }

 private:
  std::map<std::string, std::string> values_;
};

// The end of every benchmark: `measure_once` times the versions and returns the report (printing
// its table). Without --check that is all; with it, a ratio over its limit is measured again, up
// to `attempts` times in all, and each ratio keeps its best (lowest) value over the attempts: a
// regression is slower every time, a noisy round only sometimes. --json writes the report with
// those ratios. Returns main's exit code (1 on a regression, named on stderr).
inline int finish(const char* tool, const std::function<Report()>& measure_once, const Options& o, int attempts = 3) {
  Report r = measure_once();
  std::vector<Report::Failure> bad = o.str("check").empty() ? std::vector<Report::Failure>{} : r.check(o.str("check"));
  // Counts are exact: only a timed ratio over its tolerance is worth measuring again.
  auto timed = [](const std::vector<Report::Failure>& failures) {
    return std::any_of(failures.begin(), failures.end(), [](const Report::Failure& f) { return f.timed; });
  };
  for (int attempt = 2; attempt <= attempts && timed(bad); ++attempt) {
    std::printf("%s: %zu check(s) over the baseline (%s); measuring again, attempt %d of %d\n", tool, bad.size(),
                bad.front().line.c_str(), attempt, attempts);
    const Report again = measure_once();
    for (auto& [key, value] : r.ratios)
      if (again.ratios.count(key)) value = std::min(value, again.ratios.at(key));
    bad = r.check(o.str("check"));
  }
  if (!o.str("json").empty()) r.write_json(o.str("json"));
  if (o.str("check").empty()) return 0;
  for (const Report::Failure& f : bad)
    std::fprintf(stderr, "%s: regression against %s: %s\n", tool, o.str("check").c_str(), f.line.c_str());
  if (bad.empty()) std::printf("within the tolerances of %s\n", o.str("check").c_str());
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
