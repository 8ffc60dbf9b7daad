//===- CpuTest.cpp - peak FLOP/cycle per kind of CPU ----------------------===//

#include "runtime/kernels/Cpu.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace giga::kernels {
namespace {

CpuDescription describe(CpuIsa isa, bool amd, int family) {
  CpuDescription cpu;
  cpu.isa = isa;
  cpu.amd = amd;
  cpu.family = family;
  return cpu;
}

TEST(CpuPeak, Avx2MachinesHaveHalfTheAvx512Rate) {
  CpuPeak zen3 = cpuPeak(describe(CpuIsa::Avx2Fma, true, 0x19));
  EXPECT_EQ(zen3.fp32FlopsPerCycle, 32);
  EXPECT_EQ(zen3.bf16FlopsPerCycle, 0) << "no bf16 hardware on AVX2";
  EXPECT_NE(zen3.fp32Basis.find("AVX2+FMA"), std::string::npos);

  CpuPeak skylake = cpuPeak(describe(CpuIsa::Avx512, false, 6));
  EXPECT_EQ(skylake.fp32FlopsPerCycle, 64);
  EXPECT_EQ(skylake.bf16FlopsPerCycle, 0);
}

TEST(CpuPeak, AmxAndAvx512Bf16) {
  CpuPeak sapphireRapids = cpuPeak(describe(CpuIsa::AmxBf16, false, 6));
  EXPECT_EQ(sapphireRapids.fp32FlopsPerCycle, 64);
  EXPECT_EQ(sapphireRapids.bf16FlopsPerCycle, 1024);
  EXPECT_NE(sapphireRapids.bf16Basis.find("AMX"), std::string::npos);

  CpuPeak cooperLake = cpuPeak(describe(CpuIsa::Avx512Bf16, false, 6));
  EXPECT_EQ(cooperLake.bf16FlopsPerCycle, 128);
}

TEST(CpuPeak, Zen4RunsAvx512AtHalfWidthButZen5DoesNot) {
  EXPECT_EQ(cpuPeak(describe(CpuIsa::Avx512Bf16, true, 0x19)).fp32FlopsPerCycle,
            32);
  EXPECT_EQ(cpuPeak(describe(CpuIsa::Avx512Bf16, true, 0x1a)).fp32FlopsPerCycle,
            64);
}

TEST(CpuPeak, HostIsWhatOneDnnDispatchesTo) {
  const CpuDescription &host = hostCpu();
  EXPECT_GT(host.family, 0);
  CpuPeak peak = cpuPeak(host);
  EXPECT_GE(peak.fp32FlopsPerCycle, 16);
  // __builtin_cpu_supports reads CPUID as oneDNN does; ONEDNN_MAX_CPU_ISA may
  // only lower oneDNN's answer.
  const char *cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (cap && std::string(cap) == "AVX2" && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma")) {
    EXPECT_EQ(host.isa, CpuIsa::Avx2Fma) << cpuIsaName(host.isa);
    EXPECT_EQ(peak.fp32FlopsPerCycle, 32);
  } else if (!cap && !std::getenv("DNNL_MAX_CPU_ISA")) {
    EXPECT_EQ(host.isa >= CpuIsa::Avx512,
              bool(__builtin_cpu_supports("avx512f")))
        << cpuIsaName(host.isa);
    EXPECT_EQ(host.isa >= CpuIsa::Avx2Fma,
              __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        << cpuIsaName(host.isa);
  }
}

} // namespace
} // namespace giga::kernels
