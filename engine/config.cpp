#include "engine/config.h"

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

YAML::Node load_yaml(const std::string& file, const std::vector<std::string>& overrides,
                     ConfigSource& src) {
  return parse_yaml(read_file(file), file, overrides, src);
}

YAML::Node parse_yaml(const std::string& text, const std::string& file, const std::vector<std::string>& overrides,
                      ConfigSource& src) {
  src.file = file;
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
  return root;
}

}  // namespace coopgen
