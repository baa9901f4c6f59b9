// Element types and devices, a leaf header that kernels/ and engine/ both include. bf16 is stored as its upper 16 bits of an IEEE float; conversion
// rounds to nearest even, as __float2bfloat16 does, so CPU and CUDA casts agree bit for bit.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace coopgen {

enum class DType : uint8_t { F32, F64, BF16, I32 };
enum class Device : uint8_t { CPU, CUDA };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::BF16: return 2;
    case DType::I32: return 4;
  }
  return 0;
}
constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
  }
  return "?";
}
// The config's spellings (config key `device`; engine/config.h).
constexpr std::array<const char*, 2> config_names(Device) { return {"cpu", "cuda"}; }
constexpr std::string_view device_name(Device d) { return config_names(d)[size_t(d)]; }

struct bf16 {
  uint16_t bits;
};
inline float bf16_to_float(bf16 h) {
  uint32_t u = uint32_t(h.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline bf16 float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{uint16_t((u >> 16) | 0x40u)};  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                                 // nearest even
  return bf16{uint16_t(u >> 16)};
}

}  // namespace coopgen
