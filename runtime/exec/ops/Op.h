//===- Op.h - one artifact op, checked, prepared and run --------*- C++ -*-===//
//
// The executor runs every op of an artifact through this interface. For each
// op it builds an OpContext (the operands as views of their buffers, the
// attributes checked against the op schema) and calls the prepare function
// registered for the op and its element type (Registry.cpp). Prepare checks
// what is specific to the op (shapes, dtypes, attribute values), with
// messages that name the kernel, the op and the operand, and returns an Op
// holding the op's own state: sizes, matmul plans, its scratch size. run()
// then calls runtime/kernels on the operands' pointers for one layer. One
// file per op (or an op and its gradient) in this folder; no kernel code.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_EXEC_OPS_OP_H
#define GIGA_RUNTIME_EXEC_OPS_OP_H

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/OpSchema.h"
#include "runtime/exec/ExecError.h"
#include "runtime/kernels/Matmul.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace giga::exec::ops {

using artifact::DType;

/// An operand as the op sees it: a stacked buffer's slice with per_layer,
/// the whole stacked buffer ([layers, ...shape]) without.
struct OperandView {
  int32_t buffer = -1;
  bool perLayer = false;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  int64_t elements = 0;
  int64_t bytes = 0;
};

/// Matmul plans shared by every op with the same shape, all in one precision.
class PlanCache {
public:
  explicit PlanCache(kernels::MatmulPrecision precision)
      : precision(precision) {}
  /// The plan for `shape` in this cache's precision.
  const kernels::MatmulPlan *get(kernels::MatmulShape shape);
  size_t size() const { return plans.size(); }
  const kernels::MatmulPrecision precision;

private:
  std::map<kernels::MatmulShape, std::unique_ptr<kernels::MatmulPlan>> plans;
};

/// One invocation's pointers, in the op's operand order.
struct OpArgs {
  const std::vector<void *> &in;
  const std::vector<void *> &out;
  float *scratch; // artifact::opScratchFloats of the op's shapes
  int64_t layer;
  /// Per input: the weight store's bf16 copy of it (StoreOptions::
  /// bf16Copies) when the input is a weight read in place from the store,
  /// else null.
  const std::vector<const void *> &inBf16;

  float *f32In(size_t i) const { return static_cast<float *>(in[i]); }
  float *f32Out(size_t i) const { return static_cast<float *>(out[i]); }
  const int32_t *i32In(size_t i) const {
    return static_cast<const int32_t *>(in[i]);
  }
};

/// A prepared op. Subclasses keep what their run() needs.
class Op {
public:
  virtual ~Op() = default;
  virtual void run(const OpArgs &args) const = 0;

  /// Floats of scratch memory run() uses: artifact::opScratchFloats, which
  /// the compiler reserved in the arena.
  int64_t scratchFloats = 0;
  /// inPlace[i]: the inputs output i may be exactly (elementwise ops);
  /// otherwise it may overlap none.
  std::vector<std::vector<int>> inPlace;
  /// "kernel 'h.fwd' op 3 'matmul'", for run-time errors.
  std::string where;

  /// Throws ExecError naming the op, the layer and `message`.
  [[noreturn]] void fail(int64_t layer, const std::string &message) const;
  /// Every id in [0, limit), or fail naming the first that is not.
  void checkIds(int64_t layer, const int32_t *ids, int64_t n, int64_t limit,
                const char *what) const;
};

/// The validator: one op of one kernel, its operands as views and its
/// attributes checked against the schema. Messages name the kernel, the op
/// and the operand.
class OpContext {
public:
  OpContext(const artifact::Artifact &artifact, const artifact::Kernel &kernel,
            size_t index, PlanCache &plans);

  const artifact::OpSchema &schema() const { return *opSchema; }
  const std::string &where() const { return location; }
  const std::vector<OperandView> &inputs() const { return inputViews; }
  const std::vector<OperandView> &outputs() const { return outputViews; }
  const OperandView &in(size_t i) const { return inputViews[i]; }
  const OperandView &out(size_t i) const { return outputViews[i]; }

  [[noreturn]] void fail(const std::string &message) const;
  /// "buffer 'h.x' f32 [2, 8, 16]"
  std::string describe(const OperandView &view) const;

  void operandCounts(size_t inputs, size_t outputs) const;
  void dtype(const OperandView &view, const std::string &role,
             DType expected) const;
  void minRank(const OperandView &view, const std::string &role,
               size_t rank) const;
  void shape(const OperandView &view, const std::string &role,
             const std::vector<int64_t> &expected) const;
  void sameDtype(const OperandView &a, const std::string &roleA,
                 const OperandView &b, const std::string &roleB) const;
  /// Every input and output f32 and of input 0's shape (elementwise ops).
  void allF32OfOneShape() const;

  /// Attributes, by the schema's names (attr::k...); their presence and types
  /// were checked against the schema already.
  bool flag(const char *name) const;
  double number(const char *name) const;
  int64_t integer(const char *name) const;
  std::vector<int64_t> integers(const char *name) const;
  /// All of them, as the artifact holds them.
  const nlohmann::json &attributes() const;
  /// An axis attribute for `rank`, negative values counted from the end.
  int64_t axis(const char *name, size_t rank) const;

  /// A shared matmul plan in the executor's precision, or fail saying why
  /// oneDNN could not create it.
  const kernels::MatmulPlan *matmulPlan(const kernels::MatmulShape &shape);
  /// The precision every matmul of the executor multiplies in (kernels that
  /// plan their own matmuls take it too).
  kernels::MatmulPrecision matmulPrecision() const { return plans.precision; }

private:
  OperandView view(const artifact::Operand &operand,
                   const std::string &role) const;
  void checkAttributes() const;

  const artifact::Artifact &artifact;
  const artifact::Kernel &kernel;
  const artifact::Op &op;
  const artifact::OpSchema *opSchema = nullptr;
  PlanCache &plans;
  std::string location;
  std::vector<OperandView> inputViews, outputViews;
};

/// A tensor normalised along its last dimension (layernorm, rmsnorm): its
/// rows and columns, and its epsilon attribute, checked finite and >= 0.
struct NormRows {
  int64_t rows = 0, cols = 0;
  float epsilon = 0.0f;
};
NormRows normRows(const OpContext &c, const OperandView &x,
                  const char *epsilonName);

/// "V at position I is outside [0, limit)" for the first id out of range,
/// "" when every id is in it.
std::string outOfRange(const int32_t *ids, int64_t n, int64_t limit);

/// The product of shape[begin, end).
int64_t product(const std::vector<int64_t> &shape, size_t begin, size_t end);
using artifact::formatShape;
/// Whether `suffix` is the trailing part of `shape`.
bool isSuffix(const std::vector<int64_t> &suffix,
              const std::vector<int64_t> &shape);

/// Checks and prepares an op through the implementation registered for its
/// name and element type (its first output's dtype). Throws ExecError.
std::unique_ptr<Op> prepare(OpContext &context);

/// Every (op, element type) with an implementation, for tests and docs.
std::vector<std::pair<artifact::OpId, DType>> registeredOps();

} // namespace giga::exec::ops

#endif // GIGA_RUNTIME_EXEC_OPS_OP_H
