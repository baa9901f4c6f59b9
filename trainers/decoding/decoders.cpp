#include "trainers/decoding/decoders.h"

#include "core/registry.h"

namespace coopgen {

#define COOPGEN_DECODER(name) DecoderKind decoder_##name();
#include "trainers/decoding/decoders.def"
#undef COOPGEN_DECODER

namespace {

Registry<DecoderKind>& decoder_registry() {
  static Registry<DecoderKind> r("decoder", {
#define COOPGEN_DECODER(name) decoder_##name(),
#include "trainers/decoding/decoders.def"
#undef COOPGEN_DECODER
  });
  return r;
}

}  // namespace

const std::vector<DecoderKind>& decoders() { return decoder_registry().all(); }
std::vector<std::string> decoder_names() { return decoder_registry().names(); }
const DecoderKind& decoder_named(const std::string& name, const std::string& key) { return decoder_registry().named(name, key); }

void register_decoder(DecoderKind kind) {
  CG_CHECK(bool(kind.decode), "decoder '", kind.name, "' has no decode");
  decoder_registry().add(std::move(kind));
}

}  // namespace coopgen
