//===- Gpt2Layouts.cpp - GPT-2's tensors in each layout -------------------===//
#include "tools/interop/Gpt2Layouts.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace giga::interop {
namespace {

/// frontend/gpt.cpp's names inside block h.N, and where each foreign layout
/// keeps them. llm.c's order is this table's.
struct BlockTensor {
  const char *huggingFace;
  std::vector<const char *> giga;
  bool conv1d; // a Hugging Face Conv1D weight: [in, out]
};
const std::vector<BlockTensor> &blockTensors() {
  static const std::vector<BlockTensor> table = {
      {"ln_1.weight", {"ln_1.weight"}, false},
      {"ln_1.bias", {"ln_1.bias"}, false},
      {"attn.c_attn.weight",
       {"attn.q.weight", "attn.k.weight", "attn.v.weight"},
       true},
      {"attn.c_attn.bias",
       {"attn.q.bias", "attn.k.bias", "attn.v.bias"},
       false},
      {"attn.c_proj.weight", {"attn.proj.weight"}, true},
      {"attn.c_proj.bias", {"attn.proj.bias"}, false},
      {"ln_2.weight", {"ln_2.weight"}, false},
      {"ln_2.bias", {"ln_2.bias"}, false},
      {"mlp.c_fc.weight", {"mlp.fc.weight"}, true},
      {"mlp.c_fc.bias", {"mlp.fc.bias"}, false},
      {"mlp.c_proj.weight", {"mlp.proj.weight"}, true},
      {"mlp.c_proj.bias", {"mlp.proj.bias"}, false},
  };
  return table;
}

std::string block(int64_t layer, const char *name) {
  return "h." + std::to_string(layer) + "." + name;
}

ForeignTensor blockTensor(const BlockTensor &entry, int64_t layer,
                          bool transposed) {
  ForeignTensor tensor{block(layer, entry.huggingFace), {}, transposed};
  for (const char *part : entry.giga)
    tensor.parts.push_back(block(layer, part));
  return tensor;
}

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

float floatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

} // namespace

int64_t depthOf(const Shapes &shapes) {
  int64_t depth = 0;
  for (const auto &[name, shape] : shapes) {
    if (name.rfind("h.", 0) != 0)
      continue;
    size_t dot = name.find('.', 2);
    const std::string digits = name.substr(2, dot - 2);
    if (dot == std::string::npos || digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    depth = std::max<int64_t>(depth, std::stoll(digits) + 1);
  }
  return depth;
}

std::vector<ForeignTensor> huggingFaceTensors(int64_t depth) {
  std::vector<ForeignTensor> tensors = {{"wte.weight", {"wte.weight"}},
                                        {"wpe.weight", {"wpe.weight"}}};
  for (int64_t layer = 0; layer < depth; ++layer)
    for (const BlockTensor &entry : blockTensors())
      tensors.push_back(blockTensor(entry, layer, entry.conv1d));
  tensors.push_back({"ln_f.weight", {"ln_f.weight"}});
  tensors.push_back({"ln_f.bias", {"ln_f.bias"}});
  return tensors;
}

bool isHuggingFaceBuffer(const std::string &name) {
  auto endsWith = [&](const std::string &suffix) {
    return name.size() > suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) ==
               0;
  };
  return name.rfind("h.", 0) == 0 &&
         (endsWith(".attn.bias") || endsWith(".attn.masked_bias"));
}

std::vector<ForeignTensor> llmcTensors(int64_t depth, int64_t paddedVocab) {
  std::vector<ForeignTensor> tensors = {
      {"wte.weight", {"wte.weight"}, false, paddedVocab},
      {"wpe.weight", {"wpe.weight"}}};
  for (const BlockTensor &entry : blockTensors())
    for (int64_t layer = 0; layer < depth; ++layer)
      tensors.push_back(blockTensor(entry, layer, /*transposed=*/false));
  tensors.push_back({"ln_f.weight", {"ln_f.weight"}});
  tensors.push_back({"ln_f.bias", {"ln_f.bias"}});
  return tensors;
}

std::vector<int64_t> foreignShape(const ForeignTensor &tensor,
                                  const Shapes &shapes) {
  std::vector<int64_t> shape;
  for (const std::string &part : tensor.parts) {
    auto found = shapes.find(part);
    if (found == shapes.end() || found->second.empty())
      return {};
    const std::vector<int64_t> &next = found->second;
    if (shape.empty()) {
      shape = next;
      continue;
    }
    if (!std::equal(shape.begin() + 1, shape.end(), next.begin() + 1,
                    next.end()))
      return {};
    shape[0] += next[0];
  }
  if (tensor.paddedRows > 0 && !shape.empty())
    shape[0] = std::max(shape[0], tensor.paddedRows);
  if (tensor.transposed && shape.size() == 2)
    std::swap(shape[0], shape[1]);
  return shape;
}

int64_t partRow(const ForeignTensor &tensor, const Shapes &shapes, int part) {
  int64_t row = 0;
  for (int p = 0; p < part; ++p)
    row += shapes.at(tensor.parts[p]).at(0);
  return row;
}

float fromF16(uint16_t half) {
  const uint32_t sign = uint32_t(half & 0x8000) << 16;
  const uint32_t exponent = (half >> 10) & 0x1f, mantissa = half & 0x3ff;
  if (exponent == 0) // zero or subnormal: mantissa * 2^-24, exact in fp32
    return std::copysign(std::ldexp(float(mantissa), -24), sign ? -1.0f : 1.0f);
  if (exponent == 31) // infinity or NaN
    return floatOf(sign | 0x7f800000 | (mantissa << 13));
  return floatOf(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

uint16_t toF16(float value) {
  const uint32_t bits = bitsOf(value);
  const uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) // NaN stays a (quiet) NaN
    return uint16_t(sign | 0x7e00);
  if (magnitude >= 0x477ff000) // 65520 and up round to infinity
    return uint16_t(sign | 0x7c00);
  if (magnitude < 0x38800000) // below 2^-14: a subnormal, in units of 2^-24
    return uint16_t(sign |
                    uint16_t(std::nearbyint(floatOf(magnitude) * 16777216.0f)));
  uint32_t half =
      ((magnitude >> 23) - 127 + 15) << 10 | ((magnitude >> 13) & 0x3ff);
  const uint32_t rest = magnitude & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half; // a carry into the exponent is the right rounding too
  return uint16_t(sign | half);
}

} // namespace giga::interop
