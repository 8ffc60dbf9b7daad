//===- Artifact.h - the compiled training step (step.wafer) -----*- C++ -*-===//
//
// What gigac writes and gigarun executes: a self-contained program of
// per-layer kernels over an activation arena, the parameter table and the
// optimizer settings. Weights are not in it: its size does not grow with
// the model. The byte format is in docs/artifact.md. Plain C++ (nlohmann
// json for the payload), so the runtime reads it without MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_ARTIFACT_ARTIFACT_H
#define GIGA_RUNTIME_ARTIFACT_ARTIFACT_H

#include "runtime/support/Error.h"
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace giga::artifact {

/// A malformed, truncated or corrupted artifact; the message names the file.
class ArtifactError : public Error {
public:
  using Error::Error;
};

inline constexpr char kMagic[8] = {'G', 'I', 'G', 'A', 'W', 'F', 'R', '\n'};
inline constexpr uint32_t kFormatVersion = 5;

/// Elements of any tensor, a stacked one's layers included: every size the
/// compiler and the runtime compute from it (bytes, offsets, the store's
/// arrays) then stays far from 64-bit overflow. The reader refuses more.
inline constexpr int64_t kMaxTensorElements = int64_t(1) << 56;

/// The elements of `shape` times `layers`, or -1 when that is over
/// kMaxTensorElements (or a dimension is negative).
int64_t checkedElements(const std::vector<int64_t> &shape, int64_t layers = 1);

/// "[768, 2304]" ("[]" for a scalar): how every message writes a shape.
std::string formatShape(const std::vector<int64_t> &shape);

enum class DType { F32, I32, I64 };
const char *toString(DType type);
int64_t sizeOf(DType type);

struct TensorType {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  int64_t elements() const;
  int64_t bytes() const { return elements() * sizeOf(dtype); }
};

/// A trainable tensor, or one per layer of a group (a giga.repeat). Its full
/// name is `name`, or `group.<layer>.name` inside a group.
struct Parameter {
  std::string name;
  std::string group; // "" at top level
  int64_t layers = 1;
  std::vector<int64_t> shape;
  std::string init; // "normal", "zeros" or "ones"
  double std = 0.0;
  double weightDecay = 0.0; // already 0 for tensors of rank < 2

  std::string fullName(int64_t layer) const;
  int64_t elements() const;
};

struct Optimizer {
  std::string kind = "adamw"; // or "sgd"
  double beta1 = 0.9, beta2 = 0.95, epsilon = 1e-8, momentum = 0.9;
  double learningRate = 0.0;
  int64_t warmupSteps = 0, decaySteps = 0;
  double minLrRatio = 0.1;
  double maxGradientNorm = 1.0;

  /// Linear warmup from 0, then cosine to minLrRatio x peak; step from 1.
  double learningRateAt(int64_t step) const;
};

/// A tensor in the activation arena. A stacked buffer holds one tensor per
/// layer (`layers` of them, `type.bytes()` apart): the activations a
/// repeated block saves for its backward. A state buffer (a KV cache) keeps
/// its contents from one run of an entry point to the next; no other buffer
/// shares its bytes, and it is zero when the executor starts.
struct Buffer {
  std::string name;
  TensorType type;
  int64_t offset = 0; // bytes into the arena
  int64_t layers = 0; // 0: one tensor; >0: stacked
  bool state = false;
  int64_t totalBytes() const {
    return type.bytes() * (layers > 0 ? layers : 1);
  }
};

/// A kernel's view of a buffer: the whole of it, or this layer's slice of a
/// stacked one.
struct Operand {
  int32_t buffer = -1;
  bool perLayer = false;
};

/// One primitive of a kernel; `kernel` is a runtime kernel-library name
/// ("matmul", "layernorm", "attention_grad", ...), shapes are the buffers'.
struct Op {
  std::string kernel;
  std::vector<Operand> inputs;
  std::vector<Operand> outputs;
  nlohmann::json attrs = nlohmann::json::object();
};

/// Before an invocation: the parameter's values (this layer's, in a group)
/// are made available as `target`.
struct StreamIn {
  int32_t param = -1;
  Operand target;
};

/// Right after op `afterOp` of an invocation (after the last op if -1):
/// `source` is added to the parameter's gradient in the store (this
/// layer's, in a group), so its bytes can serve later ops.
struct StreamOut {
  Operand source;
  int32_t param = -1;
  int32_t afterOp = -1;
};

/// Where a kernel sits on the wafer and what one invocation costs there.
struct Placement {
  int64_t pes = 0;
  int64_t sramBytes = 0;
  double flops = 0.0;
  double computeCycles = 0.0;
  double streamCycles = 0.0;
  int64_t streamBytes = 0;
};

/// One per distinct layer kind and direction ("h.fwd", "pre.bwd"). A
/// grouped kernel runs once per layer of its group with that layer's
/// weights; after each iteration every `carry` pair copies .second into
/// .first, which holds the carried value between iterations.
struct Kernel {
  std::string name;
  std::string group;
  bool backward = false; // false: part of the forward pass and the loss
  int64_t layers = 1;
  bool reverse = false;
  std::vector<StreamIn> streamIn;
  std::vector<Op> ops;
  std::vector<StreamOut> streamOut;
  std::vector<std::pair<int32_t, int32_t>> carry;
  Placement placement;
};

/// A named input or output of an entry point: a whole, non-stacked buffer.
struct Binding {
  std::string name;
  int32_t buffer = -1;
  /// For an i32 input: every value must lie in [0, limit) (token ids below
  /// the vocabulary); 0 for no range.
  int64_t limit = 0;
};

/// One step of an entry point. Only kernel invocations so far; a collective
/// (all-gather, reduce-scatter) or the optimizer update would be new kinds.
struct Command {
  enum class Kind { Invoke };
  Kind kind = Kind::Invoke;
  int32_t kernel = -1; // Invoke: every layer of this kernel, in its order
};

/// Something the runtime runs: its inputs are written into their buffers,
/// its commands run in order, then its outputs can be read. The artifact
/// names what it offers (`train_step`, `eval_step`), so the runtime needs no
/// idea of the model it runs.
struct EntryPoint {
  std::string name;
  std::vector<Binding> inputs, outputs;
  std::vector<Command> commands;

  const Binding *input(const std::string &name) const;
  const Binding *output(const std::string &name) const;
};

struct Artifact {
  nlohmann::json config = nlohmann::json::object(); // model, run, name
  nlohmann::json target = nlohmann::json::object(); // the wafer description
  int64_t batchSize = 0;  // samples per optimizer step, over every system
  int64_t microBatch = 0; // samples per pass of the kernels
  /// Data-parallel copies of the step (run.num_systems): each runs
  /// batchSize / systems samples a step, as accumulation() micro-batches.
  int64_t systems = 1;
  int64_t sequenceLength = 0;
  std::vector<Parameter> params;
  Optimizer optimizer;
  std::vector<Buffer> buffers;
  int64_t arenaBytes = 0;
  /// The region of the arena the ops use for their temporaries
  /// (runtime/artifact/OpScratch.h), planned by the compiler.
  int64_t opScratchOffset = 0, opScratchBytes = 0;
  std::vector<Kernel> kernels;
  std::vector<EntryPoint> entryPoints;
  /// Model FLOPs of one optimizer step, forward and backward without
  /// recomputation, as the compiler counts them (the numerator of MFU).
  double modelFlopsPerStep = 0.0;
  nlohmann::json report = nlohmann::json::object();

  /// Micro-batches one system runs a step.
  int64_t accumulation() const { return batchSize / (systems * microBatch); }
  int64_t parameterCount() const;
  /// The entry point named `name`, or nullptr.
  const EntryPoint *entryPoint(const std::string &name) const;
};

/// The artifact's payload as JSON, and back (validating every reference).
nlohmann::json toJson(const Artifact &artifact);
Artifact fromJson(const nlohmann::json &json, const std::string &source);

/// The file's bytes: magic, version, payload length, checksum, CBOR payload.
std::string serialize(const Artifact &artifact);
Artifact deserialize(const std::string &bytes, const std::string &source);

/// Written atomically (temporary file, fsync, rename).
void writeArtifact(const std::string &path, const Artifact &artifact);
Artifact readArtifact(const std::string &path);

} // namespace giga::artifact

#endif // GIGA_RUNTIME_ARTIFACT_ARTIFACT_H
