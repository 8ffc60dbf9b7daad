//===- ValidationTest.cpp - malformed artifacts are clear errors ----------===//
//
// The executor checks every op at construction: each case below must throw
// ExecError naming the kernel, the op and what is wrong.
//
//===----------------------------------------------------------------------===//

#include "ArtifactBuilder.h"

#include "runtime/exec/Executor.h"
#include "runtime/store/WeightStore.h"

#include <gtest/gtest.h>

#include <functional>

namespace giga::exec::test {
namespace {

/// A valid one-kernel artifact to break: x [2, 3] -> matmul with w [4, 3]^T
/// -> y [2, 4], plus a few spare buffers for the cases.
struct Fixture {
  Fixture() : ab(1, 1, 10) {
    wParam = ab.param("w", {4, 3});
    x = ab.f32("x", {2, 3});
    w = ab.f32("w_buf", {4, 3});
    y = ab.f32("y", {2, 4});
    ids = ab.buffer("ids", DType::I32, {2});
    stacked = ab.f32("stacked", {2, 3}, 2);
    artifact::Kernel &k = ab.kernel("blk");
    k.streamIn.push_back({wParam, W(w)});
    ab.op(k, "matmul", {W(x), W(w)}, {W(y)}, {{"transpose_rhs", true}});
    artifact::reserveOpScratch(ab.a);
  }
  artifact::Kernel &kernel() { return ab.a.kernels[0]; }
  artifact::Op &op() { return kernel().ops[0]; }

  ArtifactBuilder ab;
  int32_t wParam, x, w, y, ids, stacked;
};

std::string errorOf(const std::function<void(Fixture &)> &breakIt) {
  Fixture f;
  breakIt(f);
  store::WeightStore store(f.ab.a, {});
  try {
    Executor exec(f.ab.a, store);
  } catch (const ExecError &e) {
    return e.what();
  }
  return "(no error)";
}

void expectError(const std::function<void(Fixture &)> &breakIt,
                 const std::vector<std::string> &parts) {
  std::string what = errorOf(breakIt);
  for (const std::string &part : parts)
    EXPECT_NE(what.find(part), std::string::npos)
        << "missing '" << part << "' in: " << what;
}

TEST(Validation, ValidFixtureRuns) {
  EXPECT_EQ(errorOf([](Fixture &) {}), "(no error)");
}

TEST(Validation, UnknownOp) {
  expectError([](Fixture &f) { f.op().kernel = "matmull"; },
              {"kernel 'blk' op 0 'matmull'", "unknown op kind 'matmull'",
               "known: embedding"});
}

TEST(Validation, OperandCount) {
  expectError([](Fixture &f) { f.op().inputs.pop_back(); },
              {"kernel 'blk' op 0 'matmul'",
               "expects 2 input(s) and 1 output(s), got 1 and 1"});
}

TEST(Validation, BufferIndexOutOfRange) {
  expectError([](Fixture &f) { f.op().inputs[0].buffer = 99; },
              {"input 0 names buffer 99"});
}

TEST(Validation, Dtype) {
  expectError([](Fixture &f) { f.op().inputs[0] = W(f.ids); },
              {"lhs must be f32", "buffer 'ids' i32 [2]"});
}

TEST(Validation, ContractionMismatch) {
  expectError([](Fixture &f) { f.op().attrs = nlohmann::json::object(); },
              {"contraction dimensions differ", "transpose_rhs=false"});
}

TEST(Validation, ResultShape) {
  expectError([](Fixture &f) { f.op().outputs[0] = W(f.x); },
              {"result must have shape [2, 4]", "buffer 'x' f32 [2, 3]"});
}

TEST(Validation, FlagMustBeBoolean) {
  expectError([](Fixture &f) { f.op().attrs["transpose_rhs"] = 1; },
              {"attribute 'transpose_rhs' must be a boolean"});
}

TEST(Validation, MissingAttribute) {
  expectError(
      [](Fixture &f) {
        int32_t b = f.ab.f32("b", {3}), out = f.ab.f32("ln", {2, 3});
        ArtifactBuilder::op(f.kernel(), "layernorm", {W(f.x), W(b), W(b)},
                            {W(out)});
      },
      {"kernel 'blk' op 1 'layernorm'", "needs attribute 'epsilon'"});
  expectError(
      [](Fixture &f) {
        int32_t out = f.ab.f32("t", {3, 2});
        ArtifactBuilder::op(f.kernel(), "transpose", {W(f.x)}, {W(out)},
                            {{"permutation", {1, 1}}});
      },
      {"is not a permutation"});
  expectError(
      [](Fixture &f) {
        ArtifactBuilder::op(f.kernel(), "softmax", {W(f.x)},
                            {W(f.ab.f32("s", {2, 3}))}, {{"axis", 2}});
      },
      {"attribute 'axis' = 2 is out of range for rank 2"});
}

TEST(Validation, SplitShapes) {
  expectError(
      [](Fixture &f) {
        int32_t a = f.ab.f32("a", {2, 1}), b = f.ab.f32("b", {2, 2});
        ArtifactBuilder::op(f.kernel(), "split", {W(f.x)}, {W(a), W(b)},
                            {{"axis", 1}});
      },
      {"split parts must be equal"});
}

TEST(Validation, PerLayerSliceOfUnstackedBuffer) {
  expectError([](Fixture &f) { f.op().inputs[0] = L(f.x); },
              {"per-layer slice of buffer 'x', which is not stacked"});
  // The whole stacked buffer is [layers, ...]: a batched lhs [2, 2, 3].
  expectError([](Fixture &f) { f.op().inputs[0] = W(f.stacked); },
              {"result must have shape [2, 2, 4]"});
}

TEST(Validation, InPlaceOnlyForElementwiseOps) {
  expectError(
      [](Fixture &f) {
        ArtifactBuilder::op(f.kernel(), "transpose", {W(f.x)},
                            {W(f.ab.alias("xt", f.x, {3, 2}))},
                            {{"permutation", {1, 0}}});
      },
      {"output 0 (buffer 'xt') overlaps input 0 (buffer 'x')",
       "cannot run in place"});
  // gelu in place is fine.
  EXPECT_EQ(errorOf([](Fixture &f) {
              ArtifactBuilder::op(f.kernel(), "gelu", {W(f.y)}, {W(f.y)});
            }),
            "(no error)");
}

TEST(Validation, StreamInMustHoldTheParameter) {
  expectError([](Fixture &f) { f.kernel().streamIn[0].target = W(f.x); },
              {"kernel 'blk': stream_in 0 buffer 'x'",
               "does not hold parameter 'w' (f32 [4, 3])"});
  expectError([](Fixture &f) { f.kernel().streamIn[0].param = 5; },
              {"stream_in 0 names parameter 5"});
}

TEST(Validation, GroupedParameterInAnotherGroup) {
  expectError(
      [](Fixture &f) {
        int32_t p = f.ab.param("v", {2, 3}, "h", 2);
        f.kernel().streamOut.push_back({W(f.x), p});
      },
      {"stream_out 0 streams 'v' of group 'h'"});
}

TEST(Validation, CarrySizes) {
  expectError(
      [](Fixture &f) {
        f.kernel().carry.push_back({f.x, f.y});
      },
      {"carry 0 copies buffer 'y' (32 bytes) into 'x' (24 bytes)"});
}

TEST(Validation, BufferOutsideArena) {
  expectError([](Fixture &f) { f.ab.a.arenaBytes = 64; },
              {"does not fit in the arena of 64 bytes"});
}

/// run() names the entry point and the input it cannot use.
TEST(Validation, EntryPointsAndTheirInputs) {
  Fixture f;
  store::WeightStore store(f.ab.a, {});
  store.initialize(1);
  Executor exec(f.ab.a, store);
  int32_t id = 3, outOfRange = 10;
  auto errorOfRun = [&](const std::string &entry, const Executor::Inputs &in) {
    try {
      exec.run(entry, in);
    } catch (const ExecError &e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(errorOfRun("train_step", {{"tokens", &id}, {"targets", &id}}),
            "(no error)");
  EXPECT_EQ(errorOfRun("decode", {}),
            "the artifact has no entry point 'decode' (it has: train_step, "
            "eval_step)");
  EXPECT_EQ(errorOfRun("train_step", {{"tokens", &id}}),
            "train_step needs input 'targets'");
  EXPECT_EQ(errorOfRun("eval_step",
                       {{"tokens", &id}, {"targets", &id}, {"ids", &id}}),
            "eval_step has no input 'ids'");
  EXPECT_EQ(
      errorOfRun("eval_step", {{"tokens", &id}, {"targets", &outOfRange}}),
      "eval_step input 'targets': 10 at position 0 is outside [0, 10)");
  EXPECT_THROW(exec.output("eval_step", "logits"), ExecError);
  EXPECT_NE(exec.output("eval_step", "loss"), nullptr);
}

TEST(Validation, AttentionShapes) {
  expectError(
      [](Fixture &f) {
        int32_t q = f.ab.f32("q", {1, 2, 3, 4}), m = f.ab.f32("m", {2, 2});
        int32_t o = f.ab.f32("o", {1, 2, 3, 4});
        ArtifactBuilder::op(f.kernel(), "attention", {W(q), W(q), W(q), W(m)},
                            {W(o)}, {{"scale", 0.5}});
      },
      {"mask must have shape [3, 3]"});
  expectError(
      [](Fixture &f) {
        int32_t q = f.ab.f32("q", {1, 2, 1, 4}),
                k = f.ab.f32("k", {1, 2, 6, 4});
        int32_t v = f.ab.f32("v", {1, 2, 6, 3}), m = f.ab.f32("m", {1, 6});
        int32_t o = f.ab.f32("o", {1, 2, 1, 4});
        ArtifactBuilder::op(f.kernel(), "attention", {W(q), W(k), W(v), W(m)},
                            {W(o)}, {{"scale", 0.5}});
      },
      {"v must have shape [1, 2, 6, 4]"});
  expectError(
      [](Fixture &f) {
        int32_t q = f.ab.f32("q", {1, 2, 1, 4}),
                k = f.ab.f32("k", {1, 2, 6, 4});
        int32_t m = f.ab.f32("m", {6, 6}), o = f.ab.f32("o", {1, 2, 1, 4});
        ArtifactBuilder::op(f.kernel(), "attention", {W(q), W(k), W(k), W(m)},
                            {W(o)}, {{"scale", 0.5}});
      },
      {"mask must have shape [1, 6]"});
}

TEST(Validation, LinearCrossEntropyShapesAndChunk) {
  // x [2, 3] against w [4, 3]: 4 classes, 2 rows (labels: the fixture's
  // ids), a scalar loss; the scratch region sized again. A chunk wider than
  // the vocabulary means all of it.
  auto fused = [](int64_t chunk, std::vector<int64_t> weight) {
    return [=](Fixture &f) {
      int32_t loss = f.ab.f32("loss", {});
      int32_t w = f.ab.f32("w2", weight);
      f.op() = {"linear_cross_entropy",
                {W(f.x), W(w), W(f.ids)},
                {W(loss)},
                {{"chunk", chunk}}};
      artifact::reserveOpScratch(f.ab.a);
    };
  };
  EXPECT_EQ(errorOf(fused(1, {4, 3})), "(no error)");
  EXPECT_EQ(errorOf(fused(50, {4, 3})), "(no error)");
  expectError(fused(0, {4, 3}),
              {"op 0 'linear_cross_entropy'",
               "chunk 0 must be at least 1 (vocabulary columns)"});
  expectError(fused(2, {4, 2}), {"weight", "must be [V, 3]"});
}

} // namespace
} // namespace giga::exec::test
