// Writes files for the tests that check coopgen's files from outside the library:
//   io_fixture truncated DIR    a checkpoint whose model file was cut short (CLI error test)
//   io_fixture known FILE       a safetensors file with known values (read by the reference
//                               Python implementation in safetensors_interop.py)
//   io_fixture compare A B TOL  exit 0 when checkpoints A and B hold the same tensors, equal to a
//                               relative tolerance TOL of each tensor's largest value, taken as at
//                               least 1e-3 (MPI test: a zero-initialised bias a few steps in is
//                               smaller, and the ranks' other summation order is then all it shows)
//   io_fixture set CKPT NAME VALUE
//                               sets every element of checkpoint tensor NAME to VALUE (nan, inf, a
//                               number): a corrupt model, as a diverged run or a bad disk leaves one
//   io_fixture use-after-release cpu|cuda
//                               reads a tensor's memory after the tensor released it to the caching
//                               allocator: a planted bug that the sanitizer build must report
//                               (ASan use-after-poison; cuda: the emulator's device memory)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/io.h"
#include "engine/tensor.h"

int main(int argc, char** argv) {
  using namespace coopgen;
  if (argc == 5 && std::string(argv[1]) == "compare") {
    const auto a = load_checkpoint(argv[2], nullptr), b = load_checkpoint(argv[3], nullptr);
    const double tol = std::atof(argv[4]);
    if (a.size() != b.size()) return std::printf("different tensor counts: %zu and %zu\n", a.size(), b.size()), 1;
    double worst = 0;
    for (const auto& [name, t] : a) {
      if (!b.count(name) || b.at(name).shape() != t.shape()) return std::printf("tensor %s differs in shape\n", name.c_str()), 1;
      const std::vector<float> x = t.to_vector<float>(), y = b.at(name).to_vector<float>();
      double scale = 1e-3, diff = 0;
      for (size_t k = 0; k < x.size(); ++k)
        scale = std::max(scale, double(std::abs(x[k]))), diff = std::max(diff, double(std::abs(x[k] - y[k])));
      worst = std::max(worst, diff / scale);
      if (diff > tol * scale) return std::printf("tensor %s: max difference %g (relative %g)\n", name.c_str(), diff, diff / scale), 1;
    }
    std::printf("%zu tensors equal to relative %g (worst %g)\n", a.size(), tol, worst);
    return 0;
  }
  if (argc == 5 && std::string(argv[1]) == "set") {
    TrainerState state;
    auto tensors = load_checkpoint(argv[2], &state);
    if (!tensors.count(argv[3])) return std::printf("no tensor %s\n", argv[3]), 2;
    const double value = std::strtod(argv[4], nullptr);
    tensors.at(argv[3]) = Tensor::full(tensors.at(argv[3]).shape(), value, tensors.at(argv[3]).dtype());
    NamedTensors all(tensors.begin(), tensors.end());
    save_checkpoint(argv[2], all, state);
    return 0;
  }
  if (argc != 3) return 2;
  const std::string mode = argv[1], path = argv[2];
  if (mode == "truncated") {
    save_checkpoint(path, {{"layer.0.w", Tensor::zeros({8})}, {"layer.1.w", Tensor::zeros({16})}}, {{{"step", 3}}, {}});
    const auto model = std::filesystem::path(path) / "model.safetensors";
    std::filesystem::resize_file(model, std::filesystem::file_size(model) - 20);
    return 0;
  }
  if (mode == "use-after-release") {
    const Device device = path == "cuda" ? Device::CUDA : Device::CPU;
    const float* stale = nullptr;
    {
      const Tensor t = Tensor::full({64}, 1.0, DType::F32, device);
      stale = t.data<float>();
    }  // the block is back in the cache here
    const float x = stale[3];
    std::printf("read %g from a released block (the sanitizer build must have stopped before this line)\n", double(x));
    return 0;
  }
  if (mode == "known") {
    std::vector<float> a(12);
    for (size_t k = 0; k < a.size(); ++k) a[k] = float(k) * 0.5f;
    save_safetensors(path, {{"a", Tensor::from(a, {3, 4})},
                            {"b", Tensor::from(std::vector<int32_t>{-1, 7}, {2})},
                            {"c", Tensor::from(std::vector<double>{0.1}, {1, 1})}},
                     {{"producer", "coopgen"}});
    return 0;
  }
  return 2;
}
