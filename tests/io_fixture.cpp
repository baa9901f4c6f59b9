// Writes files for the tests that check coopgen's files from outside the library:
//   io_fixture truncated DIR    a checkpoint whose model file was cut short (CLI error test)
//   io_fixture known FILE       a safetensors file with known values (read by the reference
//                               Python implementation in safetensors_interop.py)
#include <filesystem>
#include <string>

#include "engine/io.h"

int main(int argc, char** argv) {
  using namespace coopgen;
  if (argc != 3) return 2;
  const std::string mode = argv[1], path = argv[2];
  if (mode == "truncated") {
    save_checkpoint(path, {{"layer.0.w", Tensor::zeros({8})}, {"layer.1.w", Tensor::zeros({16})}}, {{{"step", 3}}, {}});
    const auto model = std::filesystem::path(path) / "model.safetensors";
    std::filesystem::resize_file(model, std::filesystem::file_size(model) - 20);
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
