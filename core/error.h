// One error family for the whole project, a leaf header that kernels/ and engine/ both include: a
// coopgen::Error carries a one-line message that names the file, key, tensor, kernel or rank at
// fault. The CLI prints it and exits 1.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace coopgen {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A message from any streamable parts.
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

// Throws the message built from the parts: fail("safetensors ", path, ": tensor '", n, "' ...").
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(cat(parts...));
}

}  // namespace coopgen

// Asserts stay on in release builds: a broken invariant is reported with its statement and place.
#define CG_CHECK(cond, ...)                                                                      \
  do {                                                                                           \
    if (!(cond)) ::coopgen::fail(__VA_ARGS__, " [", #cond, " at ", __FILE__, ":", __LINE__, "]"); \
  } while (0)
