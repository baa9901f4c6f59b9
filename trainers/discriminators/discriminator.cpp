#include <map>
#include <set>

#include "core/error.h"
#include "core/registry.h"
#include "trainers/discriminators/discriminator.h"
#include "trainers/loop/run_config.h"

namespace coopgen {

#define COOPGEN_DISCRIMINATOR(name) DiscriminatorKind discriminator_##name();
#include "trainers/discriminators/kinds.def"
#undef COOPGEN_DISCRIMINATOR

namespace {

Registry<DiscriminatorKind>& discriminator_registry() {
  static Registry<DiscriminatorKind> r("discriminator kind", {
#define COOPGEN_DISCRIMINATOR(name) discriminator_##name(),
#include "trainers/discriminators/kinds.def"
#undef COOPGEN_DISCRIMINATOR
  });
  return r;
}

const DiscriminatorKind& kind_named(const std::string& name) { return discriminator_registry().named(name, "discriminator.kind"); }

}  // namespace

const std::vector<DiscriminatorKind>& discriminator_kinds() { return discriminator_registry().all(); }
std::vector<std::string> discriminator_kind_names() { return discriminator_registry().names(); }

void register_discriminator_kind(DiscriminatorKind kind) {
  CG_CHECK(bool(kind.make), "discriminator kind '", kind.name, "' has no make");
  discriminator_registry().add(std::move(kind));
}

void check_discriminator(const RunConfig& cfg) {
  const DiscriminatorKind& chosen = kind_named(cfg.discriminator.kind);
  for (const DiscriminatorKind& k : discriminator_registry().all())
    if (&k == &chosen ? bool(k.check) : bool(k.check_unused)) (&k == &chosen ? k.check : k.check_unused)(cfg);
}

std::unique_ptr<Discriminator> make_discriminator(const DiscriminatorContext& ctx) {
  return kind_named(ctx.cfg.discriminator.kind).make(ctx);
}

void load_discriminator_params(NamedTensors& params, const std::map<std::string, Tensor>& tensors, const std::string& dir) {
  std::set<std::string> used;
  load_params(params, tensors, dir, &used);
  std::map<std::string, Tensor> mine;
  for (const auto& [name, t] : tensors)
    if (name.starts_with("disc.")) mine.emplace(name, t);
  refuse_unused(mine, used, dir);
}

void load_trained_discriminator(NamedTensors& params, const DiscriminatorContext& c, const std::string& marker,
                                const std::string& what) {
  if (c.checkpoint.format != CheckpointRef::Format::coopgen)
    fail(c.checkpoint.str(), ": a GPT-2 folder holds no ", what, " (", c.why, " needs one: an adversarial run's checkpoint)");
  const auto tensors = load_checkpoint(c.checkpoint.dir, nullptr);
  if (!tensors.count(marker))
    fail(c.checkpoint.dir, ": no ", what, " in this checkpoint (", c.why, " needs one: an adversarial run's)");
  load_discriminator_params(params, tensors, c.checkpoint.dir);
}

void check_init_from_generator(const RunConfig& cfg) {
  const TransformerConfig &dm = cfg.discriminator.model, &gm = cfg.model;
  if (cfg.discriminator.init_from_generator &&
      (dm.d_model != gm.d_model || dm.layers != gm.layers || dm.heads != gm.heads || dm.max_len != gm.max_len))
    fail("discriminator.init_from_generator needs discriminator.model equal to model (d_model, layers, heads, max_len)");
}

PrefixScorer Discriminator::scorer() const {
  return PrefixScorer([this](const Sequences& seqs) { return logits(seqs); });
}

Metrics Discriminator::train_step(const DiscriminatorBatch&, int64_t, uint64_t) {
  fail("this discriminator (", describe(), ") has no training step");
}

}  // namespace coopgen
