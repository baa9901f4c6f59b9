// The top-level config of a coopgen run. Later trainers add their sections here.
#pragma once
#include <cstdint>
#include <string>

#include "engine/config.h"
#include "engine/optim.h"

namespace coopgen {

struct RunConfig {
  std::string device = "cpu";  // cpu | cuda
  uint64_t seed = 0;
  std::string run_dir = "runs/default";
  OptimConfig optim;
  template <class V> void visit(V& v) {
    v.one_of("device", device, {"cpu", "cuda"});
    v("seed", seed);
    v("run_dir", run_dir);
    v("optim", optim);
  }
};

}  // namespace coopgen
