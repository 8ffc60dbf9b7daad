//===- Matmul.cpp - (batched) matmul through oneDNN, fp32 or bf16 --------===//

#include "runtime/kernels/Matmul.h"
#include "runtime/kernels/Bf16.h"
#include "runtime/kernels/Detail.h"

#include <atomic>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <dnnl.hpp>
#include <omp.h>
#if defined(__AVX512BF16__)
#include <immintrin.h>
#endif

namespace giga::kernels {
namespace {

using dnnl::memory;

std::atomic<int> requestedThreads{1};

// Debian's oneDNN is built with the GNU OpenMP runtime (DNNL_CPU_RUNTIME OMP,
// libgomp). omp_set_num_threads only changes the calling thread's setting, so
// it is applied on every thread that creates or runs a primitive.
void applyThreadCount(bool serial) {
  int threads = serial ? 1 : requestedThreads.load(std::memory_order_relaxed);
  if (omp_get_max_threads() != threads)
    omp_set_num_threads(threads);
}

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream &threadStream() {
  thread_local dnnl::stream stream(cpuEngine());
  return stream;
}

// Logical [batch, rows, cols]; stored [batch, cols, rows] when transposed.
memory::desc matrixDesc(int64_t batch, int64_t rows, int64_t cols,
                        bool transposed,
                        memory::data_type type = memory::data_type::f32) {
  memory::dims dims{batch, rows, cols};
  memory::dims strides = transposed ? memory::dims{rows * cols, 1, rows}
                                    : memory::dims{rows * cols, cols, 1};
  return memory::desc(dims, type, strides);
}

} // namespace

const char *precisionName(MatmulPrecision precision) {
  return precision == MatmulPrecision::Bf16 ? "bf16" : "fp32";
}

std::string MatmulShape::str() const {
  std::ostringstream os;
  os << "matmul batch=" << batch << " m=" << m << " n=" << n << " k=" << k
     << " transA=" << transA << " transB=" << transB
     << " broadcastB=" << broadcastB << " accumulate=" << accumulate
     << " alpha=" << alpha << " precision=" << precisionName(precision)
     << (serial ? " serial" : "");
  return os.str();
}

namespace {
float widen(float x) { return x; }
float widen(uint16_t x) { return fromBf16(x); }

/// body(begin, end) over s.n outputs: split over the matmul threads, or all
/// on the calling thread for a serial plan.
template <typename Body>
void forOutputs(const MatmulShape &s, int64_t minPerThread, Body body) {
  if (s.serial)
    body(int64_t(0), s.n);
  else
    detail::parallelRanges(s.n, minPerThread, body);
}

/// c = alpha * a b (+ c) for one row a: a decode step's products, which only
/// stream b, once. oneDNN's GEMV reaches about half of the machine's read
/// bandwidth on them in bf16, and costs microseconds a call in attention's
/// small ones; these loops reach nearly all of it (docs/kernels.md).
///
/// b stored [n, k] (transB), a weight: c[o] = dot(a, b[o, :]). Four rows at a
/// time keep four independent sums in flight; the threads split the rows.
template <typename Operand>
void rowTimesRows(const MatmulShape &s, const Operand *a, const Operand *b,
                  float *c) {
  const int64_t k = s.k;
  std::vector<float> row(k); // widened once, read n / 4 times
  for (int64_t i = 0; i < k; ++i)
    row[i] = widen(a[i]);
  auto finish = [&](int64_t o, float sum) {
    c[o] = s.accumulate ? c[o] + s.alpha * sum : s.alpha * sum;
  };
  auto rows = [&](int64_t begin, int64_t end) {
    const float *x = row.data();
    int64_t o = begin;
#if defined(__AVX512BF16__)
    // vdpbf16ps multiplies bf16 pairs into fp32 sums: the widening the loop
    // below spends two instructions an element on, the load does for free.
    if constexpr (std::is_same_v<Operand, uint16_t>) {
      for (; o + 4 <= end; o += 4) {
        __m512 sums[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(),
                          _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int64_t i = 0; i < k; i += 32) {
          __mmask32 lanes =
              k - i >= 32 ? ~__mmask32(0) : (__mmask32(1) << (k - i)) - 1;
          __m512bh xs = (__m512bh)_mm512_maskz_loadu_epi16(lanes, a + i);
          // The group after next, a line per row: the hardware prefetcher
          // alone leaves a quarter of the bandwidth unused here.
          for (int r = 0; r < 4; ++r)
            _mm_prefetch(reinterpret_cast<const char *>(b + (o + 8) * k +
                                                        4 * i + 32 * r),
                         _MM_HINT_T0);
          for (int r = 0; r < 4; ++r)
            sums[r] = _mm512_dpbf16_ps(
                sums[r], xs,
                (__m512bh)_mm512_maskz_loadu_epi16(lanes, b + (o + r) * k + i));
        }
        for (int r = 0; r < 4; ++r)
          finish(o + r, _mm512_reduce_add_ps(sums[r]));
      }
    }
#endif
    for (; o + 4 <= end; o += 4) {
      const Operand *b0 = b + o * k, *b1 = b0 + k, *b2 = b1 + k, *b3 = b2 + k;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
      for (int64_t i = 0; i < k; ++i) {
        s0 += x[i] * widen(b0[i]);
        s1 += x[i] * widen(b1[i]);
        s2 += x[i] * widen(b2[i]);
        s3 += x[i] * widen(b3[i]);
      }
      finish(o, s0);
      finish(o + 1, s1);
      finish(o + 2, s2);
      finish(o + 3, s3);
    }
    for (; o < end; ++o) {
      const Operand *bo = b + o * k;
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < k; ++i)
        sum += x[i] * widen(bo[i]);
      finish(o, sum);
    }
  };
  forOutputs(s, 64, rows);
}

/// b stored [k, n] (attention's probabilities times v): c = sum_i a[i] b[i, :],
/// the threads splitting the columns.
template <typename Operand>
void rowTimesColumns(const MatmulShape &s, const Operand *a, const Operand *b,
                     float *c) {
  auto columns = [&](int64_t begin, int64_t end) {
    std::vector<float> sum(end - begin, 0.0f);
    for (int64_t i = 0; i < s.k; ++i) {
      const float x = widen(a[i]);
      const Operand *bi = b + i * s.n + begin;
#pragma omp simd
      for (int64_t j = 0; j < end - begin; ++j)
        sum[j] += x * widen(bi[j]);
    }
    for (int64_t j = begin; j < end; ++j)
      c[j] = s.accumulate ? c[j] + s.alpha * sum[j - begin]
                          : s.alpha * sum[j - begin];
  };
  forOutputs(s, 256, columns);
}

template <typename Operand>
void rowTimesMatrix(const MatmulShape &s, const void *a, const void *b,
                    float *c) {
  auto *row = static_cast<const Operand *>(a);
  auto *matrix = static_cast<const Operand *>(b);
  if (s.transB)
    rowTimesRows(s, row, matrix, c);
  else
    rowTimesColumns(s, row, matrix, c);
}
} // namespace

struct MatmulPlan::Primitive {
  memory::desc aDesc, bDesc, cDesc, scratchpadDesc;
  int64_t aElements = 0, bElements = 0;
  dnnl::matmul matmul;
};

namespace {
/// The calling thread's scratchpad for a primitive, 64-byte aligned.
/// Primitives get theirs from the caller (scratchpad_mode::user): with
/// oneDNN's own (library mode) one primitive may not run on two threads at
/// once, and Debian's oneDNN is built without DNNL_ENABLE_CONCURRENT_EXEC,
/// where a primitive may not even change threads.
void *threadScratchpad(size_t bytes) {
  thread_local std::vector<unsigned char> scratchpad;
  if (scratchpad.size() < bytes + 64)
    scratchpad.resize(bytes + 64);
  auto address = reinterpret_cast<uintptr_t>(scratchpad.data());
  return scratchpad.data() + (64 - address % 64) % 64;
}
} // namespace

MatmulPlan::MatmulPlan(const MatmulShape &shape) : shape_(shape) {
  if (shape.batch < 0 || shape.m < 0 || shape.n < 0 || shape.k < 0)
    throw std::invalid_argument("negative dimension in " + shape.str());
  // Empty products need no primitive (and oneDNN rejects zero dims); run()
  // handles them.
  if (shape.batch == 0 || shape.m == 0 || shape.n == 0 || shape.k == 0)
    return;

  bool bf16 = shape.precision == MatmulPrecision::Bf16;
  if (bf16 && !hasBf16Arithmetic())
    throw std::invalid_argument(
        "bf16 matmuls need a CPU with AVX512_BF16 or AMX-BF16; this one has "
        "neither (use fp32)");
  rowTimesMatrix_ = shape.batch == 1 && shape.m == 1 && !shape.transA;
  applyThreadCount(shape.serial);
  auto p = std::make_unique<Primitive>();
  memory::data_type operands =
      bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  int64_t bBatch = shape.broadcastB ? 1 : shape.batch;
  p->aDesc = matrixDesc(shape.batch, shape.m, shape.k, shape.transA, operands);
  p->bDesc = matrixDesc(bBatch, shape.k, shape.n, shape.transB, operands);
  p->cDesc = matrixDesc(shape.batch, shape.m, shape.n, false);
  p->aElements = shape.batch * shape.m * shape.k;
  p->bElements = bBatch * shape.k * shape.n;

  // alpha is a linear post-op placed before the sum so that the accumulated
  // C is not scaled: C = alpha * AB + C.
  dnnl::post_ops postOps;
  if (shape.alpha != 1.0f) {
#if DNNL_VERSION_MAJOR >= 3
    postOps.append_eltwise(dnnl::algorithm::eltwise_linear, shape.alpha, 0.0f);
#else
    postOps.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, shape.alpha,
                           0.0f);
#endif
  }
  if (shape.accumulate)
    postOps.append_sum(1.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(postOps);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

#if DNNL_VERSION_MAJOR >= 3
  dnnl::matmul::primitive_desc pd(cpuEngine(), p->aDesc, p->bDesc, p->cDesc,
                                  attr);
#else
  dnnl::matmul::primitive_desc pd(
      dnnl::matmul::desc(p->aDesc, p->bDesc, p->cDesc), attr, cpuEngine());
#endif
  p->scratchpadDesc = pd.scratchpad_desc();
  p->matmul = dnnl::matmul(pd);
  primitive_ = std::move(p);
}

MatmulPlan::~MatmulPlan() = default;
MatmulPlan::MatmulPlan(MatmulPlan &&) noexcept = default;
MatmulPlan &MatmulPlan::operator=(MatmulPlan &&) noexcept = default;

void MatmulPlan::run(const float *a, const float *b, float *c) const {
  run(a, b, c, nullptr, nullptr);
}

void MatmulPlan::run(const float *a, const float *b, float *c,
                     const void *aBf16, const void *bBf16) const {
  if (primitive_ && shape_.precision == MatmulPrecision::Bf16) {
    // The bf16 copies, reused by every product on this thread.
    thread_local MatmulOperand aCopy(MatmulPrecision::Bf16),
        bCopy(MatmulPrecision::Bf16);
    runConverted(aBf16 ? aBf16 : aCopy.of(a, primitive_->aElements),
                 bBf16 ? bBf16 : bCopy.of(b, primitive_->bElements), c);
  } else {
    runConverted(a, b, c);
  }
}

void MatmulPlan::runConverted(const void *a, const void *b, float *c) const {
  const MatmulShape &s = shape_;
  if (!primitive_) {
    // k == 0: the product is zero.
    if (s.k == 0 && !s.accumulate)
      std::memset(c, 0, sizeof(float) * s.batch * s.m * s.n);
    return;
  }
  if (rowTimesMatrix_) {
    if (s.precision == MatmulPrecision::Bf16)
      rowTimesMatrix<uint16_t>(s, a, b, c);
    else
      rowTimesMatrix<float>(s, a, b, c);
    return;
  }
  applyThreadCount(s.serial);
  // memory objects only wrap the caller's pointers; creating them per run
  // keeps run() thread-safe and costs far less than the product.
  dnnl::engine &engine = cpuEngine();
  memory aMem(primitive_->aDesc, engine, const_cast<void *>(a));
  memory bMem(primitive_->bDesc, engine, const_cast<void *>(b));
  memory cMem(primitive_->cDesc, engine, c);
  const memory::desc &scratchpad = primitive_->scratchpadDesc;
  memory scratchpadMem(scratchpad, engine,
                       threadScratchpad(scratchpad.get_size()));
  dnnl::stream &stream = threadStream();
  primitive_->matmul.execute(stream, {{DNNL_ARG_SRC, aMem},
                                      {DNNL_ARG_WEIGHTS, bMem},
                                      {DNNL_ARG_DST, cMem},
                                      {DNNL_ARG_SCRATCHPAD, scratchpadMem}});
  stream.wait();
}

const void *MatmulOperand::of(const float *x, int64_t n) {
  if (!bf16)
    return x;
  if (copy.size() < size_t(n))
    copy.resize(size_t(n));
  toBf16(copy.data(), x, n);
  return copy.data();
}

namespace {
std::map<MatmulShape, MatmulPlan> &threadPlanCache() {
  thread_local std::map<MatmulShape, MatmulPlan> cache;
  return cache;
}
} // namespace

void matmul(const MatmulShape &shape, const float *a, const float *b,
            float *c) {
  auto &cache = threadPlanCache();
  auto it = cache.find(shape);
  if (it == cache.end())
    it = cache.emplace(shape, MatmulPlan(shape)).first;
  it->second.run(a, b, c);
}

size_t matmulCacheSize() { return threadPlanCache().size(); }

void setMatmulThreads(int threads) {
  if (threads < 1)
    throw std::invalid_argument("matmul threads must be >= 1, got " +
                                std::to_string(threads));
  requestedThreads.store(threads, std::memory_order_relaxed);
}

int matmulThreads() { return requestedThreads.load(std::memory_order_relaxed); }

} // namespace giga::kernels
