//===- GradCheck.h - finite differences and references for kernel tests ---===//
//
// Gradient checks compare an fp32 backward kernel with central differences of
// a double-precision reference forward (the reference is itself checked
// against the fp32 forward kernel). The loss is L = sum(w * out) with random
// w, so dout = w and every output element contributes.
//
// Tolerance: with h = 1e-5 in double, the central difference has truncation
// error ~h^2 |f'''| ~ 1e-10 and rounding error ~1e-16 |L| / h ~ 1e-10, so the
// reference gradient is exact to ~1e-9. The fp32 kernel's gradient carries
// relative rounding of a few 1e-7 per reduction (rows of <= 128 terms), i.e.
// ~1e-6 in norm. kGradTolerance = 1e-4 on ||g - g_fd|| / ||g_fd|| passes with
// two orders of margin, while any real mistake (a missing term, a wrong sign,
// a factor of two, a transposed operand) moves the error to 1e-2 .. 1.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_TEST_UNIT_KERNELS_GRADCHECK_H
#define GIGA_TEST_UNIT_KERNELS_GRADCHECK_H

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace giga::kernels::test {

constexpr double kGradTolerance = 1e-4;

inline std::vector<float> randomFloats(size_t n, uint32_t seed,
                                       float low = -1.0f, float high = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

inline std::vector<double> toDouble(const std::vector<float> &v) {
  return std::vector<double>(v.begin(), v.end());
}

inline double dot(const std::vector<double> &a, const std::vector<double> &b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    s += a[i] * b[i];
  return s;
}

/// Central-difference gradient of loss(x) at x.
inline std::vector<double>
numericGradient(const std::function<double(const std::vector<double> &)> &loss,
                std::vector<double> x, double h = 1e-5) {
  std::vector<double> grad(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double saved = x[i];
    x[i] = saved + h;
    double up = loss(x);
    x[i] = saved - h;
    double down = loss(x);
    x[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

inline double relativeError(const std::vector<float> &actual,
                            const std::vector<double> &expected) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
    norm += expected[i] * expected[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

/// Fails (naming the tensor and the worst element) unless
/// ||actual - expected|| / ||expected|| <= tolerance.
inline void expectClose(const std::string &what,
                        const std::vector<float> &actual,
                        const std::vector<double> &expected, double tolerance) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  size_t worst = 0;
  for (size_t i = 0; i < expected.size(); ++i)
    if (std::abs(actual[i] - expected[i]) >
        std::abs(actual[worst] - expected[worst]))
      worst = i;
  double error = relativeError(actual, expected);
  EXPECT_LE(error, tolerance)
      << what << ": relative error " << error << "; worst element " << worst
      << " is " << actual[worst] << ", expected " << expected[worst];
}

/// Runs backward(outputs, accumulate) on outputs of the given sizes twice:
/// overwriting NaN-filled buffers (the result must not read them) and
/// accumulating onto 0.25-filled ones (the result must be 0.25 + gradient).
/// Returns the overwritten gradients.
inline std::vector<std::vector<float>>
runBackward(const std::vector<size_t> &sizes,
            const std::function<void(std::vector<std::vector<float>> &, bool)>
                &backward) {
  std::vector<std::vector<float>> grads, accumulated;
  for (size_t size : sizes) {
    grads.emplace_back(size, std::numeric_limits<float>::quiet_NaN());
    accumulated.emplace_back(size, 0.25f);
  }
  backward(grads, false);
  backward(accumulated, true);
  for (size_t t = 0; t < sizes.size(); ++t) {
    for (size_t i = 0; i < sizes[t]; ++i) {
      EXPECT_FALSE(std::isnan(grads[t][i]))
          << "output " << t << " element " << i << " kept the NaN fill";
      EXPECT_NEAR(accumulated[t][i], 0.25f + grads[t][i],
                  1e-5 * (1.0 + std::abs(grads[t][i])))
          << "output " << t << " element " << i << " with accumulate";
    }
  }
  return grads;
}

//===--- double-precision references --------------------------------------===//

namespace ref {

inline std::vector<double> matmul(const std::vector<double> &a,
                                  const std::vector<double> &b, int64_t batch,
                                  int64_t m, int64_t n, int64_t k, bool transA,
                                  bool transB, bool broadcastB) {
  std::vector<double> c(batch * m * n, 0.0);
  for (int64_t p = 0; p < batch; ++p) {
    const double *A = a.data() + p * m * k;
    const double *B = b.data() + (broadcastB ? 0 : p * k * n);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0.0;
        for (int64_t l = 0; l < k; ++l)
          s += (transA ? A[l * m + i] : A[i * k + l]) *
               (transB ? B[j * k + l] : B[l * n + j]);
        c[(p * m + i) * n + j] = s;
      }
  }
  return c;
}

inline void softmaxRows(std::vector<double> &x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    double *row = x.data() + r * cols;
    double maxValue = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < cols; ++c)
      maxValue = std::max(maxValue, row[c]);
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      sum += row[c] = std::exp(row[c] - maxValue);
    for (int64_t c = 0; c < cols; ++c)
      row[c] /= sum;
  }
}

inline std::vector<double> layernorm(const std::vector<double> &x,
                                     const std::vector<double> &gamma,
                                     const std::vector<double> &beta,
                                     int64_t rows, int64_t cols, double eps) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const double *row = x.data() + r * cols;
    double mean = 0.0, var = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      mean += row[c] / cols;
    for (int64_t c = 0; c < cols; ++c)
      var += (row[c] - mean) * (row[c] - mean) / cols;
    for (int64_t c = 0; c < cols; ++c)
      y[r * cols + c] =
          (row[c] - mean) / std::sqrt(var + eps) * gamma[c] + beta[c];
  }
  return y;
}

inline double gelu(double x, bool tanhApproximation) {
  if (tanhApproximation)
    return 0.5 * x *
           (1.0 +
            std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}

/// q: [B, H, T, D]; k, v: [B, H, Tk, D] (Tk = t unless given); mask:
/// [T, Tk]. Returns out; probs if asked.
inline std::vector<double>
attention(const std::vector<double> &q, const std::vector<double> &k,
          const std::vector<double> &v, const std::vector<float> &mask,
          int64_t heads, int64_t t, int64_t d, double scale,
          std::vector<double> *probsOut = nullptr, int64_t tk = 0) {
  if (tk == 0)
    tk = t;
  std::vector<double> out(heads * t * d, 0.0), probs(heads * t * tk);
  for (int64_t h = 0; h < heads; ++h) {
    const double *Q = q.data() + h * t * d;
    const double *K = k.data() + h * tk * d;
    double *P = probs.data() + h * t * tk;
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < tk; ++j) {
        double s = 0.0;
        for (int64_t l = 0; l < d; ++l)
          s += Q[i * d + l] * K[j * d + l];
        P[i * tk + j] = scale * s + mask[i * tk + j];
      }
  }
  softmaxRows(probs, heads * t, tk);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < tk; ++j)
        for (int64_t l = 0; l < d; ++l)
          out[(h * t + i) * d + l] +=
              probs[(h * t + i) * tk + j] * v[(h * tk + j) * d + l];
  if (probsOut)
    *probsOut = probs;
  return out;
}

inline double crossEntropy(const std::vector<double> &logits,
                           const std::vector<int32_t> &targets, int64_t n,
                           int64_t vocab) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double *row = logits.data() + i * vocab;
    double maxValue = row[0];
    for (int64_t j = 0; j < vocab; ++j)
      maxValue = std::max(maxValue, row[j]);
    double sum = 0.0;
    for (int64_t j = 0; j < vocab; ++j)
      sum += std::exp(row[j] - maxValue);
    total += maxValue + std::log(sum) - row[targets[i]];
  }
  return total / n;
}

} // namespace ref
} // namespace giga::kernels::test

#endif // GIGA_TEST_UNIT_KERNELS_GRADCHECK_H
