// A registry of named kinds of one thing (decoders, discriminator kinds, metrics): the built-in
// ones, listed once in a .def file, then those added at run time (tests, plugins). A Kind has a
// `name` member. An unknown name is an error that lists the known ones; a name added twice too.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace coopgen {

template <class Kind> class Registry {
 public:
  // `what`: the thing, for errors ("decoder", "discriminator kind", "metric").
  Registry(const char* what, std::vector<Kind> builtin) : what_(what), kinds_(std::move(builtin)) {}
  const std::vector<Kind>& all() const { return kinds_; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Kind& k : kinds_) out.push_back(k.name);
    return out;
  }
  // The kind called `name`; an unknown one fails with "<key> '<name>': expected one of …".
  const Kind& named(const std::string& name, const std::string& key) const {
    for (const Kind& k : kinds_)
      if (k.name == name) return k;
    std::string known;
    for (const Kind& k : kinds_) known += (known.empty() ? "" : ", ") + k.name;
    fail(key, " '", name, "': expected one of ", known);
  }
  void add(Kind kind) {
    for (const Kind& k : kinds_)
      if (k.name == kind.name) fail(what_, " '", kind.name, "' is registered twice");
    kinds_.push_back(std::move(kind));
  }

 private:
  const char* what_;
  std::vector<Kind> kinds_;
};

}  // namespace coopgen
