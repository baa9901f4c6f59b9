// Writes a checkpoint to argv[1], then cuts its model file short, for the CLI error test.
#include <filesystem>

#include "engine/io.h"

int main(int argc, char** argv) {
  using namespace coopgen;
  if (argc != 2) return 2;
  save_checkpoint(argv[1], {{"layer.0.w", Tensor::zeros({8})}, {"layer.1.w", Tensor::zeros({16})}}, {{{"step", 3}}, {}});
  const auto model = std::filesystem::path(argv[1]) / "model.safetensors";
  std::filesystem::resize_file(model, std::filesystem::file_size(model) - 20);
  return 0;
}
