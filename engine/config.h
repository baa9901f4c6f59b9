// YAML configs mapped onto typed structs. A struct lists its keys once, in a visit() template
// that both the reader and the writer walk:
//
//   struct OptimConfig {
//     double lr = 3e-4;
//     template <class V> void visit(V& v) { v("lr", lr); v.one_of("schedule", kind, {"constant", "cosine"}); }
//   };
//
// Reading fails with one line naming file:line and the key's dotted path for an unknown key, a
// wrong type, a value outside its choices, or a missing required key. `key.sub=value` overrides
// from the command line are applied to the YAML tree first and named as such in errors.
#pragma once
#include <array>
#include <cmath>
#include <concepts>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "core/range.h"

namespace coopgen {

struct ConfigSource {
  std::string file;                               // shown in every message
  std::map<std::string, std::string> overridden;  // dotted path -> "path=value" as given
  std::map<std::string, std::string> origin;      // dotted path -> the file it was read from (include:)
  // The file a key at `path` was read from: the nearest recorded ancestor's, else `file`.
  const std::string& file_of(std::string path) const {
    for (;;) {
      if (auto it = origin.find(path); it != origin.end()) return it->second;
      const size_t dot = path.rfind('.');
      if (dot == std::string::npos) return file;
      path.resize(dot);
    }
  }
};

enum class Need { Optional, Required };

// An enumerated key: an enum class whose spellings are declared once, beside it, in its order, by
// a config_names overload that argument-dependent lookup finds:
//   enum class Schedule { constant, warmup_linear, cosine };
//   constexpr std::array<const char*, 3> config_names(Schedule) { return {"constant", "warmup_linear", "cosine"}; }
// The reader takes one of the spellings and refuses any other, naming them; the writer writes the
// spelling; name_of gives it for messages. Code branches on the enum (a switch the compiler checks
// for a forgotten value, -Werror=switch), never on the string.
template <class E>
concept ConfigEnum = std::is_enum_v<E> && requires(E e) { config_names(e); };
template <ConfigEnum E> constexpr const char* name_of(E e) { return config_names(e)[size_t(e)]; }
// A key whose type reads and writes its own text: T::parse(text) (a coopgen::Error for text it
// refuses, reported at the key's line) and t.str() (e.g. CheckpointRef, models/checkpoint_ref.h).
template <class T>
concept ConfigText = requires(const T& t, const std::string& s) {
  { T::parse(s) } -> std::same_as<T>;
  { t.str() } -> std::convertible_to<std::string>;
};
// The value spelled `s` (none for another spelling), and every spelling joined by `sep` for the
// message that refuses one: the config reader's and the benchmarks' options'.
template <ConfigEnum E> std::optional<E> enum_named(const std::string& s) {
  const auto names = config_names(E{});
  for (size_t i = 0; i < names.size(); ++i)
    if (s == names[i]) return E(i);
  return std::nullopt;
}
template <ConfigEnum E> std::string enum_spellings(const char* sep) {
  std::string out;
  for (const char* name : config_names(E{})) out += (out.empty() ? "" : sep) + std::string(name);
  return out;
}

// The most sequences a count key may ask for (data sizes, evaluation samples, candidates; the
// benchmarks hold 10,000), and the most rows one batch may hold (batch sizes, samples per step,
// beams): far above any run that fits a machine, and low enough that no product of sizes
// overflows. Larger values are typos, refused at parse time naming the key.
inline constexpr double kMaxSequences = 1e8, kMaxBatch = 1e6;

class ConfigReader {
 public:
  ConfigReader(YAML::Node node, const ConfigSource& src, std::string path)
      : node_(std::move(node)), src_(src), path_(std::move(path)) {
    if (node_ && !node_.IsNull() && !node_.IsMap())
      error(node_, path_.empty() ? "the config" : path_, "expected a mapping of keys");
  }

  template <class T> void operator()(const char* key, T& field, Need need = Need::Optional) {
    known_.insert(key);
    const std::string path = child_path(key);
    YAML::Node value = lookup(key);
    if (!value) {
      if (need == Need::Required) error(node_, path, "missing required key");
      return;
    }
    read(value, path, field);
  }

  // A numeric key whose value must lie in `range`.
  template <class T> void operator()(const char* key, T& field, const Range& range, Need need = Need::Optional) {
    (*this)(key, field, need);
    if (!range.contains(double(field))) {
      std::ostringstream got;
      got << field;
      error(lookup(key), child_path(key), got.str() + " is outside the allowed range " + range.describe());
    }
  }

  // A string key whose value must be one of `choices` (a fixed list, or a registry's names).
  void one_of(const char* key, std::string& field, const std::vector<std::string>& choices, Need need = Need::Optional) {
    (*this)(key, field, need);
    std::string list;
    for (const std::string& c : choices) {
      if (field == c) return;
      list += (list.empty() ? "" : ", ") + c;
    }
    error(lookup(key), child_path(key), "'" + field + "' is not one of: " + list);
  }
  void one_of(const char* key, std::string& field, std::initializer_list<const char*> choices,
              Need need = Need::Optional) {
    one_of(key, field, std::vector<std::string>(choices.begin(), choices.end()), need);
  }

  // A condition between keys (e.g. model.heads divides model.d_model), checked once `key` is read:
  // false is an error at that key's line saying `what`.
  void require(const char* key, bool ok, const std::string& what) const {
    if (!ok) error(lookup(key), child_path(key), what);
  }

  // Unknown keys: call after every key was visited.
  void finish() const {
    if (!node_ || !node_.IsMap()) return;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string key = it->first.Scalar();  // keys are scalars: load_yaml checked
      if (known_.count(key)) continue;
      std::string list;
      for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
      error(it->first, child_path(key.c_str()), "unknown key (known here: " + list + ")");
    }
  }

 private:
  template <class T> static constexpr bool is_struct = requires(T& t, ConfigReader& r) { t.visit(r); };

  YAML::Node lookup(const char* key) const {
    if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    for (auto it = node_.begin(); it != node_.end(); ++it)
      if (it->first.Scalar() == key) return it->second;
    return YAML::Node(YAML::NodeType::Undefined);
  }

  std::string child_path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  template <class T> void read(const YAML::Node& value, const std::string& path, T& field) const {
    if constexpr (is_struct<T>) {
      ConfigReader sub(value, src_, path);
      field.visit(sub);
      sub.finish();
    } else if constexpr (ConfigEnum<T>) {
      std::string spelling;
      read(value, path, spelling);
      const std::optional<T> named = enum_named<T>(spelling);
      if (!named) error(value, path, "'" + spelling + "' is not one of: " + enum_spellings<T>(", "));
      field = *named;
    } else if constexpr (ConfigText<T>) {
      std::string text;
      read(value, path, text);
      try {
        field = T::parse(text);
      } catch (const Error& e) {
        error(value, path, e.what());
      }
    } else if constexpr (requires { typename T::value_type; } && !std::is_same_v<T, std::string>) {
      if (!value.IsSequence()) error(value, path, "expected a list");
      field.clear();
      for (size_t k = 0; k < value.size(); ++k) {
        typename T::value_type item{};
        read(value[k], path + "[" + std::to_string(k) + "]", item);
        field.push_back(item);
      }
    } else {
      if (!value.IsScalar()) error(value, path, std::string("expected ") + type_name<T>());
      T parsed{};
      if (!YAML::convert<T>::decode(value, parsed))
        error(value, path, std::string("expected ") + type_name<T>() + ", got '" + value.Scalar() + "'");
      if constexpr (std::is_floating_point_v<T>)  // .inf and .nan pass every range check: refused here
        if (!std::isfinite(parsed)) error(value, path, "'" + value.Scalar() + "' is not a finite number");
      field = parsed;
    }
  }

  template <class T> static const char* type_name() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) return "a non-negative integer";
    else if constexpr (std::is_integral_v<T>) return "an integer";
    else if constexpr (std::is_floating_point_v<T>) return "a number";
    else return "a string";
  }

  [[noreturn]] void error(const YAML::Node& at, const std::string& path, const std::string& what) const {
    auto ov = src_.overridden.find(path);
    if (ov != src_.overridden.end()) fail("command-line override '", ov->second, "': ", path, ": ", what);
    const YAML::Mark mark = at.IsDefined() ? at.Mark() : node_.Mark();
    const std::string& file = src_.file_of(at.IsDefined() ? path : path_);
    if (mark.line >= 0) fail(file, ":", mark.line + 1, ": ", path, ": ", what);
    fail(file, ": ", path, ": ", what);
  }

  YAML::Node node_;
  const ConfigSource& src_;
  std::string path_;
  std::set<std::string> known_;
};

// Emits a config struct back as YAML (the resolved config saved in each run folder).
class ConfigWriter {
 public:
  explicit ConfigWriter(YAML::Emitter& out) : out_(out) {}
  template <class T> void operator()(const char* key, const T& field, Need = Need::Optional) {
    out_ << YAML::Key << key << YAML::Value;
    write(field);
  }
  template <class T> void operator()(const char* key, const T& field, const Range&, Need need = Need::Optional) {
    (*this)(key, field, need);
  }
  template <class Choices> void one_of(const char* key, const std::string& field, const Choices&, Need need = Need::Optional) {
    (*this)(key, field, need);
  }
  void one_of(const char* key, const std::string& field, std::initializer_list<const char*>, Need need = Need::Optional) {
    (*this)(key, field, need);
  }
  void require(const char*, bool, const std::string&) const {}

 private:
  template <class T> void write(const T& field) {
    if constexpr (requires(T& t, ConfigWriter& w) { t.visit(w); }) {
      out_ << YAML::BeginMap;
      const_cast<T&>(field).visit(*this);
      out_ << YAML::EndMap;
    } else if constexpr (requires { typename T::value_type; } && !std::is_same_v<T, std::string>) {
      out_ << YAML::Flow << YAML::BeginSeq;
      for (const auto& item : field) write(item);
      out_ << YAML::EndSeq;
    } else if constexpr (ConfigEnum<T>) {
      out_ << name_of(field);
    } else if constexpr (ConfigText<T>) {
      out_ << field.str();
    } else {
      out_ << field;
    }
  }
  YAML::Emitter& out_;
};

// Parses `file` (missing, not a regular file, or malformed: one-line error naming it) and the
// configs it includes (`include: base.yaml` or a list, relative to the file: each included file's
// keys first, in order, then the file's own on top, mappings merged key by key and any other value
// replaced; a missing file, a cycle or more than kMaxConfigIncludes files read is an error at the
// include's line; errors in an included key name the file it came from), applies
// `key.sub=value` overrides, and returns the YAML tree with a record of what came from the command
// line. An override's value is the text after '=' as it stands ("run_dir=runs/exp #3" is that
// folder; no YAML comment or tag is interpreted); a value wholly in quotes is that YAML quoted
// string (key="" is empty), and one starting with '[' or '{' a YAML flow list or map. A tree that expands to more than kMaxConfigNodes nodes (YAML aliases nested in
// aliases) is refused.
inline constexpr int64_t kMaxConfigNodes = 100000;
inline constexpr int kMaxConfigIncludes = 64;
YAML::Node load_yaml(const std::string& file, const std::vector<std::string>& overrides,
                     ConfigSource& src);
// The same from a config's text; `name` (its file) starts every error message.
YAML::Node parse_yaml(const std::string& text, const std::string& name, const std::vector<std::string>& overrides,
                      ConfigSource& src);

// A config struct from a YAML tree (unknown keys, wrong types, values out of range: errors).
template <class Cfg> Cfg read_config(const YAML::Node& root, const ConfigSource& src) {
  Cfg cfg;
  ConfigReader reader(root, src, "");
  cfg.visit(reader);
  reader.finish();
  return cfg;
}

template <class Cfg>
Cfg load_config(const std::string& file, const std::vector<std::string>& overrides = {}) {
  ConfigSource src;
  const YAML::Node root = load_yaml(file, overrides, src);
  return read_config<Cfg>(root, src);
}

template <class Cfg> std::string dump_config(const Cfg& cfg) {
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  ConfigWriter writer(out);
  out << YAML::BeginMap;
  const_cast<Cfg&>(cfg).visit(writer);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace coopgen
