//===- ArtifactBuilder.h - hand-built artifacts for executor tests -*- C++
//-*-===//
#ifndef GIGA_TEST_UNIT_EXEC_ARTIFACTBUILDER_H
#define GIGA_TEST_UNIT_EXEC_ARTIFACTBUILDER_H

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/OpScratch.h"
#include "runtime/artifact/TrainingEntryPoints.h"
#include "runtime/exec/Executor.h"
#include "runtime/train/MicroBatch.h"

#include <string>
#include <vector>

namespace giga::exec::test {

using artifact::DType;
using artifact::Operand;
using Shape = std::vector<int64_t>;

// One train_step / eval_step on [B, T] ids, as the trainer runs them.
using train::evalMicroBatch;
using train::trainMicroBatch;

/// Whole buffer / this layer's slice of a stacked buffer.
inline Operand W(int32_t buffer) { return {buffer, false}; }
inline Operand L(int32_t buffer) { return {buffer, true}; }

/// Lays buffers out one after the other (64-byte aligned) unless told to
/// share bytes with another buffer.
class ArtifactBuilder {
public:
  ArtifactBuilder(int64_t microBatch, int64_t seqLen, int64_t vocab) {
    a.batchSize = a.microBatch = microBatch;
    a.sequenceLength = seqLen;
    this->vocab = vocab;
    tokens = buffer("tokens", DType::I32, {microBatch, seqLen});
    targets = buffer("targets", DType::I32, {microBatch, seqLen});
    loss = buffer("loss", DType::F32, {});
    refreshEntryPoints();
  }

  /// train_step and eval_step over the kernels so far, as gigac makes them.
  void refreshEntryPoints() {
    a.entryPoints =
        artifact::training::entryPoints(a, tokens, targets, loss, -1, vocab);
  }

  int32_t buffer(const std::string &name, DType dtype, Shape shape,
                 int64_t layers = 0) {
    artifact::Buffer b;
    b.name = name;
    b.type.dtype = dtype;
    b.type.shape = std::move(shape);
    b.layers = layers;
    b.offset = next;
    next += (b.totalBytes() + 63) / 64 * 64;
    a.buffers.push_back(b);
    a.arenaBytes = next;
    return static_cast<int32_t>(a.buffers.size() - 1);
  }
  int32_t f32(const std::string &name, Shape shape, int64_t layers = 0) {
    return buffer(name, DType::F32, std::move(shape), layers);
  }
  /// A buffer at another's offset (a reshape, or a reuse of dead bytes).
  int32_t alias(const std::string &name, int32_t of, Shape shape,
                int64_t layers = 0, DType dtype = DType::F32) {
    artifact::Buffer b;
    b.name = name;
    b.type.dtype = dtype;
    b.type.shape = std::move(shape);
    b.layers = layers;
    b.offset = a.buffers[of].offset;
    a.buffers.push_back(b);
    return static_cast<int32_t>(a.buffers.size() - 1);
  }

  int32_t param(const std::string &name, Shape shape,
                const std::string &group = "", int64_t layers = 1,
                double std = 0.5) {
    artifact::Parameter p;
    p.name = name;
    p.group = group;
    p.layers = layers;
    p.shape = std::move(shape);
    p.init = "normal";
    p.std = std;
    a.params.push_back(p);
    return static_cast<int32_t>(a.params.size() - 1);
  }

  artifact::Kernel &kernel(const std::string &name,
                           const std::string &group = "", int64_t layers = 1,
                           bool backward = false, bool reverse = false) {
    artifact::Kernel k;
    k.name = name;
    k.group = group;
    k.layers = layers;
    k.backward = backward;
    k.reverse = reverse;
    a.kernels.push_back(k);
    refreshEntryPoints();
    return a.kernels.back();
  }

  static void op(artifact::Kernel &kernel, const std::string &name,
                 std::vector<Operand> inputs, std::vector<Operand> outputs,
                 nlohmann::json attrs = nlohmann::json::object()) {
    artifact::Op op;
    op.kernel = name;
    op.inputs = std::move(inputs);
    op.outputs = std::move(outputs);
    op.attrs = std::move(attrs);
    kernel.ops.push_back(op);
  }

  artifact::Artifact a;
  int32_t tokens = -1, targets = -1, loss = -1;
  int64_t vocab = 0;
  int64_t next = 0;
};

} // namespace giga::exec::test

#endif // GIGA_TEST_UNIT_EXEC_ARTIFACTBUILDER_H
