// Numbers in text a user wrote (command-line flags, token-id files): the whole text must be the
// number, so "1e3" is never read as 1 nor "12x" as 12, and every refusal names the flag and value.
// One parser for every flag of the `coopgen` command and the benchmarks. A leaf header.
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace coopgen {

// `text` as a decimal integer ("12", "-3"), or nullopt: "", "1e3", "12x", " 12", "+1", past int64.
inline std::optional<int64_t> parse_whole(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// `text` as a finite decimal number ("0.5", "1e-3", "2"), or nullopt: "inf", "nan", "1,5", "0.5 ".
inline std::optional<double> parse_finite(std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// A flag's value as a whole number in [lo, hi]; otherwise an error naming the flag, the value and
// what it accepts: "--num abc: expected a whole number from 1 to 1000000000".
inline int64_t whole_flag(std::string_view flag, std::string_view text, int64_t lo, int64_t hi) {
  const std::optional<int64_t> v = parse_whole(text);
  if (!v || *v < lo || *v > hi) fail(flag, " ", text, ": expected a whole number from ", lo, " to ", hi);
  return *v;
}

// A flag's value as a finite number in [lo, hi] ("--alphas 1,x": "expected a number ...").
inline double number_flag(std::string_view flag, std::string_view text, double lo, double hi) {
  const std::optional<double> v = parse_finite(text);
  if (!v || *v < lo || *v > hi) fail(flag, " ", text, ": expected a number from ", lo, " to ", hi);
  return *v;
}

// A comma-separated list of such numbers ("0.9,1,1.5"), at least one.
inline std::vector<double> number_list_flag(std::string_view flag, std::string_view text, double lo, double hi) {
  std::vector<double> out;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const std::optional<double> v = parse_finite(item);
    if (!v || *v < lo || *v > hi)
      fail(flag, " ", text, ": '", item, "' is not a number from ", lo, " to ", hi, " (expected a list such as 0.9,1,1.5)");
    out.push_back(*v);
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

}  // namespace coopgen
