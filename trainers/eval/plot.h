// A dependency-free PNG line plot (for the temperature-sweep curves): white canvas, axes with
// their ranges printed in a 5×7 digit font, one polyline with point markers per series.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace coopgen {

struct Series {
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in order
  unsigned rgb = 0x1f77b4;
};

// Writes an 8-bit RGB PNG (zlib stored blocks, CRC-checked chunks) atomically.
void write_plot_png(const std::string& path, const std::vector<Series>& series, int width = 640, int height = 480);

}  // namespace coopgen
