#include "kernels/cpu/copy.h"

#include <cstring>
#include <vector>

#include "kernels/philox.h"

namespace coopgen::cpu {

template <class T> void fill(T* out, int64_t n, double value) {
  for (int64_t k = 0; k < n; ++k) out[k] = T(value);
}
template <> void fill<bf16>(bf16* out, int64_t n, double value) {
  bf16 v = float_to_bf16(float(value));
  for (int64_t k = 0; k < n; ++k) out[k] = v;
}
template void fill<float>(float*, int64_t, double);
template void fill<double>(double*, int64_t, double);
template void fill<int32_t>(int32_t*, int64_t, double);

static double load(const void* p, DType t, int64_t k) {
  switch (t) {
    case DType::F32: return double(static_cast<const float*>(p)[k]);
    case DType::F64: return static_cast<const double*>(p)[k];
    case DType::BF16: return double(bf16_to_float(static_cast<const bf16*>(p)[k]));
    case DType::I32: return double(static_cast<const int32_t*>(p)[k]);
  }
  return 0;
}
static void store(void* p, DType t, int64_t k, double v) {
  switch (t) {
    case DType::F32: static_cast<float*>(p)[k] = float(v); return;
    case DType::F64: static_cast<double*>(p)[k] = v; return;
    case DType::BF16: static_cast<bf16*>(p)[k] = float_to_bf16(float(v)); return;
    case DType::I32: static_cast<int32_t*>(p)[k] = int32_t(v); return;
  }
}

// Goes through double, which holds every f32, bf16 and i32 value exactly.
static bool dense(const int64_t* strides, const int64_t* shape, int ndim) {
  int64_t expect = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    if (shape[d] != 1 && strides[d] != expect) return false;
    expect *= shape[d];
  }
  return true;
}

void strided_copy(void* out, DType out_t, const int64_t* out_strides, const void* in, DType in_t,
                  const int64_t* in_strides, const int64_t* shape, int ndim) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  if (out_t == in_t && dense(out_strides, shape, ndim) && dense(in_strides, shape, ndim)) {
    if (n) std::memcpy(out, in, size_t(n) * dtype_size(in_t));  // the common case: a plain copy
    return;
  }
  if (n == 0) return;
  // The innermost dimension is a loop of its own (an attention head's row after a permute); the
  // outer ones advance like an odometer once per run of it.
  const int inner = ndim - 1;
  const int64_t len = ndim ? shape[inner] : 1, os = ndim ? out_strides[inner] : 0, is = ndim ? in_strides[inner] : 0;
  auto runs = [&](auto&& run) {
    std::vector<int64_t> idx(size_t(ndim), 0);
    int64_t io = 0, oo = 0;
    for (int64_t k = 0; k < n; k += len) {
      run(oo, io);
      for (int d = inner - 1; d >= 0; --d) {
        if (++idx[size_t(d)] < shape[d]) {
          io += in_strides[d];
          oo += out_strides[d];
          break;
        }
        io -= in_strides[d] * (shape[d] - 1);
        oo -= out_strides[d] * (shape[d] - 1);
        idx[size_t(d)] = 0;
      }
    }
  };
  // The same dtype: the elements' bits as they are, by their width (memcpy: no access through
  // another type; it compiles to one move).
  auto copy_bits = [&]<size_t W>() {
    char* o = static_cast<char*>(out);
    const char* i = static_cast<const char*>(in);
    runs([&](int64_t oo, int64_t io) {
      for (int64_t j = 0; j < len; ++j) std::memcpy(o + (oo + j * os) * int64_t(W), i + (io + j * is) * int64_t(W), W);
    });
  };
  switch (out_t == in_t ? dtype_size(in_t) : 0) {
    case 2: return copy_bits.template operator()<2>();
    case 4: return copy_bits.template operator()<4>();
    case 8: return copy_bits.template operator()<8>();
    default: break;  // a cast: element by element through double
  }
  runs([&](int64_t oo, int64_t io) {
    for (int64_t j = 0; j < len; ++j) store(out, out_t, oo + j * os, load(in, in_t, io + j * is));
  });
}

template <class T>
void philox_uniform(T* out, int64_t n, const PhiloxParams& p) {
  for (int64_t k = 0; k < n; ++k) out[k] = T(philox::philox_value(p.seed, p.offset, uint64_t(k), p.lo, p.hi, p.dropout));
}
template void philox_uniform<float>(float*, int64_t, const PhiloxParams&);
template void philox_uniform<double>(double*, int64_t, const PhiloxParams&);

int32_t token_range_check(const int32_t* ids, int64_t n, int64_t vocab) {
  int32_t bad = 0;
  for (int64_t k = 0; k < n; ++k) bad += (ids[k] < 0 || ids[k] >= vocab);
  return bad;
}

}  // namespace coopgen::cpu
