//===- Gpt2Layouts.h - GPT-2's tensors in each layout, described once -*- C++
//-*-===//
//
// Both foreign layouts are described the same way, as a list of tensors each
// made of giga weights: import reads giga's weights out of them, export
// builds them from giga's, so the two directions cannot disagree.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_TOOLS_INTEROP_GPT2LAYOUTS_H
#define GIGA_TOOLS_INTEROP_GPT2LAYOUTS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace giga::interop {

/// Giga full name ("h.3.attn.q.weight") -> shape.
using Shapes = std::map<std::string, std::vector<int64_t>>;

/// A tensor of a foreign layout: the giga weights it holds, concatenated
/// along their first axis (q, k and v make c_attn), stored transposed
/// (Conv1D keeps [in, out]) and with zero rows appended up to `paddedRows`
/// (llm.c's vocabulary) if set.
struct ForeignTensor {
  std::string name;
  std::vector<std::string> parts;
  bool transposed = false;
  int64_t paddedRows = 0;
};

/// The blocks of a model: one more than the largest N of "h.N." in `shapes`.
int64_t depthOf(const Shapes &shapes);

/// Hugging Face GPT-2's tensors, without the "transformer." prefix.
std::vector<ForeignTensor> huggingFaceTensors(int64_t depth);
/// Tensors a Hugging Face GPT-2 file may hold that are not weights: the
/// attention's mask buffers ("h.N.attn.bias", "h.N.attn.masked_bias").
bool isHuggingFaceBuffer(const std::string &name);

/// llm.c's magic number and the tensors of its checkpoint, in file order
/// (each per-layer kind for every layer before the next kind).
constexpr int32_t kLlmcMagic = 20240326;
std::vector<ForeignTensor> llmcTensors(int64_t depth, int64_t paddedVocab);

/// The shape `tensor` has for parts of `shapes`; empty if a part is not
/// there, or the parts' shapes cannot be concatenated.
std::vector<int64_t> foreignShape(const ForeignTensor &tensor,
                                  const Shapes &shapes);

/// The row of `tensor`, before it is transposed, where part `part` starts
/// (its parts' first dimensions summed before it).
int64_t partRow(const ForeignTensor &tensor, const Shapes &shapes, int part);

/// IEEE half precision: exact widening, and narrowing rounded to nearest
/// even (overflow to infinity), as torch's .half().
float fromF16(uint16_t half);
uint16_t toF16(float value);

} // namespace giga::interop

#endif // GIGA_TOOLS_INTEROP_GPT2LAYOUTS_H
