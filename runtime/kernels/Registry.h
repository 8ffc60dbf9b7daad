//===- Registry.h - the kernels an artifact may name ------------*- C++ -*-===//
//
// A loader checks every kernel name in an artifact with findKernel() and the
// operand counts against the descriptor; the executor then calls the function
// named in the summary. Operand lists give buffer roles in call order.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_REGISTRY_H
#define GIGA_RUNTIME_KERNELS_REGISTRY_H

#include <string_view>
#include <vector>

namespace giga::kernels {

struct KernelInfo {
  std::string_view name;                 ///< e.g. "layernorm.fwd"
  std::vector<std::string_view> inputs;  ///< buffers read
  std::vector<std::string_view> outputs; ///< buffers written (or accumulated)
  std::vector<std::string_view> attrs;   ///< scalar attributes
  std::string_view function;             ///< the C++ entry point
};

/// Every kernel, sorted by name.
const std::vector<KernelInfo> &allKernels();

/// The descriptor for `name`, or nullptr if no kernel has that name.
const KernelInfo *findKernel(std::string_view name);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_REGISTRY_H
