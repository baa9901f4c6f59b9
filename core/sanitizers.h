// COOPGEN_ASAN: defined when this translation unit is built with AddressSanitizer, by gcc
// (__SANITIZE_ADDRESS__) or clang (__has_feature(address_sanitizer); clang 14 defines no macro),
// for the code that tells ASan about memory it manages itself (the caching allocator's poisoned
// free blocks, the emulator's fiber stacks).
#pragma once
#if defined(__SANITIZE_ADDRESS__)
#define COOPGEN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COOPGEN_ASAN 1
#endif
#endif
