//===- Cpu.h - the arithmetic peak of the CPU the kernels run on -*- C++
//-*-===//
//
// MFU divides achieved FLOP/s by a peak, and that peak depends on the machine:
// these machines are sometimes an Intel Xeon with AVX-512 and AMX, sometimes an
// AMD EPYC with AVX2 only. The ISA is the one oneDNN dispatches its matmuls to
// (so ONEDNN_MAX_CPU_ISA caps it too); FMA units per core are not visible
// through CPUID and come from the vendor's documentation, per ISA and vendor.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_CPU_H
#define GIGA_RUNTIME_KERNELS_CPU_H

#include <string>

namespace giga::kernels {

/// The widest arithmetic oneDNN uses on this CPU, coarsened to what changes
/// the peak.
enum class CpuIsa {
  Baseline,   // SSE4.1 / AVX without FMA
  Avx2Fma,    // 256-bit FMA (Haswell and later, Zen)
  Avx512,     // 512-bit FMA
  Avx512Bf16, // + vdpbf16ps (Cooper Lake, Zen 4)
  AmxBf16,    // + AMX tiles (Sapphire Rapids and later)
};

struct CpuDescription {
  CpuIsa isa = CpuIsa::Baseline;
  bool amd = false;
  /// CPUID family with the extended family added (0x19 = Zen 3/4, 0x1A = Zen
  /// 5).
  int family = 0;
};

/// Peak FLOP per cycle per core, with the reasoning as one readable phrase
/// ("AVX2+FMA: 2 FMA units x 8 lanes x 2 FLOP").
struct CpuPeak {
  double fp32FlopsPerCycle = 0.0;
  std::string fp32Basis;
  /// 0 when the CPU has no bf16 arithmetic (bf16 is then only emulated).
  double bf16FlopsPerCycle = 0.0;
  std::string bf16Basis;
};

/// This CPU, as oneDNN and CPUID see it (cached after the first call).
const CpuDescription &hostCpu();
/// The peak of a described CPU; pure, so tests can cover every kind.
CpuPeak cpuPeak(const CpuDescription &cpu);
/// A short name of the ISA: "AVX2+FMA", "AVX-512", "AVX-512+AMX-BF16", ...
const char *cpuIsaName(CpuIsa isa);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_CPU_H
