// Differentiable functions: each forward builds kernel-level op calls and records its backward
// rule right beside it (the one place a hand-written gradient lives). Composites (linear,
// attention, cross_entropy) need no rule of their own.
#include "engine/ops.h"

#include <algorithm>
#include <sstream>
#include <cmath>
#include <limits>

#include "engine/device.h"
#include "engine/op.h"

namespace coopgen {

namespace {

Tensor like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }
Tensor scalar_like(const Tensor& t) { return Tensor::empty({1}, t.dtype(), t.device()); }
// The dtype of an op's own state (statistics, log-sum-exps, losses) when its activations are `t`:
// f32 under bf16 activations (precision bf16), else t.
DType state_dtype(DType t) { return t == DType::BF16 ? DType::F32 : t; }

// One call of op O with its parameter struct (the type ops.def names: checked when it compiles).
template <Op O> void run(std::vector<Tensor> in, std::vector<Tensor> out, params_t<O> p = {}) {
  dispatch(op_call<O>(std::move(in), std::move(out), p));
}

// Unary op with a backward of the form dx = Backward(saved, dy).
template <Op Forward, Op Backward> Tensor unary(const char* name, const Tensor& x, bool save_output) {
  Tensor xc = x.contiguous(), y = like(xc);
  run<Forward>({xc}, {y});
  Tensor saved = save_output ? y.detach() : xc.detach();
  return record(y, name, {x}, [saved](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = like(saved);
    run<Backward>({saved, g.contiguous()}, {dx});
    return {dx};
  });
}

void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  CG_CHECK(a.shape() == b.shape(), op, ": shapes ", shape_str(a.shape()), " and ",
           shape_str(b.shape()), " differ");
}

void check_tokens(const char* op, const Tensor& ids, int64_t vocab) {
  CG_CHECK(ids.dtype() == DType::I32, op, ": token ids must be i32, got ", describe(ids));
  check_token_range(ids, vocab, [op = std::string(op), vocab](int64_t count) {
    return cat(op, ": ", count, " token id(s) outside the vocabulary [0, ", vocab, ")");
  });
}

}  // namespace

void check_token_range(const Tensor& ids, int64_t vocab, std::function<std::string(int64_t)> message) {
  CG_CHECK(ids.dtype() == DType::I32, "token ids must be i32, got ", describe(ids));
  Tensor bad = Tensor::empty({1}, DType::I32, ids.device());
  run<Op::TokenRangeCheck>({ids.contiguous()}, {bad}, {vocab});
  // On the GPU the count is read at the next host synchronisation (the kernels skip such ids
  // meanwhile), so a training step's token checks cost no wait of their own.
  if (ids.device() == Device::CUDA)
    return device::defer_check(bad.data<int32_t>(), [bad, message = std::move(message)](int64_t count) { return message(count); });
  if (const int64_t count = int64_t(bad.item())) fail(message(count));
}

Tensor add(const Tensor& a, const Tensor& b) {
  check_same_shape("add", a, b);
  Tensor out = like(a);
  run<Op::Add>({a.contiguous(), b.contiguous()}, {out}, {1.0});
  return record(out, "add", {a, b}, [](const Tensor& g) -> std::vector<Tensor> { return {g, g}; });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  check_same_shape("sub", a, b);
  Tensor out = like(a);
  run<Op::Add>({a.contiguous(), b.contiguous()}, {out}, {-1.0});
  return record(out, "sub", {a, b},
                [](const Tensor& g) -> std::vector<Tensor> { return {g, scale(g, -1.0)}; });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_same_shape("mul", a, b);
  Tensor ac = a.contiguous(), bc = b.contiguous(), out = like(a);
  run<Op::Mul>({ac, bc}, {out});
  return record(out, "mul", {a, b}, [ad = ac.detach(), bd = bc.detach()](const Tensor& g) -> std::vector<Tensor> {
    return {mul(g, bd), mul(g, ad)};
  });
}

Tensor scale(const Tensor& a, double s) {
  Tensor out = like(a);
  run<Op::Scale>({a.contiguous()}, {out}, {s});
  return record(out, "scale", {a}, [s](const Tensor& g) -> std::vector<Tensor> { return {scale(g, s)}; });
}

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  if (p <= 0) return x;
  CG_CHECK(p < 1, "dropout: rate ", p, " is not in [0, 1)");
  // The Philox op writes f32 (f64 on the CPU); a bf16 x takes the f32 mask rounded.
  Tensor mask = Tensor::empty(x.shape(), x.dtype() == DType::F64 ? DType::F64 : DType::F32, x.device());
  run<Op::PhiloxUniform>({}, {mask}, {seed, offset, 0, 1, p});
  return mul(x, mask.to(x.dtype()));
}

void add_(Tensor& a, const Tensor& b, double alpha) {
  check_same_shape("add_", a, b);
  CG_CHECK(a.is_contiguous(), "add_: destination must be contiguous, got ", describe(a));
  run<Op::Add>({a, b.contiguous()}, {a}, {alpha});
}

void fill_(Tensor& a, double value) {
  CG_CHECK(a.is_contiguous(), "fill_: destination must be contiguous, got ", describe(a));
  run<Op::Fill>({}, {a}, {value});
}

void copy_(Tensor& dst, const Tensor& src) {
  check_same_shape("copy_", dst, src);
  run<Op::Copy>({src}, {dst});
}

Tensor gelu(const Tensor& x) { return unary<Op::Gelu, Op::GeluBackward>("gelu", x, false); }
Tensor sigmoid(const Tensor& x) { return unary<Op::Sigmoid, Op::SigmoidBackward>("sigmoid", x, true); }
Tensor tanh(const Tensor& x) { return unary<Op::Tanh, Op::TanhBackward>("tanh", x, true); }

static void check_bias(const char* op, const Tensor& x, const Tensor& bias) {
  CG_CHECK(bias.dim() == 1 && x.size(-1) == bias.size(0), op, ": bias ", describe(bias), " does not match ", describe(x));
}

static Tensor bias_gradient(const Tensor& g) {
  Tensor db = Tensor::empty({g.size(-1)}, g.dtype(), g.device());
  run<Op::SumRows>({g.contiguous()}, {db});
  return db;
}

Tensor bias_add(const Tensor& x, const Tensor& bias, const Tensor& residual) {
  check_bias("bias_add", x, bias);
  Tensor out = like(x);
  std::vector<Tensor> in{x.contiguous(), bias.contiguous()}, inputs{x, bias};
  if (residual.defined()) {
    check_same_shape("bias_add (residual)", x, residual);
    in.push_back(residual.contiguous()), inputs.push_back(residual);
  }
  run<Op::BiasAdd>(in, {out});
  return record(out, "bias_add", inputs, [n = inputs.size()](const Tensor& g) -> std::vector<Tensor> {
    std::vector<Tensor> grads{g, bias_gradient(g)};
    if (n > 2) grads.push_back(g);
    return grads;
  });
}

// gelu(x + bias), x [..., C], bias [C]; the backward pass recomputes x + bias.
static Tensor bias_gelu(const Tensor& x, const Tensor& bias) {
  check_bias("bias_gelu", x, bias);
  Tensor xc = x.contiguous(), bc = bias.contiguous(), out = like(xc);
  run<Op::BiasGelu>({xc, bc}, {out});
  return record(out, "bias_gelu", {x, bias}, [xd = xc.detach(), bd = bc.detach()](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = like(xd);
    run<Op::BiasGeluBackward>({xd, bd, g.contiguous()}, {dx});
    return {dx, bias_gradient(dx)};
  });
}

// c = α·op(a)·op(b) + β·c on contiguous buffers; bf16 operands always take the tensor cores, f32
// ones when `tensor_cores` says so (CUDA; the CPU ignores it).
static void product(const Tensor& a, const Tensor& b, Tensor& c, double alpha, double beta, int64_t batch, int64_t m,
                    int64_t n, int64_t k, bool ta, bool tb, bool tensor_cores = false) {
  run<Op::Matmul>({a, b}, {c}, {batch, m, n, k, ta, tb, alpha, beta, tensor_cores || a.dtype() == DType::BF16});
}

// The raw product on 3-D contiguous operands: A [Bt, M|K, K|M], B [Bt, K|N, N|K].
static Tensor mm(const Tensor& a, const Tensor& b, bool ta, bool tb, bool tensor_cores) {
  const int64_t batch = a.size(0);
  const int64_t m = ta ? a.size(2) : a.size(1), k = ta ? a.size(1) : a.size(2);
  const int64_t kb = tb ? b.size(2) : b.size(1), n = tb ? b.size(1) : b.size(2);
  CG_CHECK(k == kb && b.size(0) == batch, "matmul: inner sizes differ: ", describe(a),
           (ta ? "ᵀ" : ""), " @ ", describe(b), (tb ? "ᵀ" : ""));
  Tensor c = Tensor::empty({batch, m, n}, a.dtype(), a.device());
  product(a.contiguous(), b.contiguous(), c, 1.0, 0.0, batch, m, n, k, ta, tb, tensor_cores);
  return c;
}

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb, bool tensor_cores) {
  CG_CHECK(a.dim() >= 2 && (b.dim() == 2 || b.dim() == 3), "matmul: unsupported operands ",
           describe(a), " @ ", describe(b));
  Shape out_shape;
  Tensor a3, b3;
  if (b.dim() == 2) {  // weight: flatten the leading dims of A into M
    CG_CHECK(!ta || a.dim() == 2, "matmul: trans_a with a 2-D right operand needs a 2-D left one");
    const int64_t k = ta ? a.size(0) : a.size(-1);
    a3 = ta ? a.reshape({1, a.size(0), a.size(1)}) : a.reshape({1, a.numel() / k, k});
    b3 = b.reshape({1, b.size(0), b.size(1)});
    out_shape = ta ? Shape{a.size(1)} : Shape(a.shape().begin(), a.shape().end() - 1);
    out_shape.push_back(tb ? b.size(0) : b.size(1));
  } else {
    CG_CHECK(a.dim() == 3, "matmul: batched operands must both be 3-D: ", describe(a), " @ ", describe(b));
    a3 = a;
    b3 = b;
  }
  Tensor c = mm(a3.detach(), b3.detach(), ta, tb, tensor_cores);
  if (!out_shape.empty()) c = c.reshape(out_shape);
  Tensor ad = a3.detach(), bd = b3.detach();
  const Shape c3 = {a3.size(0), ta ? a3.size(2) : a3.size(1), tb ? b3.size(1) : b3.size(2)};
  return record(c, "matmul", {a3, b3}, [ad, bd, ta, tb, tensor_cores, c3](const Tensor& g) -> std::vector<Tensor> {
    Tensor g3 = g.reshape(c3);
    // C = op(A)op(B): dA = dC op(B)ᵀ (or its transpose), dB = op(A)ᵀ dC (or its transpose).
    Tensor da = ta ? mm(bd, g3, tb, true, tensor_cores) : mm(g3, bd, false, !tb, tensor_cores);
    Tensor db = tb ? mm(g3, ad, true, ta, tensor_cores) : mm(ad, g3, !ta, false, tensor_cores);
    return {da, db};
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& residual) {
  Tensor y = matmul(x, w, false, true);
  if (b.defined()) return bias_add(y, b, residual);
  return residual.defined() ? add(y, residual) : y;
}

Tensor linear_gelu(const Tensor& x, const Tensor& w, const Tensor& b) { return bias_gelu(matmul(x, w, false, true), b); }

void index_add_(Tensor& table, const Tensor& ids, const Tensor& src) {
  CG_CHECK(table.dim() == 2 && table.dtype() == DType::F32 && table.is_contiguous() && ids.dim() == 1 &&
               src.dim() == 2 && src.size(0) == ids.size(0) && src.size(1) == table.size(1),
           "index_add_: table ", describe(table), ", ids ", describe(ids), ", rows ", describe(src));
  check_tokens("index_add_", ids, table.size(0));
  run<Op::EmbeddingBackward>({ids.contiguous(), src.contiguous()}, {table});
}

static Tensor embedding_gradient(const Tensor& ids, const Tensor& w, const Tensor& g) {
  Tensor dw = Tensor::zeros(w.shape(), w.dtype(), g.device());
  run<Op::EmbeddingBackward>({ids, g.contiguous()}, {dw});
  return dw;
}

// W[ids] (+ P[pos] when pos is defined) as rows of out_dtype; the tables get their gradients.
static Tensor gather_rows(const Tensor& ids, const Tensor& w, const Tensor& pos, const Tensor& p, DType out_dtype) {
  CG_CHECK(w.dim() == 2, "embedding: weight must be [V, C], got ", describe(w));
  check_tokens("embedding", ids, w.size(0));
  const bool positions = pos.defined();
  if (positions) {
    CG_CHECK(p.dim() == 2 && p.size(1) == w.size(1) && p.dtype() == w.dtype(),
             "embedding: tables must be [V, C] and [L, C], got ", describe(w), " and ", describe(p));
    CG_CHECK(pos.shape() == ids.shape(), "embedding: positions ", describe(pos), " for ids ", describe(ids));
    check_tokens("embedding (positions)", pos, p.size(0));
  }
  CG_CHECK(out_dtype == w.dtype() || (w.dtype() == DType::F32 && out_dtype == DType::BF16),
           "embedding: ", dtype_name(w.dtype()), " tables into ", dtype_name(out_dtype), " rows");
  const Tensor idc = ids.contiguous(), posc = positions ? pos.contiguous() : Tensor();
  Shape shape = ids.shape();
  shape.push_back(w.size(1));
  Tensor out = Tensor::empty(shape, out_dtype, w.device());
  std::vector<Tensor> in{idc, w.contiguous()}, inputs{ids, w};
  if (positions) in.insert(in.end(), {posc, p.contiguous()}), inputs.insert(inputs.end(), {pos, p});
  run<Op::Embedding>(in, {out});
  return record(out, "embedding", inputs,
                [idc, posc, wd = w.detach(), pd = positions ? p.detach() : Tensor()](const Tensor& g) -> std::vector<Tensor> {
                  std::vector<Tensor> grads{Tensor(), embedding_gradient(idc, wd, g)};
                  if (posc.defined()) grads.insert(grads.end(), {Tensor(), embedding_gradient(posc, pd, g)});
                  return grads;
                });
}

Tensor embedding(const Tensor& ids, const Tensor& w) { return gather_rows(ids, w, Tensor(), Tensor(), w.dtype()); }

Tensor embedding(const Tensor& ids, const Tensor& w, const Tensor& pos, const Tensor& p, DType out_dtype) {
  CG_CHECK(pos.defined() && p.defined(), "embedding: positions and their table must both be given");
  return gather_rows(ids, w, pos, p, out_dtype);
}

Tensor layernorm(const Tensor& x, const Tensor& g, const Tensor& b, double eps) {
  const int64_t cols = x.size(-1);
  CG_CHECK(g.numel() == cols && b.numel() == cols, "layernorm: gain/bias of size ", g.numel(),
           "/", b.numel(), " for ", describe(x));
  Tensor xc = x.contiguous(), y = like(xc);
  Tensor mean = Tensor::empty({x.numel() / cols}, state_dtype(x.dtype()), x.device()), rstd = like(mean);
  run<Op::LayerNorm>({xc, g.contiguous(), b.contiguous()}, {y, mean, rstd}, {eps});
  return record(y, "layernorm", {x, g, b},
                [xd = xc.detach(), gd = g.contiguous().detach(), mean, rstd](const Tensor& dy) -> std::vector<Tensor> {
                  Tensor dx = like(xd), dg = like(gd), db = like(gd);
                  run<Op::LayerNormBackward>({dy.contiguous(), xd, gd, mean, rstd}, {dx, dg, db});
                  return {dx, dg, db};
                });
}

Tensor softmax(const Tensor& x) {
  Tensor y = like(x);
  run<Op::Softmax>({x.contiguous()}, {y});
  return record(y, "softmax", {x}, [yd = y.detach()](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = like(yd);
    run<Op::SoftmaxBackward>({yd, g.contiguous()}, {dx});
    return {dx};
  });
}

// scores [B,H,Tq,Tk] with masked positions set to `fill`; the gradient is zero there.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, bool causal,
                 bool tensor_cores) {
  CG_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4 && k.shape() == v.shape() &&
               q.size(0) == k.size(0) && q.size(1) == k.size(1) && q.size(3) == k.size(3),
           "attention: q ", describe(q), ", k ", describe(k), ", v ", describe(v));
  const int64_t b = q.size(0), tq = q.size(2), tk = k.size(2);
  CG_CHECK(!causal || tq <= tk, "attention: causal with more queries (", tq, ") than keys (", tk, ")");
  // Without a backward pass, K and V may stay where they are when only their row count is cut
  // (a KV cache's first Tk rows of each head): no copy of the whole cache per decoding step.
  const bool history = grad_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  auto head_rows = [&](const Tensor& t) {
    const Shape& st = t.strides();
    return !history && t.strides() == v.strides() && st[3] == 1 && st[2] == t.size(3) && st[1] >= tk * st[2] &&
           st[0] == t.size(1) * st[1];
  };
  const bool in_place = head_rows(k) && head_rows(v);
  std::vector<Tensor> in{q.contiguous(), in_place ? k : k.contiguous(), in_place ? v : v.contiguous()};
  const DType state = state_dtype(q.dtype());  // of the key mask and the log-sum-exp
  if (key_mask.defined()) {
    CG_CHECK(key_mask.shape() == Shape({b, tk}) && (key_mask.dtype() == q.dtype() || key_mask.dtype() == state),
             "attention: key mask ", describe(key_mask), " for ", b, " sequences of ", tk, " keys");
    CG_CHECK(!key_mask.requires_grad(), "attention: the key mask is a constant; detach() it");
    in.push_back(key_mask.to(state).contiguous());
  }
  Tensor o = like(in[0]), lse = Tensor::empty({q.size(0), q.size(1), tq}, state, q.device());
  // Heads kv_rows rows apart: a KV cache's capacity when read in place, else Tk.
  const int64_t kv_rows = in[1].size(3) ? in[1].strides()[1] / in[1].size(3) : tk;
  const AttentionParams p{b, q.size(1), tq, tk, q.size(3), causal, kv_rows, tensor_cores || q.dtype() == DType::BF16};
  run<Op::Attention>(in, {o, lse}, p);
  std::vector<Tensor> saved{in[0].detach(), in[1].detach(), in[2].detach(), o.detach(), lse};
  if (key_mask.defined()) saved.push_back(in[3]);
  return record(o, "attention", {q, k, v}, [saved, p](const Tensor& g) -> std::vector<Tensor> {
    std::vector<Tensor> args(saved.begin(), saved.begin() + 5);
    args.push_back(g.contiguous());
    if (saved.size() > 5) args.push_back(saved[5]);
    Tensor dq = like(saved[0]), dk = like(saved[1]), dv = like(saved[2]);
    AttentionParams back = p;  // the backward pass computes as the forward did, on contiguous K and V
    back.kv_rows = back.tk;
    run<Op::AttentionBackward>(args, {dq, dk, dv}, back);
    return {dq, dk, dv};
  });
}

static Tensor masked_pool(const Tensor& x, const Tensor& m, bool mean) {
  CG_CHECK(x.dim() == 3 && m.shape() == Shape({x.size(0), x.size(1)}) && m.dtype() == x.dtype(),
           "masked pool: x ", describe(x), " with mask ", describe(m));
  Tensor out = Tensor::empty({x.size(0), x.size(2)}, x.dtype(), x.device());
  Tensor mc = m.contiguous();
  run<Op::MaskedPool>({x.contiguous(), mc}, {out}, {mean});
  return record(out, mean ? "masked_mean" : "masked_sum", {x},
                [mc, mean, xshape = x.shape()](const Tensor& g) -> std::vector<Tensor> {
                  Tensor dx = Tensor::empty(xshape, g.dtype(), g.device());
                  run<Op::MaskedPoolBackward>({g.contiguous(), mc}, {dx}, {mean});
                  return {dx};
                });
}
Tensor masked_sum(const Tensor& x, const Tensor& m) { return masked_pool(x, m, false); }
Tensor masked_mean(const Tensor& x, const Tensor& m) { return masked_pool(x, m, true); }

Tensor sum(const Tensor& x) {
  Tensor out = scalar_like(x);
  run<Op::SumAll>({x.contiguous()}, {out});
  return record(out, "sum", {x}, [shape = x.shape()](const Tensor& g) -> std::vector<Tensor> {
    // d/dx Σx = 1: broadcast the scalar gradient (read once; it is a single number).
    return {Tensor::full(shape, g.item(), g.dtype(), g.device())};
  });
}

Tensor sum_squares(const Tensor& x) {
  Tensor out = scalar_like(x);
  run<Op::SumSquares>({x.contiguous()}, {out});
  return out;
}

static Samples draw(const Tensor& logits, const SamplingConfig& cfg, const Tensor& stream, uint64_t seed,
                    uint64_t offset) {
  CG_CHECK(logits.dim() == 2 && logits.size(1) > 0, "sample_logits: logits must be [N, V], got ", describe(logits));
  SamplingConfig settings = cfg;  // each setting within the range its config key allows
  auto check = [](const char* key, const auto& value, Range allowed) {
    CG_CHECK(allowed.contains(double(value)), "sample_logits: ", key, " must be ", allowed.describe(), ", got ", value);
  };
  settings.visit(check);
  const int64_t n = logits.size(0);
  Samples s{Tensor::empty({n}, DType::I32, logits.device()), Tensor::empty({n}, logits.dtype(), logits.device()),
            Tensor::empty({n}, logits.dtype(), logits.device())};
  std::vector<Tensor> in{logits.detach().contiguous()};
  if (stream.defined()) in.push_back(stream);
  run<Op::SampleLogits>(in, {s.logp, s.logq, s.tokens}, SampleParams{cfg, seed, offset});
  return s;
}

std::string SamplingConfig::rules_off() {
  std::ostringstream out;
  auto name = [&](const char* key, const auto& value, Range) { out << (out.tellp() > 0 ? ", " : "") << key << ' ' << value; };
  SamplingConfig().visit_rules(name);
  return out.str();
}

Samples sample_logits(const Tensor& logits, const SamplingConfig& cfg, uint64_t seed, uint64_t offset) {
  return draw(logits, cfg, Tensor(), seed, offset);
}

Samples sample_logits(const Tensor& logits, const SamplingConfig& cfg, const Tensor& stream, uint64_t offset) {
  CG_CHECK(stream.defined() && stream.dtype() == DType::I32 && stream.numel() == 4 && stream.is_contiguous(),
           "sample_logits: the Philox stream in memory must be i32 [4] (seed, offset; low and high words), got ",
           describe(stream));
  return draw(logits, cfg, stream, 0, offset);
}

std::vector<int32_t> philox_words(uint64_t seed, uint64_t offset) {
  const auto low = [](uint64_t x) { return int32_t(uint32_t(x)); };
  return {low(seed), low(seed >> 32), low(offset), low(offset >> 32)};
}

namespace {

Tensor top_k_filter(const char* name, const Tensor& logits, TopKParams p) {
  CG_CHECK(logits.dim() == 2 && logits.size(1) > 0 && p.k >= 1 && p.temperature > 0, name,
           ": logits [N, V], k ≥ 1 and temperature > 0, got ", describe(logits), ", k ", p.k, ", temperature ",
           p.temperature);
  CG_CHECK(logits.size(1) <= (int64_t(1) << 24), name, ": ", logits.size(1), " tokens (ids travel as f32)");
  p.k = std::min(p.k, logits.size(1));
  Tensor z = logits.detach().to(DType::F32).contiguous();
  Tensor out = Tensor::empty({z.size(0), 2 * p.k + 2}, DType::F32, z.device());
  run<Op::TopKLogits>({z}, {out}, p);
  return out;
}

}  // namespace

Tensor top_k_logits(const Tensor& logits, int64_t k, double temperature) {
  return top_k_filter("top_k_logits", logits, {k, temperature});
}

Tensor gumbel_top_k(const Tensor& logits, int64_t k, uint64_t seed, uint64_t offset) {
  return top_k_filter("gumbel_top_k", logits, {k, 1.0, true, seed, offset});
}

namespace {

// The running log-sum-exp of each row over the vocabulary chunks seen so far (LogsumexpChunk).
struct LogsumexpState {
  Tensor mx, s, zy;
  LogsumexpState(int64_t rows, DType t, Device d)
      : mx(Tensor::full({rows}, -std::numeric_limits<double>::infinity(), t, d)),
        s(Tensor::zeros({rows}, t, d)),
        zy(Tensor::zeros({rows}, t, d)) {}
};

void check_weighted_logprob(const char* what, int64_t rows, int64_t vocab, DType t, const Tensor& y,
                            const Tensor& m, const Tensor& w) {
  CG_CHECK(y.numel() == rows && m.numel() == rows && w.dim() == 1 && w.size(0) > 0 && rows % w.size(0) == 0 &&
               m.dtype() == state_dtype(t) && w.dtype() == state_dtype(t),
           what, ": ", rows, " rows, targets ", describe(y), ", mask ", describe(m), ", weights ", describe(w));
  CG_CHECK(!m.requires_grad() && !w.requires_grad(), what, ": the mask and the weights are constants; detach() them");
  check_tokens(what, y, vocab);
}

}  // namespace

Tensor weighted_logprob(const Tensor& logits, const Tensor& y, const Tensor& m, const Tensor& w) {
  const int64_t vocab = logits.size(-1), rows = logits.numel() / vocab;
  check_weighted_logprob("weighted_logprob", rows, vocab, logits.dtype(), y, m, w);
  Tensor z = logits.reshape({rows, vocab}).contiguous();
  Tensor yc = y.contiguous(), mc = m.contiguous(), wc = w.contiguous();
  LogsumexpState st(rows, state_dtype(z.dtype()), z.device());
  run<Op::LogsumexpChunk>({z, yc}, {st.mx, st.s, st.zy}, {0});
  Tensor loss = scalar_like(st.s), lse = like(st.s);
  run<Op::WeightedLogprob>({st.mx, st.s, st.zy, mc, wc}, {loss, lse});
  return record(loss, "weighted_logprob", {logits},
                [zd = z.detach(), lse, yc, mc, wc, shape = logits.shape()](const Tensor& g) -> std::vector<Tensor> {
                  Tensor dz = like(zd);
                  run<Op::WeightedLogprobBackward>({zd, lse, yc, mc, wc, g.contiguous()}, {dz}, {0});
                  return {dz.reshape(shape)};
                });
}

Tensor weighted_logprob_linear(const Tensor& h, const Tensor& W, const Tensor& y, const Tensor& m, const Tensor& w,
                               int64_t chunk) {
  const int64_t d = h.size(-1), rows = h.numel() / d, vocab = W.size(0);
  CG_CHECK(W.dim() == 2 && W.size(1) == d && W.dtype() == h.dtype() && chunk > 0,
           "weighted_logprob_linear: hidden states ", describe(h), ", output embedding ", describe(W), ", chunk ", chunk);
  check_weighted_logprob("weighted_logprob_linear", rows, vocab, h.dtype(), y, m, w);
  const Tensor hc = h.reshape({rows, d}).contiguous().detach(), Wc = W.contiguous().detach();
  const Tensor yc = y.contiguous(), mc = m.contiguous(), wc = w.contiguous();
  const int64_t width = std::min(chunk, vocab);
  const Tensor buffer = Tensor::empty({rows * width}, h.dtype(), h.device());  // one chunk of logits
  // z = h·W[v0:v1]ᵀ, the chunk's logits [rows, v1 − v0], in `buffer`.
  auto logits_chunk = [=](int64_t v0, int64_t v1) {
    Tensor z = buffer.slice(0, 0, rows * (v1 - v0)).reshape({rows, v1 - v0});
    product(hc, Wc.slice(0, v0, v1), z, 1.0, 0.0, 1, rows, v1 - v0, d, false, true);
    return z;
  };
  LogsumexpState st(rows, state_dtype(h.dtype()), h.device());
  for (int64_t v0 = 0; v0 < vocab; v0 += width) {
    const int64_t v1 = std::min(vocab, v0 + width);
    run<Op::LogsumexpChunk>({logits_chunk(v0, v1), yc}, {st.mx, st.s, st.zy}, {v0});
  }
  Tensor loss = scalar_like(st.s), lse = like(st.s);
  run<Op::WeightedLogprob>({st.mx, st.s, st.zy, mc, wc}, {loss, lse});
  return record(loss, "weighted_logprob_linear", {h, W},
                [=, shape = h.shape()](const Tensor& g) -> std::vector<Tensor> {
                  // Per chunk, recomputed: G = dloss·c·(softmax − onehot) in place of the logits, then
                  // dh += G·W[v0:v1] and dW[v0:v1] = Gᵀ·h.
                  // dh sums over the chunks: in f32 under bf16 activations, rounded once at the end.
                  Tensor dh = Tensor::zeros({rows, d}, state_dtype(hc.dtype()), hc.device()), dW = like(Wc);
                  const Tensor gc = g.contiguous();
                  for (int64_t v0 = 0; v0 < vocab; v0 += width) {
                    const int64_t v1 = std::min(vocab, v0 + width), n = v1 - v0;
                    Tensor z = logits_chunk(v0, v1);
                    run<Op::WeightedLogprobBackward>({z, lse, yc, mc, wc, gc}, {z}, {v0});
                    Tensor dW_chunk = dW.slice(0, v0, v1);
                    product(z, Wc.slice(0, v0, v1), dh, 1.0, 1.0, 1, rows, d, n, false, false);
                    product(z, hc, dW_chunk, 1.0, 0.0, 1, n, d, rows, true, false);
                  }
                  return {dh.to(hc.dtype()).reshape(shape), dW};
                });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& y, const Tensor& m) {
  const double count = sum(m.detach()).item();
  CG_CHECK(count > 0, "cross_entropy: every token is masked");
  Tensor w = Tensor::full({1}, 1.0 / count, state_dtype(logits.dtype()), logits.device());
  return weighted_logprob(logits, y, m.detach(), w);
}

Tensor bce_with_logits(const Tensor& x, const Tensor& t) {
  check_same_shape("bce_with_logits", x, t);
  CG_CHECK(!t.requires_grad(), "bce_with_logits: targets are constants; detach() them");
  Tensor xc = x.contiguous(), tc = t.contiguous(), loss = scalar_like(x);
  run<Op::BceWithLogits>({xc, tc}, {loss});
  return record(loss, "bce_with_logits", {x}, [xd = xc.detach(), tc](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = like(xd);
    run<Op::BceWithLogitsBackward>({xd, tc, g.contiguous()}, {dx});
    return {dx};
  });
}

}  // namespace coopgen
