//===- Cpu.cpp - the arithmetic peak of the CPU the kernels run on --------===//

#include "runtime/kernels/Cpu.h"

#include <cpuid.h>
#include <cstring>
#include <dnnl.hpp>

namespace giga::kernels {

namespace {
CpuDescription detect() {
  CpuDescription cpu;
  switch (dnnl::get_effective_cpu_isa()) {
  case dnnl::cpu_isa::avx512_core_amx:
    cpu.isa = CpuIsa::AmxBf16;
    break;
  case dnnl::cpu_isa::avx512_core_bf16:
    cpu.isa = CpuIsa::Avx512Bf16;
    break;
  case dnnl::cpu_isa::avx512_core:
  case dnnl::cpu_isa::avx512_core_vnni:
  case dnnl::cpu_isa::avx512_mic:
  case dnnl::cpu_isa::avx512_mic_4ops:
    cpu.isa = CpuIsa::Avx512;
    break;
  case dnnl::cpu_isa::avx2:
  case dnnl::cpu_isa::avx2_vnni:
    cpu.isa = CpuIsa::Avx2Fma;
    break;
  default:
    cpu.isa = CpuIsa::Baseline;
  }
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx)) {
    char vendor[13] = {};
    std::memcpy(vendor, &ebx, 4);
    std::memcpy(vendor + 4, &edx, 4);
    std::memcpy(vendor + 8, &ecx, 4);
    cpu.amd = std::strcmp(vendor, "AuthenticAMD") == 0;
  }
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
    int base = (eax >> 8) & 0xf;
    cpu.family = base == 0xf ? base + int((eax >> 20) & 0xff) : base;
  }
  return cpu;
}
} // namespace

const CpuDescription &hostCpu() {
  static const CpuDescription cpu = detect();
  return cpu;
}

const char *cpuIsaName(CpuIsa isa) {
  switch (isa) {
  case CpuIsa::Baseline:
    return "SSE/AVX without FMA";
  case CpuIsa::Avx2Fma:
    return "AVX2+FMA";
  case CpuIsa::Avx512:
    return "AVX-512";
  case CpuIsa::Avx512Bf16:
    return "AVX-512+BF16";
  case CpuIsa::AmxBf16:
    return "AVX-512+AMX-BF16";
  }
  return "unknown";
}

CpuPeak cpuPeak(const CpuDescription &cpu) {
  CpuPeak peak;
  std::string isa = cpuIsaName(cpu.isa);
  switch (cpu.isa) {
  case CpuIsa::Baseline:
    // An upper bound (AVX's width) so MFU is never overstated on SSE-only CPUs.
    peak.fp32FlopsPerCycle = 16;
    peak.fp32Basis = isa + ": 1 add + 1 multiply unit x 8 lanes";
    break;
  case CpuIsa::Avx2Fma:
    peak.fp32FlopsPerCycle = 32;
    peak.fp32Basis = isa + ": 2 FMA units x 8 lanes x 2 FLOP";
    break;
  default:
    // Zen 4 runs 512-bit instructions on 256-bit units; Zen 5 and Intel's
    // server cores have two full-width FMA units.
    if (cpu.amd && cpu.family < 0x1a) {
      peak.fp32FlopsPerCycle = 32;
      peak.fp32Basis = isa + " on AMD Zen 4: 2 FMA units x 8 lanes x 2 FLOP";
    } else {
      peak.fp32FlopsPerCycle = 64;
      peak.fp32Basis = isa + ": 2 FMA units x 16 lanes x 2 FLOP";
    }
  }
  if (cpu.isa == CpuIsa::AmxBf16) {
    // One tile unit: tdpbf16ps multiplies 16x32 by 32x16 bf16 tiles (8192
    // multiply-adds) every 16 cycles; Intel's 1024 bf16 FLOP/cycle/core.
    peak.bf16FlopsPerCycle = 1024;
    peak.bf16Basis = "AMX-BF16: 1 tile unit x 1024 FLOP";
  } else if (cpu.isa == CpuIsa::Avx512Bf16) {
    // vdpbf16ps: 32 bf16 products summed in pairs into 16 fp32 lanes.
    peak.bf16FlopsPerCycle = 2 * peak.fp32FlopsPerCycle;
    peak.bf16Basis =
        "AVX-512 BF16 dot products: twice the fp32 FMA rate (vdpbf16ps)";
  }
  return peak;
}

} // namespace giga::kernels
