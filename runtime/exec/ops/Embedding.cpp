//===- Embedding.cpp - embedding and embedding_grad -----------------------===//
#include "runtime/kernels/Embedding.h"
#include "runtime/exec/ops/Op.h"

namespace giga::exec::ops {
namespace {

struct EmbeddingShape {
  int64_t ids = 0, rows = 0, channels = 0;
};

EmbeddingShape checkEmbedding(OpContext &c, bool grad) {
  c.operandCounts(2, 1);
  const OperandView &ids = c.in(1);
  c.dtype(ids, "ids", DType::I32);
  const OperandView &table = grad ? c.out(0) : c.in(0);
  const OperandView &rows = grad ? c.in(0) : c.out(0);
  const char *tableRole = grad ? "table grad" : "table";
  c.dtype(table, tableRole, DType::F32);
  c.dtype(rows, grad ? "grad" : "result", DType::F32);
  if (table.shape.size() != 2)
    c.fail(std::string(tableRole) + " must be [V, C], got " +
           c.describe(table));
  std::vector<int64_t> expected = ids.shape;
  expected.push_back(table.shape[1]);
  c.shape(rows, grad ? "grad" : "result", expected);
  return {ids.elements, table.shape[0], table.shape[1]};
}

/// result[i] = table[ids[i]]
class Embedding : public Op {
public:
  explicit Embedding(EmbeddingShape shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    checkIds(a.layer, a.i32In(1), shape.ids, shape.rows, "id");
    kernels::embeddingForward(a.f32Out(0), a.i32In(1), a.f32In(0), shape.ids,
                              shape.rows, shape.channels);
  }

private:
  EmbeddingShape shape;
};

/// table grad = the sum of grad's rows into the rows their ids name.
class EmbeddingGrad : public Op {
public:
  explicit EmbeddingGrad(EmbeddingShape shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    checkIds(a.layer, a.i32In(1), shape.ids, shape.rows, "id");
    kernels::embeddingBackward(a.f32Out(0), a.i32In(1), a.f32In(0), shape.ids,
                               shape.rows, shape.channels,
                               /*accumulate=*/false);
  }

private:
  EmbeddingShape shape;
};

} // namespace

std::unique_ptr<Op> prepareEmbedding(OpContext &c) {
  return std::make_unique<Embedding>(checkEmbedding(c, false));
}

std::unique_ptr<Op> prepareEmbeddingGrad(OpContext &c) {
  return std::make_unique<EmbeddingGrad>(checkEmbedding(c, true));
}

} // namespace giga::exec::ops
