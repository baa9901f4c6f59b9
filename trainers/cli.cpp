#include "trainers/cli.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "engine/allocator.h"
#include "engine/device.h"
#include "engine/io.h"
#include "engine/ops.h"
#include "trainers/run_config.h"

namespace coopgen {

namespace {

const char* kUsage =
    "usage: coopgen <command> [options]\n"
    "\n"
    "commands:\n"
    "  config --config FILE [key.sub=value ...]   check a config and print it resolved\n"
    "  inspect FILE.safetensors | CHECKPOINT_DIR   list the tensors of a file or checkpoint\n"
    "  devices                                     say which backends this build can run\n"
    "\n"
    "Run `coopgen <command> --help` for a command's options.\n";

int cmd_config(const std::vector<std::string>& args) {
  std::string file;
  std::vector<std::string> overrides;
  for (size_t k = 0; k < args.size(); ++k) {
    if (args[k] == "--help" || args[k] == "-h") {
      std::cout << "usage: coopgen config --config FILE [key.sub=value ...]\n"
                   "Reads FILE, applies the overrides, checks every key and type, and prints the\n"
                   "resolved config as YAML. Errors name file:line and the key.\n";
      return 0;
    }
    if (args[k] == "--config") {
      if (k + 1 >= args.size()) fail("--config needs a file");
      file = args[++k];
    } else if (args[k].find('=') != std::string::npos) {
      overrides.push_back(args[k]);
    } else {
      fail("config: unexpected argument '", args[k], "' (see coopgen config --help)");
    }
  }
  if (file.empty()) fail("config: --config FILE is required");
  RunConfig cfg = load_config<RunConfig>(file, overrides);
  std::cout << dump_config(cfg);
  return 0;
}

int cmd_inspect(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: coopgen inspect FILE.safetensors | CHECKPOINT_DIR\n"
                 "Validates the file and prints each tensor's dtype, shape and norm.\n";
    return args.size() == 1 ? 0 : 1;
  }
  TrainerState state;
  const bool is_file = args[0].size() > 12 && args[0].ends_with(".safetensors");
  auto tensors = is_file ? load_safetensors(args[0]) : load_checkpoint(args[0], &state);
  for (auto& [name, t] : tensors) {
    double norm = 0;
    if (t.dtype() == DType::F32 || t.dtype() == DType::F64) norm = std::sqrt(sum_squares(t).item());
    std::printf("%-40s %-5s %-16s norm %.6g\n", name.c_str(), std::string(dtype_name(t.dtype())).c_str(),
                shape_str(t.shape()).c_str(), norm);
  }
  for (auto& [k, v] : state.numbers) std::printf("state %s = %.17g\n", k.c_str(), v);
  for (auto& [k, v] : state.strings) std::printf("state %s = %s\n", k.c_str(), v.c_str());
  return 0;
}

int cmd_devices() {
  std::printf("cpu: available\n");
  std::printf("cuda: %s\n", !device::cuda_compiled()    ? "not built (configure with -DCOOPGEN_CUDA=ON)"
                            : device::cuda_available() ? "available"
                                                       : "built, but no GPU is visible");
  return 0;
}

}  // namespace

int cli_main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  try {
    if (cmd == "config") return cmd_config(args);
    if (cmd == "inspect") return cmd_inspect(args);
    if (cmd == "devices") return cmd_devices();
    fail("unknown command '", cmd, "' (see coopgen --help)");
  } catch (const Error& e) {
    std::fprintf(stderr, "coopgen: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coopgen: internal error: %s\n", e.what());
    return 1;
  }
}

}  // namespace coopgen
