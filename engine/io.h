// Files: atomic writes, safetensors (the format PyTorch users load with safetensors.torch.load_file)
// and checkpoints (a folder holding model.safetensors and a small JSON of trainer state).
// Every write goes to a temporary file that is renamed into place, so a crash never leaves a
// half-written file; every read validates sizes and names the file and tensor at fault.
#pragma once
#include <json/json.h>

#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/optim.h"
#include "engine/tensor.h"

namespace coopgen {

// Writes `bytes` to `path` through `path.tmp-<pid>`, fsync and rename.
void atomic_write(const std::string& path, const std::string& bytes);

// Every input file is opened here: `path` must be a readable regular file (or a link to one); a
// folder, a device or a missing file is an error naming the path and what it is, so a folder given
// as a config is refused rather than read as an empty file.
std::ifstream open_input(const std::string& path);
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
  // The number `key` as a whole number in [lo, hi] (a step, a size, a token id: a run's own files
  // are input too, and a hand-edited "step": -5 must not reach an index); `file` names the state in
  // errors. A missing key is an error too.
  int64_t count(const std::string& key, int64_t lo, int64_t hi, const std::string& file) const;
};

// dir/model.safetensors + dir/trainer_state.json, built in a sibling temporary folder that then
// replaces `dir`; an existing checkpoint stays intact until the new one is complete.
void save_checkpoint(const std::string& dir, const NamedTensors& tensors, const TrainerState& state);
// trainer_state.json's text: a strict JSON object of numbers and strings; `name` starts every error.
TrainerState parse_trainer_state(const std::string& json, const std::string& name);
std::map<std::string, Tensor> load_checkpoint(const std::string& dir, TrainerState* state);

// A loaded weight must be finite: NaN or ±∞ anywhere in `t` (a CPU tensor as read) is an error
// naming the file and the tensor, before it reaches a model (a diverged run's checkpoint, a corrupt
// file).
void check_finite(const Tensor& t, const std::string& file, const std::string& name);

std::string json_quote(const std::string& s);

// The JSON coopgen writes (metrics.jsonl rows, trainer_state.json, exported config.json): an object
// whose keys keep the order they were added in, as RFC 8259 text on one line,
// {"step": 3500, "nll_oracle": 1.9}, or one key per line. A number has `digits` significant digits
// (17: the double round-trips); a non-finite one, which JSON cannot hold, is written as null.
class JsonWriter {
 public:
  JsonWriter& number(const std::string& key, double value, int digits = 17);
  JsonWriter& string(const std::string& key, const std::string& value);
  // A value that is JSON text already: true, null, a list of strings.
  JsonWriter& json(const std::string& key, const std::string& text);
  std::string line() const;   // one line, no newline
  std::string lines() const;  // "{\n  \"a\": 1,\n  ...\n}\n"

 private:
  std::vector<std::pair<std::string, std::string>> items_;  // quoted key, JSON value
};

// A parsed value (e.g. one read from a user's file, shown in an error message) as one line of JSON.
std::string json_text(const Json::Value& value);

// `text` as a strict JSON object (RFC 8259: no comments, no trailing commas, a key at most once;
// valid UTF-8); anything else is an error starting with `what` (the file and its role).
Json::Value parse_json(const std::string& text, const std::string& what);

}  // namespace coopgen
