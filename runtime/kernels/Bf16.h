//===- Bf16.h - fp32 <-> bf16 conversion ------------------------*- C++ -*-===//
//
// bf16 keeps fp32's sign and 8-bit exponent and the top 7 bits of its
// mantissa: a bf16 value is the upper half of an fp32 bit pattern. Matmuls in
// bf16 precision (MatmulPrecision::Bf16) round their fp32 operands with
// toBf16 just before the product and accumulate in fp32, as PyTorch's
// autocast and oneDNN do.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_BF16_H
#define GIGA_RUNTIME_KERNELS_BF16_H

#include <cstdint>
#include <cstring>

namespace giga::kernels {

/// x rounded to the nearest bf16, ties to even (as vcvtneps2bf16 does); NaN
/// stays a (quiet) NaN of the same sign, +-inf stays infinite, values beyond
/// bf16's largest finite value round to infinity.
inline uint16_t toBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: keep it one, quietly
    return uint16_t((bits >> 16) | 0x0040u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

/// The fp32 value of a bf16 (exact: every bf16 is an fp32).
inline float fromBf16(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

/// out[i] = toBf16(in[i]) for i < n, over the matmul threads.
void toBf16(uint16_t *out, const float *in, int64_t n);

/// Whether this CPU multiplies bf16 in hardware (AVX512_BF16 or AMX-BF16):
/// bf16 matmuls elsewhere are emulated by oneDNN and far slower than fp32.
bool hasBf16Arithmetic();

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_BF16_H
