#include "trainers/eval/plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdint>

#include "core/error.h"
#include "engine/io.h"

namespace coopgen {

namespace {

struct Canvas {
  int w, h;
  std::vector<uint8_t> px;  // RGB rows
  Canvas(int width, int height) : w(width), h(height), px(size_t(width) * size_t(height) * 3, 255) {}
  void set(int x, int y, unsigned rgb) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    uint8_t* p = &px[(size_t(y) * size_t(w) + size_t(x)) * 3];
    p[0] = uint8_t(rgb >> 16), p[1] = uint8_t(rgb >> 8), p[2] = uint8_t(rgb);
  }
  void line(int x0, int y0, int x1, int y1, unsigned rgb) {  // Bresenham
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    for (int err = dx + dy;;) {
      set(x0, y0, rgb);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
  // Digits, '.', '-': 5×7 glyphs, one row per byte (low 5 bits).
  void text(int x, int y, const std::string& s, unsigned rgb) {
    static const std::array<std::array<uint8_t, 7>, 12> glyphs{{
        {14, 17, 19, 21, 25, 17, 14}, {4, 12, 4, 4, 4, 4, 14},   {14, 17, 1, 2, 4, 8, 31},
        {31, 2, 4, 2, 1, 17, 14},     {2, 6, 10, 18, 31, 2, 2},  {31, 16, 30, 1, 1, 17, 14},
        {6, 8, 16, 30, 17, 17, 14},   {31, 1, 2, 4, 8, 8, 8},    {14, 17, 17, 14, 17, 17, 14},
        {14, 17, 17, 15, 1, 2, 12},   {0, 0, 0, 0, 0, 12, 12},   {0, 0, 0, 31, 0, 0, 0}}};
    for (char c : s) {
      const int g = c >= '0' && c <= '9' ? c - '0' : c == '.' ? 10 : c == '-' ? 11 : -1;
      if (g >= 0)
        for (int r = 0; r < 7; ++r)
          for (int b = 0; b < 5; ++b)
            if (glyphs[size_t(g)][size_t(r)] >> (4 - b) & 1) set(x + b, y + r, rgb);
      x += 6;
    }
  }
};

uint32_t crc32(const uint8_t* data, size_t n, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put32(std::string& out, uint32_t v) {
  for (int k = 3; k >= 0; --k) out += char((v >> (8 * k)) & 0xff);
}

void chunk(std::string& png, const char* type, const std::string& data) {
  put32(png, uint32_t(data.size()));
  std::string body = std::string(type, 4) + data;
  png += body;
  put32(png, crc32(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
}

std::string encode_png(const Canvas& c) {
  std::string raw;  // filter byte 0 + RGB per row
  for (int y = 0; y < c.h; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(&c.px[size_t(y) * size_t(c.w) * 3]), size_t(c.w) * 3);
  }
  std::string z = "\x78\x01";  // zlib header, then deflate "stored" blocks of ≤ 65535 bytes
  for (size_t pos = 0; pos < raw.size(); pos += 65535) {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    z += char(pos + n == raw.size() ? 1 : 0);
    z += char(n & 0xff), z += char(n >> 8), z += char(~n & 0xff), z += char((~n >> 8) & 0xff);
    z.append(raw, pos, n);
  }
  uint32_t a = 1, b = 0;  // Adler-32
  for (unsigned char ch : raw) a = (a + ch) % 65521, b = (b + a) % 65521;
  put32(z, (b << 16) | a);
  std::string png = "\x89PNG\r\n\x1a\n", ihdr;
  put32(ihdr, uint32_t(c.w));
  put32(ihdr, uint32_t(c.h));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
}

std::string label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

}  // namespace

void write_plot_png(const std::string& path, const std::vector<Series>& series, int width, int height) {
  CG_CHECK(width >= 100 && height >= 100, "plot: canvas too small");
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Series& s : series)
    for (auto [x, y] : s.points) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  if (!(x1 >= x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // no points: empty axes
  if (x1 == x0) x0 -= 0.5, x1 += 0.5;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  Canvas c(width, height);
  const int left = 60, right = width - 20, top = 20, bottom = height - 40;
  c.line(left, bottom, right, bottom, 0x000000);
  c.line(left, top, left, bottom, 0x000000);
  c.text(left, bottom + 10, label(x0), 0x000000);
  c.text(right - 6 * int(label(x1).size()), bottom + 10, label(x1), 0x000000);
  c.text(4, bottom - 7, label(y0), 0x000000);
  c.text(4, top, label(y1), 0x000000);
  auto px = [&](double x) { return left + int(std::lround((x - x0) / (x1 - x0) * (right - left))); };
  auto py = [&](double y) { return bottom - int(std::lround((y - y0) / (y1 - y0) * (bottom - top))); };
  for (const Series& s : series)
    for (size_t k = 0; k < s.points.size(); ++k) {
      const int x = px(s.points[k].first), y = py(s.points[k].second);
      if (k) c.line(px(s.points[k - 1].first), py(s.points[k - 1].second), x, y, s.rgb);
      for (int d = -2; d <= 2; ++d) c.line(x - 2, y + d, x + 2, y + d, s.rgb);
    }
  atomic_write(path, encode_png(c));
}

}  // namespace coopgen
