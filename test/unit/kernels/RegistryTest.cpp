//===- RegistryTest.cpp - kernel names an artifact may use ----------------===//

#include "runtime/kernels/Registry.h"

#include <gtest/gtest.h>

namespace giga::kernels {
namespace {

TEST(Registry, KnowsEveryKernelOfAGptTrainingStep) {
  for (const char *name : {"matmul",
                           "add",
                           "accumulate",
                           "scale",
                           "bias_add.fwd",
                           "bias_add.bwd",
                           "gelu.fwd",
                           "gelu.bwd",
                           "layernorm.fwd",
                           "layernorm.bwd",
                           "softmax.fwd",
                           "softmax.bwd",
                           "attention.fwd",
                           "attention.bwd",
                           "embedding.fwd",
                           "embedding.bwd",
                           "cross_entropy.fwd",
                           "cross_entropy.bwd",
                           "swap_axes_12",
                           "adamw",
                           "sgd",
                           "grad_norm"}) {
    const KernelInfo *info = findKernel(name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->name, name);
    EXPECT_FALSE(info->outputs.empty()) << name;
    EXPECT_FALSE(info->function.empty()) << name;
  }
  EXPECT_EQ(findKernel("layernorm.bwd")->outputs.size(), 3u);
}

TEST(Registry, UnknownNamesAreNotFound) {
  EXPECT_EQ(findKernel("layernorm"), nullptr);
  EXPECT_EQ(findKernel(""), nullptr);
  EXPECT_EQ(findKernel("zzz"), nullptr);
}

TEST(Registry, NamesAreSortedAndUnique) {
  const auto &kernels = allKernels();
  for (size_t i = 1; i < kernels.size(); ++i)
    EXPECT_LT(kernels[i - 1].name, kernels[i].name);
}

} // namespace
} // namespace giga::kernels
