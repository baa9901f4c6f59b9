// The hot kernels' memory access patterns, measured on the traced emulator (kernels/sim/trace.h:
// build with -DCOOPGEN_SIM=ON -DCOOPGEN_SIM_TRACE=ON and clang), and their roofline bound at the
// GPT-2 shapes of issue 5 (docs/perf.md, "Memory access patterns").
//   memory_report [--json FILE] [--check BASELINE.json] [--only NAME,...] [--launch-only] [--list]
// prints the table of docs/perf.md and the sites that miss the targets (global efficiency < 90%,
// shared conflicts > 2-way) with their source lines.
// Each case runs its op at two small shapes (sizes that are not multiples of a tile) and reports,
// per group of kernels, what Nsight Compute's memory workload analysis would:
//   load / store efficiency = Σ minimum sectors / Σ sectors of the global requests (1: every
//     request touches only the 32-byte sectors its bytes need);
//   ways = the worst shared-memory request's wavefronts over its conflict-free wavefronts;
//   unique / ideal = distinct global sectors touched × 32 B (DRAM traffic if every reuse hits the
//     cache) over the op's ideal bytes (each input read once, each output written once), and
//     requested / ideal = all sectors requested × 32 B (no cache) over the same.
// The roofline bound is max(ideal bytes / bandwidth, FLOPs / peak) at the GPT-2 shape on an H100
// SXM (3.35 TB/s, 989 TFLOP/s dense bf16, 67 TFLOP/s fp32) and an H200 (4.8 TB/s, same peaks);
// "predicted" scales the bytes by the measured unique / ideal ratio at the larger small shape.
// --check fails when a group's sectors per request, conflict ways or traffic grew against the
// baseline (the numbers are exact: block order is seeded). --launch-only runs each case once at its
// larger shape and measures nothing: on a GPU, under Nsight Compute (scripts/gpu_check.sh, step
// ncu; scripts/ncu_compare.py). --list names the cases.
#include <cuda_runtime.h>
#include <json/json.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/autograd.h"
#include "engine/op.h"
#include "engine/ops.h"
#include "engine/tensor.h"
#include "kernels/cuda/check.h"
#include "kernels/sim/trace.h"

using namespace coopgen;
namespace trace = coopgen::sim::trace;

namespace {

// The sizes a case is run at; each case reads the fields it needs. e: bytes per activation.
// Doubles, for the byte and FLOP formulas; whole numbers all.
struct Dims {
  double b = 1, h = 1, tq = 1, tk = 1, d = 1, n = 1, v = 1, c = 1, k = 1, e = 4;
};
Shape shape(std::initializer_list<double> dims) {
  Shape s;
  for (double x : dims) s.push_back(int64_t(x));
  return s;
}

// Kernels of a case counted together against one ideal.
struct Group {
  std::string label;
  std::vector<std::string> kernels;
  std::function<double(const Dims&)> bytes;  // ideal: each input read once, each output written once
  std::function<double(const Dims&)> flops;  // 0 where the op is memory-bound by far
};

struct Case {
  std::string name;
  bool tensor_cores = false;  // the peak its FLOPs count against
  Dims small, larger, gpt2;
  // Builds the inputs at `d` (not traced) and returns the work to trace.
  std::function<std::function<void()>(const Dims&)> setup;
  std::vector<Group> groups;
};

// The FLOPs of a kernel that is memory-bound by an order of magnitude: not counted.
double memory_bound(const Dims&) { return 0; }

// Rows of C features: N 37 × C 200 and N 75 × C 768, at GPT-2 8,192 tokens × `gpt2_c`.
void token_rows(Case& c, double gpt2_c) {
  c.small = {.n = 37, .c = 200};
  c.larger = {.n = 75, .c = 768};
  c.gpt2 = {.n = 8192, .c = gpt2_c};
}

constexpr double kH100Bandwidth = 3.35e12, kH200Bandwidth = 4.8e12, kBf16Peak = 989e12, kF32Peak = 67e12;

Tensor uniform(std::initializer_list<double> dims, DType dtype = DType::F32, double lo = -1, double hi = 1) {
  static uint64_t offset = 0;
  const Tensor t = Tensor::uniform(shape(dims), 11, offset, lo, hi, DType::F32, Device::CUDA).to(dtype);
  offset += uint64_t(shape_numel(t.shape()));
  return t;
}
// n token ids in [0, vocab), spread over the table.
Tensor tokens(double n, double vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 7919 + 13) % size_t(vocab));
  return Tensor::from(ids, {int64_t(n)}).to(Device::CUDA);
}
Tensor ones(double n) { return Tensor::full({int64_t(n)}, 1.0, DType::F32, Device::CUDA); }
DType act(const Dims& d) { return d.e == 2 ? DType::BF16 : DType::F32; }
Tensor leaf(Tensor t) {
  t.requires_grad_();
  return t;
}

// Attention: forward and backward (autograd) at B, H, T (causal), d.
double attention_flops(const Dims& d) { return 4.0 * d.b * d.h * d.tq * d.tk * d.d / 2; }  // causal: half the scores
Case attention_case(const std::string& name, double dim, double e) {
  Case c;
  c.name = name;
  c.tensor_cores = e == 2;
  c.small = {.b = 1, .h = 2, .tq = 37, .tk = 37, .d = dim, .e = e};
  c.larger = {.b = 1, .h = 2, .tq = 80, .tk = 80, .d = dim, .e = e};
  c.gpt2 = {.b = 8, .h = 768 / dim, .tq = 1024, .tk = 1024, .d = dim, .e = e};
  c.setup = [](const Dims& d) -> std::function<void()> {
    Tensor q = leaf(uniform({d.b, d.h, d.tq, d.d}, act(d))), k = leaf(uniform({d.b, d.h, d.tq, d.d}, act(d)));
    Tensor v = leaf(uniform({d.b, d.h, d.tq, d.d}, act(d)));
    return [=] { sum(attention(q, k, v, Tensor(), true).to(DType::F32)).backward(); };
  };
  const auto bhtd = [](const Dims& d) { return d.b * d.h * d.tq * d.d; };
  c.groups = {{"forward", {"attention_forward", "attention_forward_mma"},
               [=](const Dims& d) { return bhtd(d) * d.e * 4 + d.b * d.h * d.tq * 4.0; }, attention_flops},
              {"backward", {"attention_delta", "attention_backward", "attention_backward_mma", "attention_dq_store"},
               [=](const Dims& d) { return bhtd(d) * d.e * 8 + d.b * d.h * d.tq * 4.0; },
               [](const Dims& d) { return 2.5 * attention_flops(d); }}};
  return c;
}

std::vector<Case> cases() {
  std::vector<Case> all;
  all.push_back(attention_case("attention_f32_d64", 64, 4));
  all.push_back(attention_case("attention_f32_d128", 128, 4));
  all.push_back(attention_case("attention_bf16_d64", 64, 2));
  all.push_back(attention_case("attention_bf16_d128", 128, 2));
  {
    Case c;
    c.name = "attention_decode_f32_d64";
    c.small = {.b = 2, .h = 2, .tq = 1, .tk = 300, .d = 64};
    c.larger = {.b = 2, .h = 2, .tq = 1, .tk = 1100, .d = 64};
    c.gpt2 = {.b = 64, .h = 12, .tq = 1, .tk = 1024, .d = 64};
    c.setup = [](const Dims& d) -> std::function<void()> {
      Tensor q = uniform({d.b, d.h, 1, d.d}), k = uniform({d.b, d.h, d.tk, d.d}), v = uniform({d.b, d.h, d.tk, d.d});
      return [=] {
        NoGradGuard no_grad;
        attention(q, k, v, Tensor(), true);
      };
    };
    c.groups = {{"decode", {"attention_decode", "attention_decode_merge"},
                 [](const Dims& d) { return 4.0 * d.b * d.h * (2 * d.tk * d.d + 2 * d.d + 1); },
                 [](const Dims& d) { return 4.0 * d.b * d.h * d.tk * d.d; }}};
    all.push_back(c);
  }
  // The sampler: one block per row, or split over chunks (few long rows, plain).
  const auto sampler = [](const std::string& name, SamplingConfig cfg, double rows, double vocab, double vocab2) {
    Case c;
    c.name = name;
    c.small = {.n = rows, .v = vocab};
    c.larger = {.n = rows, .v = vocab2};
    c.gpt2 = {.n = 256, .v = 50257};
    c.setup = [cfg](const Dims& d) -> std::function<void()> {
      Tensor logits = uniform({d.n, d.v}, DType::F32, -8, 8);
      return [=] { sample_logits(logits, cfg, 5, 0); };
    };
    c.groups = {{"sample", {"sample_logits", "sample_logits_chunks", "sample_logits_merge"},
                 [](const Dims& d) { return 4.0 * d.n * (d.v + 3); }, memory_bound}};
    return c;
  };
  SamplingConfig top_k, top_p;
  top_k.top_k = 50, top_p.top_p = 0.9;
  all.push_back(sampler("sample_plain_one_block", {}, 3, 3001, 5003));  // V < 16,384: one block a row
  all.push_back(sampler("sample_plain_split", {}, 2, 20011, 40009));
  all.push_back(sampler("sample_top_k", top_k, 3, 3001, 5003));
  all.push_back(sampler("sample_top_p", top_p, 3, 3001, 5003));
  for (bool gumbel : {false, true}) {
    Case c;
    c.name = gumbel ? "gumbel_top_k" : "top_k_logits";
    c.small = {.n = 3, .v = 3001, .k = 40};
    c.larger = {.n = 3, .v = 5003, .k = 40};
    c.gpt2 = {.n = 256, .v = 50257, .k = 40};
    c.setup = [gumbel](const Dims& d) -> std::function<void()> {
      Tensor logits = uniform({d.n, d.v}, DType::F32, -8, 8);
      return [=] { gumbel ? gumbel_top_k(logits, int64_t(d.k), 5, 0) : top_k_logits(logits, int64_t(d.k), 1.0); };
    };
    c.groups = {{"top_k", {"top_k_logits"}, [](const Dims& d) { return 4.0 * d.n * (d.v + 2 * d.k + 2); },
                 memory_bound}};
    all.push_back(c);
  }
  {  // The output layer's loss over vocabulary chunks (matmuls on cuBLAS: not traced).
    Case c;
    c.name = "weighted_logprob_linear";
    c.small = {.d = 24, .n = 37, .v = 1001, .c = 512};
    c.larger = {.d = 24, .n = 75, .v = 2003, .c = 1024};
    c.gpt2 = {.d = 768, .n = 16384, .v = 50257, .c = 8192};
    c.setup = [](const Dims& d) -> std::function<void()> {
      Tensor h = leaf(uniform({d.n, d.d})), w = leaf(uniform({d.v, d.d}));
      Tensor y = tokens(d.n, d.v), m = ones(d.n), wt = ones(d.n);
      return [=] { weighted_logprob_linear(h, w, y, m, wt, int64_t(d.c)).backward(); };
    };
    // Per chunk of C columns of the N×V logits: z read once (forward), z read and dz written (backward).
    c.groups = {{"logsumexp_chunk", {"logsumexp_chunk"}, [](const Dims& d) { return 4.0 * d.n * d.v + 4.0 * 7 * d.n * std::ceil(d.v / d.c); },
                 memory_bound},
                {"loss_rows", {"weighted_logprob_rows"}, [](const Dims& d) { return 4.0 * 6 * d.n; }, memory_bound},
                {"loss_backward", {"weighted_logprob_backward"},
                 [](const Dims& d) { return 8.0 * d.n * d.v + 4.0 * 4 * d.n * std::ceil(d.v / d.c); },
                 memory_bound}};
    all.push_back(c);
  }
  {
    Case c;
    c.name = "layernorm";
    token_rows(c, 768);
    c.setup = [](const Dims& d) -> std::function<void()> {
      Tensor x = leaf(uniform({d.n, d.c})), g = leaf(uniform({d.c})), b = leaf(uniform({d.c}));
      return [=] { sum(layernorm(x, g, b)).backward(); };
    };
    c.groups = {{"forward", {"layernorm_forward"}, [](const Dims& d) { return 4.0 * (2 * d.n * d.c + 2 * d.c + 2 * d.n); },
                 memory_bound},
                {"backward", {"layernorm_backward_dx", "layernorm_backward_params"},
                 [](const Dims& d) { return 4.0 * (3 * d.n * d.c + 3 * d.c + 2 * d.n); }, memory_bound}};
    all.push_back(c);
  }
  {
    Case c;
    c.name = "softmax";
    c.small = {.n = 37, .c = 200};
    c.larger = {.n = 75, .c = 1024};
    c.gpt2 = {.n = 8192, .c = 1024};
    c.setup = [](const Dims& d) -> std::function<void()> {
      Tensor x = leaf(uniform({d.n, d.c}));
      Tensor w = uniform({d.n, d.c});
      return [=] { sum(mul(softmax(x), w)).backward(); };
    };
    c.groups = {{"forward", {"softmax_forward"}, [](const Dims& d) { return 8.0 * d.n * d.c; }, memory_bound},
                {"backward", {"softmax_backward"}, [](const Dims& d) { return 12.0 * d.n * d.c; }, memory_bound}};
    all.push_back(c);
  }
  {
    Case c;
    c.name = "adamw";
    c.small = {.n = 10007};
    c.larger = {.n = 40009};
    c.gpt2 = {.n = 124439808};
    c.setup = [](const Dims& d) -> std::function<void()> {
      Tensor p = uniform({d.n}), g = uniform({d.n}), m = uniform({d.n}), v = uniform({d.n}, DType::F32, 0, 1);
      return [=] { dispatch(op_call<Op::AdamW>({g}, {p, m, v}, {1e-3, 0.9, 0.999, 1e-8, 0.01, 1.0, 3})); };
    };
    c.groups = {{"step", {"adamw"}, [](const Dims& d) { return 28.0 * d.n; }, memory_bound}};
    all.push_back(c);
  }
  {
    Case c;
    c.name = "embedding";
    c.small = {.n = 37, .v = 301, .c = 200};
    c.larger = {.n = 75, .v = 1001, .c = 768};
    c.gpt2 = {.n = 8192, .v = 50257, .c = 768};
    c.setup = [](const Dims& d) -> std::function<void()> {
      Tensor ids = tokens(d.n, d.v), pos = tokens(d.n, 64);
      Tensor w = leaf(uniform({d.v, d.c})), p = leaf(uniform({64, d.c}));
      return [=] { sum(embedding(ids, w, pos, p, DType::F32)).backward(); };
    };
    // Forward: ids, positions, N rows of W and P, N rows out. Backward: dout read, N rows of dW and
    // dP read and written (a scatter-add).
    c.groups = {{"forward", {"embedding_forward"}, [](const Dims& d) { return 4.0 * (2 * d.n + 3 * d.n * d.c); },
                 memory_bound},
                {"backward", {"embedding_backward"}, [](const Dims& d) { return 4.0 * (2 * d.n + 5 * d.n * d.c); },
                 memory_bound}};
    all.push_back(c);
  }
  {
    Case c;
    c.name = "reductions";
    token_rows(c, 768);
    c.setup = [](const Dims& d) -> std::function<void()> {
      Tensor x = uniform({d.n, d.c}), bias = leaf(uniform({d.c}));
      return [=] {
        sum_squares(x);
        sum(bias_add(x, bias)).backward();  // the bias gradient: sum_rows
      };
    };
    c.groups = {{"sum_squares", {"sum_squares", "sum_partials"}, [](const Dims& d) { return 4.0 * d.n * d.c; }, memory_bound},
                {"sum_rows", {"sum_rows"}, [](const Dims& d) { return 4.0 * (d.n * d.c + d.c); }, memory_bound}};
    all.push_back(c);
  }
  {
    Case c;
    c.name = "epilogues";
    token_rows(c, 3072);
    c.setup = [](const Dims& d) -> std::function<void()> {
      Tensor x = leaf(uniform({d.n, d.c})), w = leaf(uniform({d.c, d.c})), bias = leaf(uniform({d.c}));
      Tensor r = uniform({d.n, d.c});
      return [=] {
        sum(linear_gelu(x, w, bias)).backward();
        NoGradGuard no_grad;
        linear(x, w, bias, r);
      };
    };
    c.groups = {{"bias_gelu", {"bias_gelu_forward"}, [](const Dims& d) { return 4.0 * (2 * d.n * d.c + d.c); }, memory_bound},
                {"bias_gelu_backward", {"bias_gelu_backward"}, [](const Dims& d) { return 4.0 * (3 * d.n * d.c + d.c); },
                 memory_bound},
                {"bias_add_residual", {"bias_add_residual"}, [](const Dims& d) { return 4.0 * (3 * d.n * d.c + d.c); },
                 memory_bound}};
    all.push_back(c);
  }
  return all;
}

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}
std::string dims_text(const Dims& d) {
  std::ostringstream os;
  const Dims z;
  auto field = [&](const char* name, double v, double def) {
    if (v != def) os << (os.tellp() ? " " : "") << name << '=' << int64_t(v);
  };
  field("B", d.b, z.b), field("H", d.h, z.h), field("Tq", d.tq, z.tq), field("Tk", d.tk, z.tk), field("d", d.d, z.d);
  field("N", d.n, z.n), field("V", d.v, z.v), field("C", d.c, z.c), field("k", d.k, z.k);
  return os.str();
}

#if defined(COOPGEN_SIM)  // the report: the traced emulator (kernels/sim/trace.h)

std::string micros(double seconds) { return seconds < 1e-3 ? fixed(seconds * 1e6, 1) : fixed(seconds * 1e6, 0); }

// What the trace measured for one group at one shape.
struct Measured {
  std::set<std::string> kernels;
  double launches = 0, load_requests = 0, load_sectors = 0, load_min = 0, store_requests = 0, store_sectors = 0,
         store_min = 0, shared_requests = 0, wavefronts = 0, ideal_wavefronts = 0, ways = 0, unique_bytes = 0,
         requested_bytes = 0, ideal_bytes = 0;
  std::vector<std::pair<const trace::Launch*, const trace::Site*>> sites;
  double efficiency(bool store) const {
    const double s = store ? store_sectors : load_sectors;
    return s > 0 ? (store ? store_min : load_min) / s : 1;
  }
};

Measured measure(const std::vector<trace::Launch>& launches, const Group& g, const Dims& d) {
  Measured m;
  m.ideal_bytes = g.bytes(d);
  for (const trace::Launch& l : launches) {
    if (std::find(g.kernels.begin(), g.kernels.end(), l.kernel) == g.kernels.end()) continue;
    m.kernels.insert(l.kernel);
    ++m.launches;
    m.unique_bytes += 32.0 * double(l.unique_load_sectors + l.unique_store_sectors);
    for (const trace::Site& s : l.sites) {
      m.sites.push_back({&l, &s});
      if (s.shared) {
        m.shared_requests += double(s.requests);
        m.wavefronts += double(s.wavefronts);
        m.ideal_wavefronts += double(s.ideal_wavefronts);
        m.ways = std::max(m.ways, double(s.max_ways));
        continue;
      }
      m.requested_bytes += 32.0 * double(s.sectors);
      (s.store ? m.store_requests : m.load_requests) += double(s.requests);
      (s.store ? m.store_sectors : m.load_sectors) += double(s.sectors);
      (s.store ? m.store_min : m.load_min) += double(s.min_sectors);
    }
  }
  return m;
}

Json::Value group_json(const Measured& m) {
  Json::Value j;
  for (const std::string& k : m.kernels) j["kernels"].append(k);
  j["launches"] = m.launches;
  j["load_sectors_per_request"] = m.load_requests > 0 ? m.load_sectors / m.load_requests : 0.0;
  j["store_sectors_per_request"] = m.store_requests > 0 ? m.store_sectors / m.store_requests : 0.0;
  j["load_efficiency"] = m.efficiency(false);
  j["store_efficiency"] = m.efficiency(true);
  j["shared_requests"] = m.shared_requests;
  j["shared_wavefronts_per_request"] = m.shared_requests > 0 ? m.wavefronts / m.shared_requests : 0.0;
  j["shared_conflict_ways"] = m.ways;
  j["ideal_bytes"] = m.ideal_bytes;
  j["unique_over_ideal"] = m.unique_bytes / m.ideal_bytes;
  j["requested_over_ideal"] = m.requested_bytes / m.ideal_bytes;
  return j;
}

// The source lines that miss a target: global efficiency < 90% or shared conflicts > 2-way (the
// sites of one line summed: unrolled copies of an access are sites of their own).
Json::Value offenders(const Measured& m) {
  std::vector<uintptr_t> pcs;
  for (auto [l, s] : m.sites) pcs.push_back(s->pc);
  const std::vector<std::string> lines = trace::source_lines(pcs);
  struct Row {
    double requests = 0, sectors = 0, min = 0, ways = 0;
  };
  std::map<std::pair<std::string, std::string>, Row> rows;  // (line, kind)
  for (size_t i = 0; i < m.sites.size(); ++i) {
    const trace::Site& s = *m.sites[i].second;
    Row& r = rows[{lines[i], std::string(s.shared ? "shared " : "global ") + (s.store ? "store" : "load")}];
    r.requests += double(s.requests);
    r.sectors += double(s.shared ? s.wavefronts : s.sectors);
    r.min += double(s.shared ? s.ideal_wavefronts : s.min_sectors);
    r.ways = std::max(r.ways, double(s.max_ways));
  }
  Json::Value out(Json::arrayValue);
  for (const auto& [key, r] : rows) {
    const bool shared = key.second[0] == 's';
    if (shared ? r.ways <= 2 : r.min >= 0.9 * r.sectors) continue;
    Json::Value j;
    j["line"] = key.first;
    j["kind"] = key.second;
    j["requests"] = r.requests;
    if (shared) {
      j["wavefronts_per_request"] = r.sectors / r.requests;
      j["ways"] = r.ways;
    } else {
      j["sectors_per_request"] = r.sectors / r.requests;
      j["efficiency"] = r.min / r.sectors;
    }
    out.append(j);
  }
  return out;
}

// The guard: a group's sectors per request, conflict ways and traffic may not grow.
int check(const Json::Value& report, const std::string& baseline_file) {
  std::ifstream in(baseline_file);
  if (!in) fail(baseline_file, ": cannot read the baseline");
  Json::Value base;
  Json::CharReaderBuilder rb;
  std::string errs;
  if (!Json::parseFromStream(rb, in, &base, &errs)) fail(baseline_file, ": not JSON: ", errs);
  const char* guarded[] = {"load_sectors_per_request", "store_sectors_per_request", "shared_conflict_ways",
                           "unique_over_ideal", "requested_over_ideal"};
  int failures = 0, compared = 0;
  for (const std::string& name : report["cases"].getMemberNames())
    for (const std::string& shape : {"small", "larger"})
      for (const std::string& g : report["cases"][name][shape]["groups"].getMemberNames()) {
        const Json::Value& now_group = report["cases"][name][shape]["groups"][g];
        const Json::Value& was = base["cases"][name][shape]["groups"][g];
        if (was.isNull()) continue;  // a new group: nothing to compare yet
        for (const char* key : guarded) {
          ++compared;
          const double now = now_group[key].asDouble(), before = was[key].asDouble();
          if (now > before * (1 + 1e-9) + 1e-12) {
            std::printf("memory_report: %s %s (%s): %s grew from %.6g to %.6g (baseline %s)\n", name.c_str(),
                        g.c_str(), shape.c_str(), key, before, now, baseline_file.c_str());
            ++failures;
          }
        }
      }
  std::printf("memory_report: %d of %d guarded figures grew against %s\n", failures, compared, baseline_file.c_str());
  return failures ? 1 : 0;
}

// Traces every case at its two shapes; prints the table and the offending lines, writes JSON,
// checks against a baseline. Returns the exit code.
int report(const std::string& only, const std::string& json_file, const std::string& baseline) {
  if (!trace::available()) fail("memory_report: this build does not trace (configure with -DCOOPGEN_SIM_TRACE=ON and clang)");
  Json::Value report;
  std::vector<std::string> table, worst;
  table.push_back("| case, kernels | shapes measured | load eff. | store eff. | shared ways | unique / ideal | requested / ideal | "
                  "GPT-2 shape | H100 bound µs | H100 predicted µs | H200 bound µs | H200 predicted µs | measured on the GPU |");
  table.push_back("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const Case& c : cases()) {
    if (!only.empty() && only.find("," + c.name + ",") == std::string::npos) continue;
    Json::Value cj;
    cj["case"] = c.name;
    std::map<std::string, Measured> at[2];
    for (int s = 0; s < 2; ++s) {
      const Dims& d = s ? c.larger : c.small;
      std::function<void()> work = c.setup(d);
      trace::start();
      work();
      const std::vector<trace::Launch> launches = trace::stop();
      Json::Value sj;
      sj["shape"] = dims_text(d);
      for (const Group& g : c.groups) {
        at[s][g.label] = measure(launches, g, d);
        if (at[s][g.label].launches == 0) fail("memory_report: ", c.name, ": no launch of ", g.label);
        sj["groups"][g.label] = group_json(at[s][g.label]);
        if (s == 1) sj["groups"][g.label]["offenders"] = offenders(at[s][g.label]);
      }
      cj[s ? "larger" : "small"] = sj;
    }
    for (const Group& g : c.groups) {
      const Measured &m0 = at[0][g.label], &m = at[1][g.label];
      const double bytes = g.bytes(c.gpt2), flops = g.flops(c.gpt2), ratio = m.unique_bytes / m.ideal_bytes;
      const double peak = c.tensor_cores ? kBf16Peak : kF32Peak;
      Json::Value gj;
      gj["ideal_bytes"] = bytes;
      gj["flops"] = flops;
      const std::pair<const char*, double> devices[] = {{"h100", kH100Bandwidth}, {"h200", kH200Bandwidth}};
      std::string times;
      for (auto [dev, bw] : devices) {
        const double bound = std::max(bytes / bw, flops / peak), predicted = std::max(bytes * ratio / bw, flops / peak);
        gj[std::string(dev) + "_bound_us"] = bound * 1e6;
        gj[std::string(dev) + "_predicted_us"] = predicted * 1e6;
        times += " | " + micros(bound) + " | " + micros(predicted);
      }
      cj["gpt2"]["shape"] = dims_text(c.gpt2);
      cj["gpt2"]["groups"][g.label] = gj;
      // Figures at both shapes when they differ: the pattern depends on the shape.
      auto both = [](double a, double b, int digits) {
        return fixed(a, digits) == fixed(b, digits) ? fixed(b, digits) : fixed(a, digits) + " → " + fixed(b, digits);
      };
      std::string names;
      for (const std::string& k : m.kernels) names += (names.empty() ? "" : ", ") + ("`" + k + "`");
      table.push_back("| " + c.name + " " + g.label + ": " + names + " | " + dims_text(c.small) + "; " +
                      dims_text(c.larger) + " | " + both(m0.efficiency(false), m.efficiency(false), 2) + " | " +
                      both(m0.efficiency(true), m.efficiency(true), 2) + " | " +
                      (m.shared_requests > 0 ? both(m0.ways, m.ways, 0) : "—") + " | " +
                      both(m0.unique_bytes / m0.ideal_bytes, ratio, 2) + " | " +
                      both(m0.requested_bytes / m0.ideal_bytes, m.requested_bytes / m.ideal_bytes, 2) + " | " +
                      dims_text(c.gpt2) + times + " |  |");
      for (const Json::Value& o : cj["larger"]["groups"][g.label]["offenders"])
        worst.push_back("| " + c.name + " " + g.label + " | `" + o["line"].asString() + "` | " + o["kind"].asString() + " | " +
                        (o.isMember("ways") ? fixed(o["ways"].asDouble(), 0) + "-way"
                                            : fixed(o["efficiency"].asDouble(), 2) + " (" +
                                                  fixed(o["sectors_per_request"].asDouble(), 1) + " sectors/request)") +
                        " | " + fixed(o["requests"].asDouble(), 0) + " |");
    }
    report["cases"][c.name] = cj;
    std::fprintf(stderr, "memory_report: %s done\n", c.name.c_str());
  }
  for (const std::string& row : table) std::printf("%s\n", row.c_str());
  std::printf("\n| case | source line | access | efficiency or conflicts | requests |\n|---|---|---|---|---|\n");
  for (const std::string& row : worst) std::printf("%s\n", row.c_str());
  if (!json_file.empty()) {
    Json::StreamWriterBuilder wb;
    wb["indentation"] = " ";
    std::ofstream(json_file) << Json::writeString(wb, report) << '\n';
  }
  return baseline.empty() ? 0 : check(report, baseline);
}

#endif  // COOPGEN_SIM

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string json_file, baseline, only;
    bool launch_only = false;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--json" && i + 1 < argc) json_file = argv[++i];
      else if (a == "--check" && i + 1 < argc) baseline = argv[++i];
      else if (a == "--only" && i + 1 < argc) only = "," + std::string(argv[++i]) + ",";
      else if (a == "--launch-only") launch_only = true;
      else if (a == "--list") {
        for (const Case& c : cases()) std::printf("%s\n", c.name.c_str());
        return 0;
      } else fail("memory_report: unknown argument ", a, " (expected --json FILE, --check BASELINE.json, --only NAMES, --launch-only, --list)");
    }
    if (launch_only) {  // what Nsight Compute measures on a GPU (scripts/gpu_check.sh, step ncu)
      for (const Case& c : cases())
        if (only.empty() || only.find("," + c.name + ",") != std::string::npos) {
          c.setup(c.larger)();
          cuda_check(cudaDeviceSynchronize(), "memory_report: ", c.name);
          std::printf("memory_report: ran %s at %s\n", c.name.c_str(), dims_text(c.larger).c_str());
        }
      return 0;
    }
#if defined(COOPGEN_SIM)
    return report(only, json_file, baseline);
#else
    fail("memory_report: the report needs the traced emulator build; on a GPU run --launch-only under ncu");
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
