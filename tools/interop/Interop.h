//===- Interop.h - GPT-2 weights in Hugging Face's and llm.c's layouts -*- C++
//-*-===//
//
// gigarun --init (and eval's and sample's --checkpoint) start from GPT-2
// weights as people have them, and gigarun export writes what giga trained
// back in those layouts:
//   - giga: a checkpoint of gigarun (safetensors, giga's names);
//   - hf: Hugging Face transformers' GPT-2 model.safetensors (Conv1D
//     weights stored [in, out], q, k and v fused in c_attn);
//   - llmc: llm.c's gpt2_124M.bin (a 256-int header, then every tensor in
//     its fixed order, fp32 in version 3 and bf16 in version 5, the
//     vocabulary padded).
// The runtime knows nothing of GPT-2: this library, beside the tools, is
// the one place that maps frontend/gpt.cpp's parameter names onto other
// layouts (docs/interop.md).
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_TOOLS_INTEROP_INTEROP_H
#define GIGA_TOOLS_INTEROP_INTEROP_H

#include "runtime/artifact/Artifact.h"
#include "runtime/store/WeightStore.h"
#include "runtime/support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace giga::interop {

/// A file that is not in the layout asked for, or does not fit the model.
class InteropError : public Error {
public:
  using Error::Error;
};

enum class Layout { Giga, HuggingFace, Llmc };

/// "giga", "hf", "llmc".
const char *layoutName(Layout layout);
/// The layout of a name of layoutName's, or none.
std::optional<Layout> parseLayout(const std::string &name);

/// The weights of `path` for a store of `artifact`, in `layout` (none:
/// told from the file: llm.c by its magic number, Hugging Face by its
/// tensor names, attn.c_attn; else a giga checkpoint), checked before any
/// data is read: every weight of the model
/// present with the shape it needs, and nothing the model has no place
/// for. Throws InteropError naming `flag`, the file and the first tensor
/// that differs, with both shapes.
std::unique_ptr<store::WeightSource>
openWeights(const artifact::Artifact &artifact, const std::string &path,
            std::optional<Layout> layout, const std::string &flag);

enum class ExportType { F32, Bf16, F16 };

struct ExportOptions {
  Layout layout = Layout::HuggingFace;
  ExportType type = ExportType::F32;
  /// hf: a directory for model.safetensors and config.json; llmc: the file.
  std::string out;
};

struct ExportSummary {
  std::string weightsFile; // the file the weights went to
  int64_t tensors = 0, bytes = 0;
};

/// Writes the weights of the giga checkpoint `checkpoint` in another layout,
/// each file atomically. The model must be GPT-2's (the checkpoint's config
/// says so): LayerNorm, and for llm.c GELU tanh, an MLP 4 times as wide and
/// epsilon 1e-5, which llm.c's code assumes. Throws InteropError.
ExportSummary exportWeights(const std::string &checkpoint,
                            const ExportOptions &options);

} // namespace giga::interop

#endif // GIGA_TOOLS_INTEROP_INTEROP_H
