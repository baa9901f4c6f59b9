// Files: atomic writes, safetensors (the format PyTorch users load with safetensors.torch.load_file)
// and checkpoints (a folder holding model.safetensors and a small JSON of trainer state).
// Every write goes to a temporary file that is renamed into place, so a crash never leaves a
// half-written file; every read validates sizes and names the file and tensor at fault.
#pragma once
#include <json/json.h>

#include <map>
#include <string>

#include "engine/optim.h"
#include "engine/tensor.h"

namespace coopgen {

// Writes `bytes` to `path` through `path.tmp-<pid>`, fsync and rename.
void atomic_write(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);

using Metadata = std::map<std::string, std::string>;

// Tensors are written in the given order (copied to the host first); names must be unique.
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});
// CPU tensors by name. Fails on a truncated file, a malformed header, an unsupported dtype, or
// data offsets that do not match the shape.
std::map<std::string, Tensor> load_safetensors(const std::string& path, Metadata* metadata = nullptr);
// The same from a file's bytes; `name` (the file) starts every error message.
std::map<std::string, Tensor> parse_safetensors(const std::string& bytes, const std::string& name,
                                                Metadata* metadata = nullptr);

// Trainer state: numbers (step, epoch, data position, seeds, metrics) and strings.
struct TrainerState {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;
};

// dir/model.safetensors + dir/trainer_state.json, built in a sibling temporary folder that then
// replaces `dir`; an existing checkpoint stays intact until the new one is complete.
void save_checkpoint(const std::string& dir, const NamedTensors& tensors, const TrainerState& state);
// trainer_state.json's text: a strict JSON object of numbers and strings; `name` starts every error.
TrainerState parse_trainer_state(const std::string& json, const std::string& name);
std::map<std::string, Tensor> load_checkpoint(const std::string& dir, TrainerState* state);

std::string json_quote(const std::string& s);

// `text` as a strict JSON object (RFC 8259: no comments, no trailing commas, a key at most once;
// valid UTF-8); anything else is an error starting with `what` (the file and its role).
Json::Value parse_json(const std::string& text, const std::string& what);

}  // namespace coopgen
