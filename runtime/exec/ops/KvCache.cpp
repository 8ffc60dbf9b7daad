//===- KvCache.cpp - a chunk's keys or values into a persistent cache -----===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Layout.h"

namespace giga::exec::ops {
namespace {

/// The update [B, H, S, D] becomes rows start..start+S-1 of the cache
/// [B, H, Tk, D]; as [B·H, S·D] into [B·H, Tk·D] at column start·D.
class KvCache : public Op {
public:
  KvCache(int64_t heads, int64_t rows, int64_t cacheRows, int64_t headDim)
      : heads(heads), rows(rows), cacheRows(cacheRows), headDim(headDim) {}
  void run(const OpArgs &a) const override {
    int32_t start = a.i32In(1)[0];
    if (start < 0 || start + rows > cacheRows)
      fail(a.layer, "writes rows " + std::to_string(start) + ".." +
                        std::to_string(int64_t(start) + rows - 1) +
                        " of a cache of " + std::to_string(cacheRows) +
                        " rows");
    kernels::writeColumns(a.out[0], a.in[0], heads, cacheRows * headDim,
                          rows * headDim, start * headDim, sizeof(float));
  }

private:
  int64_t heads, rows, cacheRows, headDim;
};

} // namespace

std::unique_ptr<Op> prepareKvCache(OpContext &c) {
  c.operandCounts(2, 1);
  const OperandView &update = c.in(0), &cache = c.out(0);
  c.dtype(update, "update", DType::F32);
  c.dtype(cache, "cache", DType::F32);
  c.dtype(c.in(1), "start", DType::I32);
  c.shape(c.in(1), "start", {1});
  if (update.shape.size() != 4)
    c.fail("update must be [B, H, S, D], got " + c.describe(update));
  const std::vector<int64_t> &u = update.shape, &k = cache.shape;
  if (k.size() != 4 || k[0] != u[0] || k[1] != u[1] || k[3] != u[3] ||
      k[2] < u[2])
    c.fail("cache must be [B, H, Tk, D] with the update's B, H, D and "
           "Tk >= S; got " +
           c.describe(cache) + " for update " + c.describe(update));
  return std::make_unique<KvCache>(u[0] * u[1], u[2], k[2], u[3]);
}

} // namespace giga::exec::ops
