// Strict UTF-8 (RFC 3629): what every reader of text and of JSON headers accepts. Refused: bytes
// that start no sequence, truncated sequences, overlong forms (a code point in more bytes than it
// needs), UTF-16 surrogates (U+D800–U+DFFF), and code points past U+10FFFF.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace coopgen {

// The offset of the first byte of the first invalid sequence, or npos when s is valid.
inline size_t invalid_utf8_at(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    char32_t cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return i;  // a continuation byte, or 0xF8–0xFF
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

inline bool valid_utf8(std::string_view s) { return invalid_utf8_at(s) == std::string_view::npos; }

// The byte-order mark U+FEFF (EF BB BF) at the start of a text, which is not part of its content.
inline std::string_view strip_bom(std::string_view s) { return s.substr(0, 3) == "\xEF\xBB\xBF" ? s.substr(3) : s; }

// The length of the whitespace character at s[i] (0 if none), with Python's str.isspace
// definition, which str.split() and the tools scored against (sacreBLEU, NLTK) use: ASCII
// \t \n \v \f \r, U+001C–U+001F, space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028,
// U+2029, U+202F, U+205F, U+3000. s must be valid UTF-8.
inline size_t whitespace_at(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return 1;
  if (c < 0xC2 || i + 1 >= s.size()) return 0;
  const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
  if (c == 0xC2) return c1 == 0x85 || c1 == 0xA0 ? 2 : 0;
  if (i + 2 >= s.size()) return 0;
  const unsigned char c2 = static_cast<unsigned char>(s[i + 2]);
  if (c == 0xE1) return c1 == 0x9A && c2 == 0x80 ? 3 : 0;                            // U+1680
  if (c == 0xE2 && c1 == 0x80) return (c2 <= 0x8A || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF) ? 3 : 0;  // U+2000–200A, 2028, 2029, 202F
  if (c == 0xE2 && c1 == 0x81) return c2 == 0x9F ? 3 : 0;                            // U+205F
  if (c == 0xE3) return c1 == 0x80 && c2 == 0x80 ? 3 : 0;                            // U+3000
  return 0;
}

// The words of s separated by runs of whitespace (Python's s.split()); s must be valid UTF-8.
inline std::vector<std::string> split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0, i = 0;
  while (i < s.size()) {
    if (const size_t w = whitespace_at(s, i)) {
      if (i > start) out.emplace_back(s.substr(start, i - start));
      i += w, start = i;
    } else {
      ++i;
    }
  }
  if (i > start) out.emplace_back(s.substr(start, i - start));
  return out;
}

}  // namespace coopgen
