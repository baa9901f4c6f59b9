// The registry of discriminator kinds (discriminator.kind): what D is in a run with a
// discriminator, in `coopgen sample` / `eval` with a cooperative decoder, and in the config's list
// of known kinds. A kind is one file (trainers/discriminators/<name>.cpp) defining
// `DiscriminatorKind discriminator_<name>()` and one line in kinds.def; tests and plugins add
// kinds at run time with register_discriminator_kind. The interface a kind implements is
// trainers/discriminators/discriminator.h.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace coopgen {

struct RunConfig;
class Task;
class Generator;
class Discriminator;

// What a kind is built from. Everything referred to must outlive the discriminator.
struct DiscriminatorContext {
  const RunConfig& cfg;
  const Task& task;
  const Generator& g;  // the generator D judges (D* reads its probabilities)
  // The checkpoint to read the trained D from (`coopgen sample` / `eval`: load_trained_discriminator),
  // and why it is wanted (for the error when it holds none); empty in a training run, whose D
  // starts fresh or is restored by the run loop with the generator.
  CheckpointRef checkpoint{};
  std::string why = "";
};

struct DiscriminatorKind {
  std::string name;   // discriminator.kind
  std::string about;  // one line: what D is (help, docs)
  std::function<std::unique_ptr<Discriminator>(const DiscriminatorContext&)> make;
  // Before any data is read: `check` when this kind is chosen (e.g. D* needs the oracle task),
  // `check_unused` when another is (its own settings must then be at their defaults). Either may
  // be empty.
  std::function<void(const RunConfig&)> check, check_unused;
};

// Every kind, built-in (kinds.def) first, then those registered, in order.
const std::vector<DiscriminatorKind>& discriminator_kinds();
std::vector<std::string> discriminator_kind_names();
// Adds a kind; a name already known is an error. Call before a config naming it is read.
void register_discriminator_kind(DiscriminatorKind kind);
// Checks cfg.discriminator as above; an unknown kind names the known ones.
void check_discriminator(const RunConfig& cfg);
// D of kind cfg.discriminator.kind.
std::unique_ptr<Discriminator> make_discriminator(const DiscriminatorContext& ctx);

}  // namespace coopgen
