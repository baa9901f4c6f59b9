#include "trainers/decoding/decoders.h"

#include "core/error.h"

namespace coopgen {

#define COOPGEN_DECODER(name) DecoderKind decoder_##name();
#include "trainers/decoding/decoders.def"
#undef COOPGEN_DECODER

namespace {

std::vector<DecoderKind>& registry() {
  static std::vector<DecoderKind> kinds{
#define COOPGEN_DECODER(name) decoder_##name(),
#include "trainers/decoding/decoders.def"
#undef COOPGEN_DECODER
  };
  return kinds;
}

}  // namespace

const std::vector<DecoderKind>& decoders() { return registry(); }

std::vector<std::string> decoder_names() {
  std::vector<std::string> names;
  for (const DecoderKind& k : registry()) names.push_back(k.name);
  return names;
}

const DecoderKind& decoder_named(const std::string& name, const std::string& key) {
  for (const DecoderKind& k : registry())
    if (k.name == name) return k;
  std::string known;
  for (const std::string& n : decoder_names()) known += (known.empty() ? "" : ", ") + n;
  fail(key, " '", name, "': expected one of ", known);
}

void register_decoder(DecoderKind kind) {
  for (const DecoderKind& k : registry())
    if (k.name == kind.name) fail("decoder '", kind.name, "' is registered twice");
  CG_CHECK(bool(kind.decode), "decoder '", kind.name, "' has no decode");
  registry().push_back(std::move(kind));
}

}  // namespace coopgen
