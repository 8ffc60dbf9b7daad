//===- ToyArtifact.h - hand-built artifacts for trainer tests ---*- C++ -*-===//
//
// A training step written directly as an artifact (no gigac): token
// embedding, `depth` residual linear layers x + x·W in a group "h" (one
// kernel invoked per layer, weights streamed in, inputs saved in a stacked
// buffer), a linear head and mean cross-entropy; and its backward. The
// logits depend only on the current token, so the model learns a bigram
// table: on data where each token determines the next, the loss falls
// towards 0. Used by the unit tests and by test/e2e's make-toy helper.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_TEST_UNIT_TRAINER_TOYARTIFACT_H
#define GIGA_TEST_UNIT_TRAINER_TOYARTIFACT_H

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/OpScratch.h"
#include "runtime/artifact/TrainingEntryPoints.h"

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace giga::test {

struct ToyShape {
  int64_t vocab = 32, width = 8, depth = 2, seq = 8;
  int64_t batch = 4, micro = 2;
  double learningRate = 1e-2;
  double initStd = 0.5;
  int64_t numSteps = 10, checkpointSteps = 4, evalInterval = 5, evalSteps = 2;
  uint64_t seed = 1234;
  std::string name = "toy";
};

inline artifact::Artifact makeToyArtifact(const ToyShape &s = {}) {
  using namespace artifact;
  using nlohmann::json;
  Artifact a;
  a.config = {{"name", s.name},
              {"model",
               {{"vocab_size", s.vocab},
                {"depth", s.depth},
                {"width", s.width},
                {"init_std", s.initStd}}},
              {"run",
               {{"batch_size", s.batch},
                {"sequence_length", s.seq},
                {"num_steps", s.numSteps},
                {"learning_rate", s.learningRate},
                {"checkpoint_steps", s.checkpointSteps},
                {"eval_interval", s.evalInterval},
                {"eval_steps", s.evalSteps},
                {"seed", s.seed}}}};
  a.target = {{"name", "host"}};
  a.batchSize = s.batch;
  a.microBatch = s.micro;
  a.sequenceLength = s.seq;
  const int64_t B = s.micro, T = s.seq, C = s.width, V = s.vocab;
  a.params = {{"wte", "", 1, {V, C}, "normal", s.initStd, 0.1},
              {"w", "h", s.depth, {C, C}, "normal", s.initStd, 0.1},
              {"head", "", 1, {C, V}, "normal", s.initStd, 0.1},
              {"head_bias", "", 1, {V}, "zeros", 0.0, 0.0}};
  a.modelFlopsPerStep = 6.0 * double(a.parameterCount()) * double(s.batch) *
                        double(s.seq); // as gigac counts it (no attention)
  a.optimizer.kind = "adamw";
  a.optimizer.learningRate = s.learningRate;
  a.optimizer.warmupSteps = 2;
  a.optimizer.decaySteps = 20;
  a.optimizer.minLrRatio = 0.1;
  a.optimizer.maxGradientNorm = 1.0;

  int64_t offset = 0;
  auto buffer = [&](const std::string &name, DType dtype,
                    std::vector<int64_t> shape, int64_t layers = 0) {
    Buffer b{name, {dtype, std::move(shape)}, offset, layers};
    offset += (b.totalBytes() + 63) / 64 * 64;
    a.buffers.push_back(b);
    return int32_t(a.buffers.size() - 1);
  };
  // A reshape: the same bytes as `of`, another shape.
  auto view = [&](const std::string &name, int32_t of,
                  std::vector<int64_t> shape) {
    Buffer b = a.buffers[of];
    b.name = name;
    b.type.shape = std::move(shape);
    a.buffers.push_back(b);
    return int32_t(a.buffers.size() - 1);
  };
  const DType F = DType::F32, I = DType::I32;
  int32_t tokens = buffer("tokens", I, {B, T});
  int32_t targets = buffer("targets", I, {B, T});
  int32_t wte = buffer("wte", F, {V, C});
  int32_t x = buffer("x", F, {B, T, C});
  int32_t x2 = view("x.2d", x, {B * T, C});
  int32_t xs = buffer("h.saved_x", F, {B, T, C}, s.depth);
  int32_t xs2 = view("h.saved_x.2d", xs, {B * T, C});
  int32_t wh = buffer("h.w", F, {C, C});
  int32_t y = buffer("h.y", F, {B, T, C});
  int32_t xn = buffer("h.out", F, {B, T, C});
  int32_t head = buffer("head", F, {C, V});
  int32_t headBias = buffer("head_bias", F, {V});
  int32_t scores = buffer("scores", F, {B, T, V});
  int32_t logits = buffer("logits", F, {B, T, V});
  int32_t loss = buffer("loss", F, {});
  int32_t dloss = buffer("dloss", F, {});
  int32_t dlogits = buffer("dlogits", F, {B, T, V});
  int32_t dlogits2 = view("dlogits.2d", dlogits, {B * T, V});
  int32_t dhead = buffer("dhead", F, {C, V});
  int32_t dbias = buffer("dhead_bias", F, {V});
  int32_t dx = buffer("dx", F, {B, T, C});
  int32_t dx2 = view("dx.2d", dx, {B * T, C});
  int32_t dwh = buffer("h.dw", F, {C, C});
  int32_t dt = buffer("h.dt", F, {B, T, C});
  int32_t dxin = buffer("h.dx_in", F, {B, T, C});
  int32_t dwte = buffer("dwte", F, {V, C});
  a.arenaBytes = offset;

  auto op = [](std::string kernel, std::vector<Operand> in,
               std::vector<Operand> out, json attrs = json::object()) {
    return Op{std::move(kernel), std::move(in), std::move(out),
              std::move(attrs)};
  };
  auto mm = [](bool tl, bool tr) {
    return json{{"transpose_lhs", tl}, {"transpose_rhs", tr}};
  };
  auto whole = [](int32_t b) { return Operand{b, false}; };
  auto layer = [](int32_t b) { return Operand{b, true}; };

  Kernel pre{"pre.fwd", "", false, 1, false};
  pre.streamIn = {{0, whole(wte)}};
  pre.ops = {op("embedding", {whole(wte), whole(tokens)}, {whole(x)})};

  Kernel hf{"h.fwd", "h", false, s.depth, false};
  hf.streamIn = {{1, whole(wh)}};
  hf.ops = {op("copy", {whole(x)}, {layer(xs)}),
            op("matmul", {whole(x), whole(wh)}, {whole(y)}, mm(false, false)),
            op("add", {whole(x), whole(y)}, {whole(xn)})};
  hf.carry = {{x, xn}};

  Kernel hd{"head.fwd", "", false, 1, false};
  hd.streamIn = {{2, whole(head)}, {3, whole(headBias)}};
  hd.ops = {
      op("matmul", {whole(x), whole(head)}, {whole(scores)}, mm(false, false)),
      op("bias_add", {whole(scores), whole(headBias)}, {whole(logits)}),
      op("cross_entropy", {whole(logits), whole(targets)}, {whole(loss)})};

  Kernel hb{"head.bwd", "", true, 1, false};
  hb.streamIn = {{2, whole(head)}};
  hb.ops = {op("fill", {}, {whole(dloss)}, {{"value", 1.0}}),
            op("cross_entropy_grad",
               {whole(dloss), whole(logits), whole(targets)}, {whole(dlogits)}),
            op("reduce_sum", {whole(dlogits2)}, {whole(dbias)}),
            op("matmul", {whole(x2), whole(dlogits2)}, {whole(dhead)},
               mm(true, false)),
            op("matmul", {whole(dlogits), whole(head)}, {whole(dx)},
               mm(false, true))};
  hb.streamOut = {{whole(dhead), 2}, {whole(dbias), 3}};

  Kernel hbw{"h.bwd", "h", true, s.depth, true};
  hbw.streamIn = {{1, whole(wh)}};
  hbw.ops = {
      op("matmul", {layer(xs2), whole(dx2)}, {whole(dwh)}, mm(true, false)),
      op("matmul", {whole(dx), whole(wh)}, {whole(dt)}, mm(false, true)),
      op("add", {whole(dx), whole(dt)}, {whole(dxin)})};
  hbw.streamOut = {{whole(dwh), 1}};
  hbw.carry = {{dx, dxin}};

  Kernel pb{"pre.bwd", "", true, 1, false};
  pb.ops = {op("embedding_grad", {whole(dx), whole(tokens)}, {whole(dwte)})};
  pb.streamOut = {{whole(dwte), 0}};

  for (Kernel *k : {&pre, &hf, &hd, &hb, &hbw, &pb}) {
    k->placement.pes = 100;
    k->placement.flops = 1000;
    a.kernels.push_back(*k);
  }
  a.entryPoints = artifact::training::entryPoints(a, tokens, targets, loss,
                                                  logits, s.vocab);
  a.report = {{"estimated_step_seconds", 0.001}, {"note", "hand-built"}};
  artifact::reserveOpScratch(a);
  return a;
}

/// A nanoGPT token file (raw little-endian uint16) of `count` tokens where
/// each token determines the next (a learnable bigram), below `vocab`.
inline void writeToyTokens(const std::string &path, int64_t count,
                           int64_t vocab, int64_t salt = 0) {
  std::vector<uint16_t> ids(static_cast<size_t>(count));
  uint16_t token = uint16_t(salt % vocab);
  for (int64_t i = 0; i < count; ++i) {
    ids[size_t(i)] = token;
    token = uint16_t((token * 5 + 3) % vocab);
    if (i % 97 == 96) // restart the chain now and then
      token = uint16_t((i / 97 + salt) % vocab);
  }
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(ids.data()),
            std::streamsize(ids.size() * 2));
}

} // namespace giga::test

#endif // GIGA_TEST_UNIT_TRAINER_TOYARTIFACT_H
