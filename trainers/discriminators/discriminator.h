// The discriminator D(y) ∈ (0, 1) as the methods and the cooperative decoders use it, whatever its
// kind (trainers/discriminators/kinds.h): its logits x, D = σ(x), on whole sequences and on
// unfinished prefixes, the decoders' view of it, and — for a kind with parameters — its training
// step on real against generated sequences. Kinds: learned (a transformer classifier,
// learned.cpp) and optimal (the oracle's exact D*, optimal.cpp).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trainers/decoding/decoding.h"
#include "trainers/discriminators/kinds.h"
#include "trainers/loop/loop.h"
#include "trainers/loop/tasks.h"

namespace coopgen {

// One discriminator step's batch, this rank's share: real sequences (label 1) then generated ones
// (label 0), each with its context (conditional tasks), some cut to prefixes
// (discriminator.prefix_fraction).
struct DiscriminatorBatch {
  std::vector<const std::vector<int32_t>*> seqs;
  size_t real = 0;    // seqs[0 .. real) are real
  int64_t whole = 0;  // rows of the whole batch over all ranks: the loss and accuracy are means over it
};

class Discriminator {
 public:
  virtual ~Discriminator() = default;
  // x(y) of each sequence or unfinished prefix (context included): one double per sequence.
  virtual std::vector<double> logits(const Sequences& seqs) const = 0;
  // The decoders' view (decoding.h). By default `logits` alone: the guided decoder then scores
  // its candidates through it and the searches score whole prefixes.
  virtual PrefixScorer scorer() const;
  // A line for the run's log: what this D is.
  virtual std::string describe() const = 0;
  // The parameters and their optimiser (checkpoints, resume), or none: a fixed D, never trained
  // (train_step and initialise are then not called).
  virtual std::optional<Trained> trained() { return std::nullopt; }
  // A fresh training run's start, after the generator's (e.g. D's weights from the generator or
  // a checkpoint, as the discriminator section says).
  virtual void initialise() {}
  // One optimiser step on `batch` (binary cross-entropy or the kind's own loss); `index` numbers
  // the step in the run (errors name it), `seed` its random stream (dropout). Returns d_loss and
  // d_acc over the whole batch, every rank the same.
  virtual Metrics train_step(const DiscriminatorBatch& batch, int64_t index, uint64_t seed);
};

// discriminator.init_from_generator copies the generator's weights into D's model: its shape
// (discriminator.model) must equal the generator's, else an error naming both keys.
void check_init_from_generator(const RunConfig& cfg);

// For kinds with parameters: a checkpoint's discriminator tensors ("disc.*") into `params`, every
// one of them used (a D of fewer layers than the checkpoint's must not drop the rest silently).
void load_discriminator_params(NamedTensors& params, const std::map<std::string, Tensor>& tensors, const std::string& dir);
// The same from c.checkpoint, which must be a coopgen checkpoint holding tensor `marker` (the
// kind's own): else an error naming the checkpoint, `what` D is and c.why.
void load_trained_discriminator(NamedTensors& params, const DiscriminatorContext& c, const std::string& marker,
                                const std::string& what);

}  // namespace coopgen
