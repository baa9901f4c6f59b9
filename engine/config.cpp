#include "engine/config.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "engine/io.h"
#include "engine/utf8.h"

namespace coopgen {

// yaml-cpp keeps both entries of a key written twice in one mapping (a lookup sees the first):
// refused here, naming the second occurrence's line and the key's dotted path. `budget` counts the
// nodes walked: an alias is walked again wherever it is used, so ten nested aliases of ten items
// each would be 10^10 visits; past kMaxConfigNodes the config is refused instead.
static void check_unique_keys(const YAML::Node& node, const std::string& file, const std::string& path, int64_t& budget) {
  if (--budget < 0)
    fail(file, ":", node.Mark().line + 1, ": ", path.empty() ? "the config" : path, ": the config expands to more than ",
         kMaxConfigNodes, " values (YAML aliases nested in aliases?)");
  if (node.IsMap()) {
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar())
        fail(file, ":", it->first.Mark().line + 1, ": ", path.empty() ? "the config" : path, ": a key that is not a plain word");
      const std::string key = it->first.Scalar(), child = path.empty() ? key : path + "." + key;
      if (!seen.insert(key).second)
        fail(file, ":", it->first.Mark().line + 1, ": ", child, ": the key appears twice in one mapping");
      check_unique_keys(it->second, file, child, budget);
    }
  } else if (node.IsSequence()) {
    for (size_t k = 0; k < node.size(); ++k) check_unique_keys(node[k], file, path + "[" + std::to_string(k) + "]", budget);
  }
}

// One YAML document: UTF-8, valid YAML, a mapping, no key twice, bounded expansion.
static YAML::Node parse_document(const std::string& text, const std::string& file) {
  if (const size_t bad = invalid_utf8_at(text); bad != std::string::npos) fail(file, ": not UTF-8 (byte ", bad, ")");
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail(file, ":", e.mark.line + 1, ":", e.mark.column + 1, ": YAML syntax error: ", e.msg);
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) fail(file, ": the config must be a mapping of keys");
  int64_t budget = kMaxConfigNodes;
  check_unique_keys(root, file, "", budget);
  return root;
}

// Lays `top` over `base` (both mappings): a key in both whose values are both mappings is merged
// key by key, any other key of `top` replaces the base's. Every key set from `top` is recorded in
// `origin` as coming from `file` (its subtree's earlier records dropped).
static void merge_over(YAML::Node base, const YAML::Node& top, const std::string& prefix, const std::string& file,
                       std::map<std::string, std::string>& origin) {
  for (auto it = top.begin(); it != top.end(); ++it) {
    const std::string key = it->first.Scalar(), path = prefix.empty() ? key : prefix + "." + key;
    if (it->second.IsMap() && base[key] && base[key].IsMap()) {
      merge_over(base[key], it->second, path, file, origin);
      continue;
    }
    base.remove(key);  // the file's own key node (its line) goes in, not a copy of the name
    base.force_insert(it->first, it->second);
    origin.erase(origin.lower_bound(path + "."), origin.lower_bound(path + "/"));  // '/' follows '.'
    origin[path] = file;
  }
}

namespace fs = std::filesystem;

// `file` with the configs it includes merged under it (load_yaml). `chain`: the files being read,
// outermost first, to refuse a cycle; `reads` counts files read, to bound a diamond of includes.
static YAML::Node resolve_includes(const std::string& file, ConfigSource& src, std::vector<std::string>& chain, int& reads) {
  YAML::Node own = parse_document(read_file(file), file);
  const YAML::Node include = own["include"];
  if (!include) return own;
  const std::string where = file + ":" + std::to_string(include.Mark().line + 1) + ": include";
  std::vector<std::string> names;
  if (include.IsScalar()) names.push_back(include.Scalar());
  else if (include.IsSequence())
    for (const YAML::Node& n : include) {
      if (!n.IsScalar()) fail(where, ": expected a file name or a list of file names");
      names.push_back(n.Scalar());
    }
  else fail(where, ": expected a file name or a list of file names");
  own.remove("include");
  chain.push_back(fs::weakly_canonical(file).string());
  YAML::Node merged(YAML::NodeType::Map);
  for (const std::string& name : names) {
    const fs::path path = fs::path(file).parent_path() / name;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) fail(where, ": ", name, ": no such file (", path.string(), ")");
    const std::string canonical = fs::weakly_canonical(path).string();
    if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
      std::string cycle;
      for (const std::string& f : chain) cycle += f + " -> ";
      fail(where, ": ", name, " includes itself: ", cycle + canonical);
    }
    if (++reads > kMaxConfigIncludes) fail(where, ": more than ", kMaxConfigIncludes, " files included in all");
    merge_over(merged, resolve_includes(path.string(), src, chain, reads), "", path.string(), src.origin);
  }
  chain.pop_back();
  merge_over(merged, own, "", file, src.origin);
  return merged;
}

// key.sub=value overrides, in order, over `root`.
static void apply_overrides(YAML::Node root, const std::vector<std::string>& overrides, ConfigSource& src) {
  for (const std::string& ov : overrides) {
    const size_t eq = ov.find('=');
    if (eq == std::string::npos || eq == 0)
      fail("command-line override '", ov, "': expected key.sub=value");
    const std::string path = ov.substr(0, eq);
    const std::string value_text = ov.substr(eq + 1);
    YAML::Node value(value_text);
    const bool quoted = value_text.size() >= 2 && (value_text[0] == '"' || value_text[0] == '\'') && value_text.back() == value_text[0];
    if (quoted || (!value_text.empty() && (value_text[0] == '[' || value_text[0] == '{'))) {
      try {
        value = YAML::Load(value_text);
      } catch (const YAML::ParserException& e) {
        fail("command-line override '", ov, "': cannot parse the value: ", e.msg);
      }
    }
    int64_t override_budget = kMaxConfigNodes;
    check_unique_keys(value, "command-line override '" + ov + "'", ov.substr(0, eq), override_budget);
    // Walk/create the maps along the dotted path. Node::reset rebinds (operator= would assign).
    YAML::Node cur;
    cur.reset(root);
    size_t start = 0;
    for (;;) {
      const size_t dot = path.find('.', start);
      const std::string seg = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (seg.empty()) fail("command-line override '", ov, "': empty key in '", path, "'");
      if (dot == std::string::npos) {
        cur[seg] = value;
        break;
      }
      if (!cur[seg] || !cur[seg].IsMap()) cur[seg] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = cur[seg];
      cur.reset(next);
      start = dot + 1;
    }
    src.overridden[path] = ov;
  }
}

YAML::Node load_yaml(const std::string& file, const std::vector<std::string>& overrides, ConfigSource& src) {
  src.file = file;
  std::vector<std::string> chain;
  int reads = 0;
  YAML::Node root = resolve_includes(file, src, chain, reads);
  apply_overrides(root, overrides, src);
  return root;
}

YAML::Node parse_yaml(const std::string& text, const std::string& file, const std::vector<std::string>& overrides,
                      ConfigSource& src) {
  src.file = file;
  YAML::Node root = parse_document(text, file);
  if (const YAML::Node include = root["include"])
    fail(file, ":", include.Mark().line + 1, ": include: only a config read from a file can include others");
  apply_overrides(root, overrides, src);
  return root;
}

}  // namespace coopgen
