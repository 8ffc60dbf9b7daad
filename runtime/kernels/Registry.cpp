//===- Registry.cpp - the kernels an artifact may name --------------------===//

#include "runtime/kernels/Registry.h"

#include <algorithm>

namespace giga::kernels {

namespace {
std::vector<KernelInfo> makeKernelTable() {
  // Backward kernels take an `accumulate` flag: add into the gradient outputs
  // instead of overwriting them.
  std::vector<KernelInfo> table = {
      {"matmul",
       {"a", "b"},
       {"c"},
       {"batch", "m", "n", "k", "trans_a", "trans_b", "broadcast_b",
        "accumulate", "alpha"},
       "matmul"},
      {"add", {"a", "b"}, {"out"}, {}, "add"},
      {"accumulate", {"src"}, {"dst"}, {}, "accumulate"},
      {"scale", {"x"}, {"x"}, {"factor"}, "scale"},
      {"bias_add.fwd", {"x", "bias"}, {"out"}, {}, "biasAddForward"},
      {"bias_add.bwd", {"dout"}, {"dbias"}, {"accumulate"}, "biasAddBackward"},
      {"gelu.fwd", {"x"}, {"out"}, {"approximate"}, "geluForward"},
      {"gelu.bwd",
       {"x", "dout"},
       {"dx"},
       {"approximate", "accumulate"},
       "geluBackward"},
      {"swap_axes_12", {"x"}, {"out"}, {}, "swapAxes12"},
      {"layernorm.fwd",
       {"x", "gamma", "beta"},
       {"out", "mean", "rstd"},
       {"eps"},
       "layernormForward"},
      {"layernorm.bwd",
       {"dout", "x", "gamma", "mean", "rstd"},
       {"dx", "dgamma", "dbeta"},
       {"accumulate"},
       "layernormBackward"},
      {"softmax.fwd", {"x"}, {"out"}, {}, "softmaxForward"},
      {"softmax.bwd",
       {"out", "dout"},
       {"dx"},
       {"accumulate"},
       "softmaxBackward"},
      {"attention.fwd",
       {"q", "k", "v", "mask"},
       {"out", "probs"},
       {"scale"},
       "attentionForward"},
      {"attention.bwd",
       {"dout", "q", "k", "v", "probs"},
       {"dq", "dk", "dv", "scratch"},
       {"scale", "accumulate"},
       "attentionBackward"},
      {"embedding.fwd", {"tokens", "table"}, {"out"}, {}, "embeddingForward"},
      {"embedding.bwd",
       {"tokens", "dout"},
       {"dtable"},
       {"accumulate"},
       "embeddingBackward"},
      {"cross_entropy.fwd",
       {"logits", "targets"},
       {"loss", "logsumexp"},
       {},
       "crossEntropyForward"},
      {"cross_entropy.bwd",
       {"logits", "logsumexp", "targets", "dloss"},
       {"dlogits"},
       {"accumulate"},
       "crossEntropyBackward"},
      {"adamw",
       {"grad"},
       {"param", "m", "v"},
       {"lr", "beta1", "beta2", "eps", "weight_decay", "grad_scale", "step",
        "apply_decay"},
       "adamwUpdate"},
      {"sgd",
       {"grad"},
       {"param", "velocity"},
       {"lr", "momentum", "weight_decay", "nesterov", "grad_scale"},
       "sgdUpdate"},
      {"grad_norm", {"grads..."}, {"norm"}, {}, "globalNorm"},
  };
  std::sort(
      table.begin(), table.end(),
      [](const KernelInfo &a, const KernelInfo &b) { return a.name < b.name; });
  return table;
}
} // namespace

const std::vector<KernelInfo> &allKernels() {
  static const std::vector<KernelInfo> table = makeKernelTable();
  return table;
}

const KernelInfo *findKernel(std::string_view name) {
  const auto &table = allKernels();
  auto it = std::lower_bound(table.begin(), table.end(), name,
                             [](const KernelInfo &info, std::string_view key) {
                               return info.name < key;
                             });
  return it != table.end() && it->name == name ? &*it : nullptr;
}

} // namespace giga::kernels
