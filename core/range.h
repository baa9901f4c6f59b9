// The values a numeric setting allows, declared beside the setting (config sections, the sampler's
// truncation rules in kernels/truncation/) and checked when the config is read. A leaf header.
#pragma once
#include <limits>
#include <sstream>
#include <string>

namespace coopgen {

// lo ≤ x ≤ hi, either end open (lo < x, x < hi). Checked when the config is read, so a value that
// would fail hours later fails at once, naming the key.
struct Range {
  double lo, hi;
  bool lo_open = false, hi_open = false;
  bool contains(double x) const { return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi); }
  std::string describe() const {
    std::ostringstream s;
    if (hi == std::numeric_limits<double>::infinity()) s << (lo_open ? "> " : "≥ ") << lo;
    else s << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]");
    return s.str();
  }
};
inline constexpr double kUnbounded = std::numeric_limits<double>::infinity();

}  // namespace coopgen
