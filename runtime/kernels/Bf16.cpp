//===- Bf16.cpp - fp32 <-> bf16 conversion --------------------------------===//

#include "runtime/kernels/Bf16.h"
#include "runtime/kernels/Cpu.h"
#include "runtime/kernels/Detail.h"

namespace giga::kernels {

void toBf16(uint16_t *out, const float *in, int64_t n) {
  detail::parallelRanges(n, detail::kMinElementsPerThread,
                         [&](int64_t begin, int64_t end) {
                           for (int64_t i = begin; i < end; ++i)
                             out[i] = toBf16(in[i]);
                         });
}

bool hasBf16Arithmetic() {
  CpuIsa isa = hostCpu().isa;
  return isa == CpuIsa::Avx512Bf16 || isa == CpuIsa::AmxBf16;
}

} // namespace giga::kernels
