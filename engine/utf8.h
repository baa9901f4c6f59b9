// Strict UTF-8 (RFC 3629): what every reader of text and of JSON headers accepts. Refused: bytes
// that start no sequence, truncated sequences, overlong forms (a code point in more bytes than it
// needs), UTF-16 surrogates (U+D800–U+DFFF), and code points past U+10FFFF.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

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

}  // namespace coopgen
