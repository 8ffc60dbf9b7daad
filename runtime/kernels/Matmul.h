//===- Matmul.h - (batched) matmul through oneDNN, fp32 or bf16 -*- C++ -*-===//
//
// C[b] = alpha * op(A[b]) * op(B[b])  (+ C[b] when accumulating)
//
// All buffers are dense row-major fp32. op(A) is m x k and op(B) is k x n:
//   A is stored [batch, m, k], or [batch, k, m] when transA;
//   B is stored [batch, k, n], or [batch, n, k] when transB; with broadcastB
//     B is one 2-D matrix shared by every batch entry;
//   C is [batch, m, n].
//
// In MatmulPrecision::Bf16 the product rounds A and B to bf16 (Bf16.h) and
// accumulates in fp32 into the fp32 C: the CPU's bf16 units (AMX, AVX512_BF16)
// multiply several times faster than its fp32 FMAs. Operands are converted as
// each product runs, into per-thread scratch, so callers keep fp32 buffers
// (the weight store's masters among them).
//
// oneDNN primitives are expensive to create (JIT), so a MatmulPlan creates one
// once and runs it many times. matmul() keeps plans in a per-thread cache keyed
// by the shape, which is what the kernels in this library use.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_MATMUL_H
#define GIGA_RUNTIME_KERNELS_MATMUL_H

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace giga::kernels {

enum class MatmulPrecision { F32, Bf16 };
/// "fp32" or "bf16", as gigarun --precision spells them.
const char *precisionName(MatmulPrecision precision);

struct MatmulShape {
  int64_t batch = 1;
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  bool transA = false;
  bool transB = false;
  bool broadcastB = false;
  /// C += alpha * op(A) op(B) instead of C = ... (BLAS beta = 1); backward
  /// passes use it to sum weight gradients over every use of a weight.
  bool accumulate = false;
  float alpha = 1.0f;
  MatmulPrecision precision = MatmulPrecision::F32;
  /// Created for and run on the calling thread alone, for a kernel that runs
  /// several products at once on its own threads (attention, a head per
  /// thread): oneDNN splits a product's work for the thread count it is
  /// created with, and inside a parallel region runs it on one thread.
  bool serial = false;

  auto key() const {
    return std::make_tuple(batch, m, n, k, transA, transB, broadcastB,
                           accumulate, alpha, precision, serial);
  }
  bool operator<(const MatmulShape &other) const { return key() < other.key(); }
  bool operator==(const MatmulShape &other) const {
    return key() == other.key();
  }
  std::string str() const;
};

/// One oneDNN matmul primitive, created at construction (throws
/// std::invalid_argument on a bad shape, or for Bf16 on a CPU without bf16
/// arithmetic, where oneDNN would emulate it many times slower than fp32)
/// and run any number of times.
/// run() may be called from several threads at once: each execution gets its
/// calling thread's scratchpad.
class MatmulPlan {
public:
  explicit MatmulPlan(const MatmulShape &shape);
  ~MatmulPlan();
  MatmulPlan(MatmulPlan &&) noexcept;
  MatmulPlan &operator=(MatmulPlan &&) noexcept;

  void run(const float *a, const float *b, float *c) const;
  /// run() given A's or B's bf16 copy (or both; null: convert it here), for
  /// a Bf16 plan whose caller keeps a weight's copy rounded once; an F32 plan
  /// ignores them.
  void run(const float *a, const float *b, float *c, const void *aBf16,
           const void *bBf16) const;
  /// run() with A and B already in the plan's precision: fp32, or bf16
  /// (uint16_t, toBf16) for Bf16, so that a kernel multiplying one operand
  /// several times converts it once.
  void runConverted(const void *a, const void *b, float *c) const;
  const MatmulShape &shape() const { return shape_; }

private:
  struct Primitive;
  MatmulShape shape_;
  std::unique_ptr<Primitive> primitive_;
  /// One row times a matrix, which loops here multiply at the memory's
  /// bandwidth (Matmul.cpp's rowTimesMatrix).
  bool rowTimesMatrix_ = false;
};

/// An operand as a plan of `precision` multiplies it: the fp32 buffer itself,
/// or its bf16 copy, converted once and passed to MatmulPlan::runConverted by
/// every product that reads it (the fused loss's x and weight chunks,
/// attention's q, k, v and probabilities).
class MatmulOperand {
public:
  explicit MatmulOperand(MatmulPrecision precision)
      : bf16(precision == MatmulPrecision::Bf16) {}
  /// x itself, or x[0..n) converted to bf16 into this object's copy (valid
  /// until the next call).
  const void *of(const float *x, int64_t n);

private:
  bool bf16;
  std::vector<uint16_t> copy;
};

/// Runs `shape` with a plan from the calling thread's cache (created on first
/// use of that shape).
void matmul(const MatmulShape &shape, const float *a, const float *b, float *c);

/// Number of plans in the calling thread's cache (for tests and reports).
size_t matmulCacheSize();

/// Threads oneDNN may use for matmuls (default 1: on this machine a single
/// thread is fastest, see docs/kernels.md). Applies to every thread that runs
/// a matmul afterwards.
void setMatmulThreads(int threads);
int matmulThreads();

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_MATMUL_H
