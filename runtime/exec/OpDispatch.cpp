//===- OpDispatch.cpp - artifact ops checked and mapped to kernels --------===//
//
// One place per op kind for its check (prepareOp) and its execution (runOp).
// The semantics are exactly the op table of docs/artifact.md; where the
// kernel library's backward needs values the artifact does not keep
// (attention probabilities, layernorm mean/rstd, cross-entropy logsumexp),
// they are recomputed into the executor's scratch memory.
//
//===----------------------------------------------------------------------===//

#include "runtime/exec/OpDispatch.h"
#include "runtime/exec/Executor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace giga::exec::detail {

using artifact::DType;

namespace {

struct OpInfo {
  const char *name;
  OpKind kind;
};

const OpInfo kOps[] = {
    {"embedding", OpKind::Embedding},
    {"embedding_grad", OpKind::EmbeddingGrad},
    {"iota", OpKind::Iota},
    {"causal_mask", OpKind::CausalMask},
    {"fill", OpKind::Fill},
    {"matmul", OpKind::Matmul},
    {"add", OpKind::Add},
    {"bias_add", OpKind::BiasAdd},
    {"reduce_sum", OpKind::ReduceSum},
    {"layernorm", OpKind::LayerNorm},
    {"layernorm_grad", OpKind::LayerNormGrad},
    {"gelu", OpKind::Gelu},
    {"gelu_grad", OpKind::GeluGrad},
    {"softmax", OpKind::Softmax},
    {"softmax_grad", OpKind::SoftmaxGrad},
    {"attention", OpKind::Attention},
    {"attention_grad", OpKind::AttentionGrad},
    {"cross_entropy", OpKind::CrossEntropy},
    {"cross_entropy_grad", OpKind::CrossEntropyGrad},
    {"transpose", OpKind::Transpose},
    {"copy", OpKind::Copy},
    {"split", OpKind::Split},
    {"concat", OpKind::Concat},
};

int64_t product(const std::vector<int64_t> &shape, size_t begin, size_t end) {
  int64_t result = 1;
  for (size_t i = begin; i < end; ++i)
    result *= shape[i];
  return result;
}

/// Checks one op, with messages that name the kernel, the op and the operand.
class Checker {
public:
  Checker(const artifact::Artifact &artifact, const artifact::Kernel &kernel,
          const artifact::Op &op, PreparedOp &prepared)
      : artifact(artifact), kernel(kernel), op(op), prepared(prepared) {}

  [[noreturn]] void fail(const std::string &message) const {
    throw ExecError(prepared.where + ": " + message);
  }

  OperandView view(const artifact::Operand &operand,
                   const std::string &role) const {
    if (operand.buffer < 0 ||
        operand.buffer >= static_cast<int32_t>(artifact.buffers.size()))
      fail(role + " names buffer " + std::to_string(operand.buffer) +
           " but the artifact has " + std::to_string(artifact.buffers.size()) +
           " buffers");
    const artifact::Buffer &buffer = artifact.buffers[operand.buffer];
    OperandView view;
    view.buffer = operand.buffer;
    view.perLayer = operand.perLayer;
    view.dtype = buffer.type.dtype;
    view.shape = buffer.type.shape;
    if (operand.perLayer) {
      if (buffer.layers <= 0)
        fail(role + " takes a per-layer slice of buffer '" + buffer.name +
             "', which is not stacked");
      if (buffer.layers < kernel.layers)
        fail(role + " takes a per-layer slice of buffer '" + buffer.name +
             "', which holds " + std::to_string(buffer.layers) +
             " layers but the kernel runs " + std::to_string(kernel.layers));
      view.layerStride = buffer.type.bytes();
    } else if (buffer.layers > 0) {
      view.shape.insert(view.shape.begin(), buffer.layers);
    }
    for (int64_t dim : view.shape)
      if (dim < 0)
        fail(role + " (buffer '" + buffer.name + "') has a negative dimension");
    view.elements = product(view.shape, 0, view.shape.size());
    view.bytes = view.elements * artifact::sizeOf(view.dtype);
    return view;
  }

  std::string describe(const OperandView &view) const {
    return "buffer '" + artifact.buffers[view.buffer].name + "' " +
           artifact::toString(view.dtype) + " " + formatShape(view.shape);
  }

  void operandCounts(size_t inputs, size_t outputs) const {
    if (op.inputs.size() != inputs || op.outputs.size() != outputs)
      fail("expects " + std::to_string(inputs) + " input(s) and " +
           std::to_string(outputs) + " output(s), got " +
           std::to_string(op.inputs.size()) + " and " +
           std::to_string(op.outputs.size()));
  }

  const OperandView &in(size_t i) const { return prepared.inputs[i]; }
  const OperandView &out(size_t i) const { return prepared.outputs[i]; }

  void dtype(const OperandView &view, const std::string &role,
             DType expected) const {
    if (view.dtype != expected)
      fail(role + " must be " + artifact::toString(expected) + ", got " +
           describe(view));
  }
  void minRank(const OperandView &view, const std::string &role,
               size_t rank) const {
    if (view.shape.size() < rank)
      fail(role + " must have rank >= " + std::to_string(rank) + ", got " +
           describe(view));
  }
  void shape(const OperandView &view, const std::string &role,
             const std::vector<int64_t> &expected) const {
    if (view.shape != expected)
      fail(role + " must have shape " + formatShape(expected) + ", got " +
           describe(view));
  }
  void sameDtype(const OperandView &a, const std::string &roleA,
                 const OperandView &b, const std::string &roleB) const {
    if (a.dtype != b.dtype)
      fail(roleB + " (" + describe(b) + ") must have the dtype of " + roleA +
           " (" + describe(a) + ")");
  }

  const nlohmann::json &attrs() const {
    if (!op.attrs.is_object() && !op.attrs.is_null())
      fail("attrs must be an object");
    return op.attrs;
  }
  bool has(const char *name) const {
    return attrs().is_object() && attrs().contains(name);
  }
  double number(const char *name) const {
    if (!has(name) || !attrs()[name].is_number())
      fail(std::string("needs attribute '") + name + "' (a number)");
    return attrs()[name].get<double>();
  }
  int64_t integer(const char *name) const {
    if (!has(name) || !(attrs()[name].is_number_integer()))
      fail(std::string("needs attribute '") + name + "' (an integer)");
    return attrs()[name].get<int64_t>();
  }
  /// Flags are false when absent (the dialect's unit attributes).
  bool flag(const char *name) const {
    if (!has(name))
      return false;
    if (!attrs()[name].is_boolean())
      fail(std::string("attribute '") + name + "' must be a boolean");
    return attrs()[name].get<bool>();
  }
  int64_t axis(const char *name, size_t rank) const {
    int64_t value = integer(name);
    int64_t r = static_cast<int64_t>(rank);
    if (value < -r || value >= r)
      fail(std::string("attribute '") + name + "' = " + std::to_string(value) +
           " is out of range for rank " + std::to_string(rank));
    return value < 0 ? value + r : value;
  }

  const artifact::Artifact &artifact;
  const artifact::Kernel &kernel;
  const artifact::Op &op;
  PreparedOp &prepared;
};

bool isSuffix(const std::vector<int64_t> &suffix,
              const std::vector<int64_t> &shape) {
  return suffix.size() <= shape.size() &&
         std::equal(suffix.begin(), suffix.end(),
                    shape.end() - static_cast<std::ptrdiff_t>(suffix.size()));
}

std::vector<int64_t> dropLast(std::vector<int64_t> shape, size_t n) {
  shape.resize(shape.size() - n);
  return shape;
}

kernels::MatmulShape matmulShape(int64_t batch, int64_t m, int64_t n, int64_t k,
                                 bool transA, bool transB, float alpha = 1.0f) {
  kernels::MatmulShape shape;
  shape.batch = batch;
  shape.m = m;
  shape.n = n;
  shape.k = k;
  shape.transA = transA;
  shape.transB = transB;
  shape.alpha = alpha;
  return shape;
}

void prepareMatmul(Checker &c, PreparedOp &p, PlanCache &plans) {
  c.operandCounts(2, 1);
  const OperandView &lhs = c.in(0), &rhs = c.in(1), &out = c.out(0);
  c.dtype(lhs, "lhs", DType::F32);
  c.dtype(rhs, "rhs", DType::F32);
  c.dtype(out, "result", DType::F32);
  c.minRank(lhs, "lhs", 2);
  c.minRank(rhs, "rhs", 2);
  bool transA = c.flag("transpose_lhs"), transB = c.flag("transpose_rhs");
  size_t lr = lhs.shape.size(), rr = rhs.shape.size();
  int64_t m = lhs.shape[lr - 2], k = lhs.shape[lr - 1];
  if (transA)
    std::swap(m, k);
  int64_t rk = rhs.shape[rr - 2], n = rhs.shape[rr - 1];
  if (transB)
    std::swap(rk, n);
  if (k != rk)
    c.fail("contraction dimensions differ: lhs " + c.describe(lhs) + " has " +
           std::to_string(k) + ", rhs " + c.describe(rhs) + " has " +
           std::to_string(rk) +
           " (transpose_lhs=" + (transA ? "true" : "false") +
           ", transpose_rhs=" + (transB ? "true" : "false") + ")");
  std::vector<int64_t> batchDims = dropLast(lhs.shape, 2);
  bool shared = rr == 2;
  if (!shared && dropLast(rhs.shape, 2) != batchDims)
    c.fail("rhs batch dimensions of " + c.describe(rhs) +
           " must equal lhs batch dimensions " + formatShape(batchDims) +
           " or be absent (a shared rank-2 rhs)");
  std::vector<int64_t> expected = batchDims;
  expected.push_back(m);
  expected.push_back(n);
  c.shape(out, "result", expected);
  int64_t batch = product(batchDims, 0, batchDims.size());
  p.count = out.elements;
  p.flag = k == 0; // an empty contraction: the result is zeros
  if (out.elements == 0 || k == 0)
    return;
  kernels::MatmulShape shape;
  if (shared && !transA) // one big GEMM: [batch*m, k] x [k, n]
    shape = matmulShape(1, batch * m, n, k, false, transB);
  else {
    shape = matmulShape(batch, m, n, k, transA, transB);
    shape.broadcastB = shared && batch > 1;
  }
  try {
    p.plans[0] = plans.get(shape);
  } catch (const std::exception &e) {
    c.fail(std::string("cannot create the matmul primitive for ") +
           shape.str() + ": " + e.what());
  }
}

void prepareAttention(Checker &c, PreparedOp &p, PlanCache &plans, bool grad) {
  size_t first = grad ? 1 : 0; // attention_grad's input 0 is the gradient
  const char *names[] = {"q", "k", "v"};
  const OperandView &q = c.in(first);
  for (size_t i = 0; i < 3; ++i)
    c.dtype(c.in(first + i), names[i], DType::F32);
  if (q.shape.size() != 4)
    c.fail("q must be [B, H, T, D], got " + c.describe(q));
  for (size_t i = 1; i < 3; ++i)
    c.shape(c.in(first + i), names[i], q.shape);
  const OperandView &mask = c.in(first + 3);
  c.dtype(mask, "mask", DType::F32);
  c.shape(mask, "mask", {q.shape[2], q.shape[2]});
  if (grad) {
    c.dtype(c.in(0), "grad", DType::F32);
    c.shape(c.in(0), "grad", q.shape);
    const char *outs[] = {"dq", "dk", "dv"};
    for (size_t i = 0; i < 3; ++i) {
      c.dtype(c.out(i), outs[i], DType::F32);
      c.shape(c.out(i), outs[i], q.shape);
    }
  } else {
    c.dtype(c.out(0), "result", DType::F32);
    c.shape(c.out(0), "result", q.shape);
  }
  double scale = c.number("scale");
  if (!std::isfinite(scale))
    c.fail("attribute 'scale' must be finite");
  kernels::AttentionShape &a = p.attention;
  a.batch = q.shape[0];
  a.heads = q.shape[1];
  a.seqLen = q.shape[2];
  a.headDim = q.shape[3];
  a.scale = static_cast<float>(scale);
  int64_t heads = a.batch * a.heads, t = a.seqLen, d = a.headDim;
  p.scratchFloats = (grad ? 2 : 1) * a.probsSize();
  if (q.elements == 0)
    return;
  try {
    // probs = softmax(scale q k^T + mask); out = probs v
    p.plans[0] = plans.get(matmulShape(heads, t, t, d, false, true, a.scale));
    if (!grad) {
      p.plans[1] = plans.get(matmulShape(heads, t, d, t, false, false));
    } else {
      p.plans[1] = plans.get(matmulShape(heads, t, d, t, true, false)); // dv
      p.plans[2] = plans.get(matmulShape(heads, t, t, d, false, true)); // dP
      p.plans[3] =
          plans.get(matmulShape(heads, t, d, t, false, false, a.scale)); // dq
      p.plans[4] =
          plans.get(matmulShape(heads, t, d, t, true, false, a.scale)); // dk
    }
  } catch (const std::exception &e) {
    c.fail(std::string("cannot create the attention matmul primitives: ") +
           e.what());
  }
}

/// Merges the dimensions of a permutation copy: out dim i walks the input
/// with stride inStride[i]; adjacent out dims that are adjacent in the input
/// too become one, and size-1 dims go.
void prepareTranspose(Checker &c, PreparedOp &p) {
  c.operandCounts(1, 1);
  const OperandView &x = c.in(0), &out = c.out(0);
  c.sameDtype(x, "input", out, "result");
  if (!c.has("permutation") || !c.attrs()["permutation"].is_array())
    c.fail("needs attribute 'permutation' (an array of dimension indices)");
  const nlohmann::json &perm = c.attrs()["permutation"];
  size_t rank = x.shape.size();
  if (perm.size() != rank)
    c.fail("permutation has " + std::to_string(perm.size()) +
           " entries but the input " + c.describe(x) + " has rank " +
           std::to_string(rank));
  std::vector<int64_t> permutation;
  std::vector<bool> seen(rank, false);
  for (const nlohmann::json &entry : perm) {
    if (!entry.is_number_integer())
      c.fail("permutation entries must be integers");
    int64_t dim = entry.get<int64_t>();
    if (dim < 0 || dim >= static_cast<int64_t>(rank) || seen[dim])
      c.fail("permutation " + perm.dump() + " is not a permutation of 0.." +
             std::to_string(rank) + "-1");
    seen[dim] = true;
    permutation.push_back(dim);
  }
  std::vector<int64_t> expected;
  for (int64_t dim : permutation)
    expected.push_back(x.shape[dim]);
  c.shape(out, "result", expected);
  p.elementSize = artifact::sizeOf(x.dtype);
  p.count = x.elements;
  p.flag = x.dtype == DType::F32 && rank == 4 &&
           permutation == std::vector<int64_t>{0, 2, 1, 3};
  p.dims = x.shape; // for swapAxes12

  std::vector<int64_t> inStrides(rank, 1);
  for (size_t i = rank; i-- > 1;)
    inStrides[i - 1] = inStrides[i] * x.shape[i];
  std::vector<int64_t> sizes, strides;
  int64_t previous = -2;
  for (size_t i = 0; i < rank; ++i) {
    int64_t dim = permutation[i];
    if (x.shape[dim] == 1)
      continue;
    if (!sizes.empty() && dim == previous + 1 &&
        strides.back() == inStrides[dim] * x.shape[dim]) {
      sizes.back() *= x.shape[dim];
      strides.back() = inStrides[dim];
    } else {
      sizes.push_back(x.shape[dim]);
      strides.push_back(inStrides[dim]);
    }
    previous = dim;
  }
  p.sizes = sizes;
  p.strides = strides;
}

void prepareSplitConcat(Checker &c, PreparedOp &p, bool split) {
  const auto &op = c.op;
  if (split ? (op.inputs.size() != 1 || op.outputs.empty())
            : (op.inputs.empty() || op.outputs.size() != 1))
    c.fail(split ? "expects 1 input and at least 1 output, got " +
                       std::to_string(op.inputs.size()) + " and " +
                       std::to_string(op.outputs.size())
                 : "expects at least 1 input and 1 output, got " +
                       std::to_string(op.inputs.size()) + " and " +
                       std::to_string(op.outputs.size()));
  const OperandView &whole = split ? c.in(0) : c.out(0);
  const std::vector<OperandView> &parts = split ? p.outputs : p.inputs;
  const char *wholeRole = split ? "input" : "result";
  size_t rank = whole.shape.size();
  if (rank == 0)
    c.fail(std::string(wholeRole) + " must have rank >= 1");
  int64_t axis = c.axis("axis", rank);
  int64_t total = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string role = (split ? "output " : "input ") + std::to_string(i);
    c.sameDtype(whole, wholeRole, parts[i], role);
    if (parts[i].shape.size() != rank)
      c.fail(role + " (" + c.describe(parts[i]) + ") must have the rank of " +
             wholeRole + " (" + c.describe(whole) + ")");
    for (size_t d = 0; d < rank; ++d)
      if (d != static_cast<size_t>(axis) && parts[i].shape[d] != whole.shape[d])
        c.fail(role + " (" + c.describe(parts[i]) + ") differs from " +
               wholeRole + " (" + c.describe(whole) + ") outside axis " +
               std::to_string(axis));
    if (split && parts[i].shape[axis] != parts[0].shape[axis])
      c.fail("split parts must be equal; " + role + " is " +
             c.describe(parts[i]) + ", output 0 is " + c.describe(parts[0]));
    total += parts[i].shape[axis];
  }
  if (total != whole.shape[axis])
    c.fail("the parts' sizes along axis " + std::to_string(axis) + " add to " +
           std::to_string(total) + " but " + wholeRole + " " +
           c.describe(whole) + " has " + std::to_string(whole.shape[axis]));
  p.elementSize = artifact::sizeOf(whole.dtype);
  p.outer = product(whole.shape, 0, axis);
  p.inner = product(whole.shape, axis + 1, rank);
  p.dims.clear();
  for (const OperandView &part : parts)
    p.dims.push_back(part.shape[axis] * p.inner); // elements per outer row
  p.cols = whole.shape[axis] * p.inner;
}

std::string atLayer(const PreparedOp &op, int64_t layer) {
  return op.where + " (layer " + std::to_string(layer) + ")";
}

void checkIds(const PreparedOp &op, int64_t layer, const int32_t *ids,
              int64_t n, int64_t limit, const char *what) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= limit)
      throw ExecError(atLayer(op, layer) + ": " + what + " " +
                      std::to_string(ids[i]) + " at position " +
                      std::to_string(i) + " is outside [0, " +
                      std::to_string(limit) + ")");
}

/// Softmax along a middle axis: `len` entries `inner` apart, in place-safe.
void softmaxStrided(float *out, const float *x, int64_t outer, int64_t len,
                    int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float *xs = x + o * len * inner + i;
      float *ys = out + o * len * inner + i;
      float maxValue = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < len; ++j)
        maxValue = std::max(maxValue, xs[j * inner]);
      if (maxValue == -std::numeric_limits<float>::infinity()) {
        for (int64_t j = 0; j < len; ++j)
          ys[j * inner] = 0.0f;
        continue;
      }
      float sum = 0.0f;
      for (int64_t j = 0; j < len; ++j) {
        ys[j * inner] = std::exp(xs[j * inner] - maxValue);
        sum += ys[j * inner];
      }
      for (int64_t j = 0; j < len; ++j)
        ys[j * inner] /= sum;
    }
}

void softmaxGradStrided(float *dx, const float *y, const float *dy,
                        int64_t outer, int64_t len, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t base = o * len * inner + i;
      float dot = 0.0f;
      for (int64_t j = 0; j < len; ++j)
        dot += dy[base + j * inner] * y[base + j * inner];
      for (int64_t j = 0; j < len; ++j)
        dx[base + j * inner] =
            y[base + j * inner] * (dy[base + j * inner] - dot);
    }
}

template <typename T>
void gather(char *out, const char *in, const std::vector<int64_t> &sizes,
            const std::vector<int64_t> &strides) {
  T *dst = reinterpret_cast<T *>(out);
  const T *src = reinterpret_cast<const T *>(in);
  size_t rank = sizes.size();
  std::vector<int64_t> index(rank, 0);
  int64_t last = sizes.back(), lastStride = strides.back();
  int64_t offset = 0;
  while (true) {
    for (int64_t i = 0; i < last; ++i)
      *dst++ = src[offset + i * lastStride];
    size_t d = rank - 1;
    while (d > 0) {
      --d;
      offset += strides[d];
      if (++index[d] < sizes[d])
        break;
      offset -= strides[d] * sizes[d];
      index[d] = 0;
      if (d == 0)
        return;
    }
    if (rank == 1)
      return;
  }
}

void runTranspose(const PreparedOp &p, char *out, const char *in) {
  if (p.count == 0)
    return;
  if (p.flag) {
    kernels::swapAxes12(reinterpret_cast<float *>(out),
                        reinterpret_cast<const float *>(in), p.dims[0],
                        p.dims[1], p.dims[2], p.dims[3]);
    return;
  }
  const std::vector<int64_t> &sizes = p.sizes, &strides = p.strides;
  size_t rank = sizes.size();
  if (rank == 0 || (rank == 1 && strides[0] == 1)) {
    std::memcpy(out, in, p.count * p.elementSize);
    return;
  }
  if (strides.back() == 1) {
    // Runs of sizes.back() contiguous elements (the [B,T,H,D] <-> [B,H,T,D]
    // case copies rows of D).
    int64_t run = sizes.back() * p.elementSize;
    std::vector<int64_t> index(rank - 1, 0);
    int64_t offset = 0;
    int64_t runs = p.count / sizes.back();
    for (int64_t r = 0; r < runs; ++r) {
      std::memcpy(out + r * run, in + offset * p.elementSize, run);
      for (size_t d = rank - 1; d-- > 0;) {
        offset += strides[d];
        if (++index[d] < sizes[d])
          break;
        offset -= strides[d] * sizes[d];
        index[d] = 0;
      }
    }
    return;
  }
  if (p.elementSize == 8)
    gather<int64_t>(out, in, sizes, strides);
  else
    gather<int32_t>(out, in, sizes, strides);
}

} // namespace

std::string formatShape(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

const std::vector<std::string> &knownOps() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const OpInfo &info : kOps)
      result.push_back(info.name);
    return result;
  }();
  return names;
}

const kernels::MatmulPlan *PlanCache::get(const kernels::MatmulShape &shape) {
  std::unique_ptr<kernels::MatmulPlan> &plan = plans[shape];
  if (!plan)
    plan = std::make_unique<kernels::MatmulPlan>(shape);
  return plan.get();
}

PreparedOp prepareOp(const artifact::Artifact &artifact,
                     const artifact::Kernel &kernel, size_t index,
                     PlanCache &plans) {
  const artifact::Op &op = kernel.ops[index];
  PreparedOp p;
  p.where = "kernel '" + kernel.name + "' op " + std::to_string(index) + " '" +
            op.kernel + "'";
  Checker c(artifact, kernel, op, p);
  const OpInfo *info = nullptr;
  for (const OpInfo &candidate : kOps)
    if (op.kernel == candidate.name)
      info = &candidate;
  if (!info) {
    std::string known;
    for (const OpInfo &candidate : kOps)
      known += std::string(known.empty() ? "" : ", ") + candidate.name;
    c.fail("unknown op kind '" + op.kernel + "' (known: " + known + ")");
  }
  p.kind = info->kind;
  for (size_t i = 0; i < op.inputs.size(); ++i)
    p.inputs.push_back(c.view(op.inputs[i], "input " + std::to_string(i)));
  for (size_t i = 0; i < op.outputs.size(); ++i)
    p.outputs.push_back(c.view(op.outputs[i], "output " + std::to_string(i)));
  p.inPlaceAllowed.assign(p.outputs.size(), {});
  c.attrs();

  auto sameShape = [&](const OperandView &view, const std::string &role,
                       const OperandView &like) {
    c.shape(view, role, like.shape);
  };
  // Elementwise ops and their gradients: every operand f32 of one shape.
  auto allF32OfOneShape = [&] {
    for (size_t i = 0; i < p.inputs.size(); ++i) {
      c.dtype(c.in(i), "input " + std::to_string(i), DType::F32);
      sameShape(c.in(i), "input " + std::to_string(i), c.in(0));
    }
    c.dtype(c.out(0), "result", DType::F32);
    sameShape(c.out(0), "result", c.in(0));
  };

  switch (p.kind) {
  case OpKind::Embedding:
  case OpKind::EmbeddingGrad: {
    c.operandCounts(2, 1);
    bool grad = p.kind == OpKind::EmbeddingGrad;
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
    p.count = ids.elements;
    p.rows = table.shape[0];
    p.cols = table.shape[1];
    break;
  }
  case OpKind::Iota: {
    c.operandCounts(0, 1);
    c.dtype(c.out(0), "result", DType::I32);
    if (c.out(0).shape.size() != 1)
      c.fail("result must be i32 [N], got " + c.describe(c.out(0)));
    p.count = c.out(0).elements;
    break;
  }
  case OpKind::CausalMask: {
    c.operandCounts(0, 1);
    const OperandView &out = c.out(0);
    c.dtype(out, "result", DType::F32);
    if (out.shape.size() != 2 || out.shape[0] != out.shape[1])
      c.fail("result must be [T, T], got " + c.describe(out));
    p.count = out.shape[0];
    break;
  }
  case OpKind::Fill: {
    c.operandCounts(0, 1);
    c.dtype(c.out(0), "result", DType::F32);
    p.value = static_cast<float>(c.number("value"));
    p.count = c.out(0).elements;
    break;
  }
  case OpKind::Matmul:
    prepareMatmul(c, p, plans);
    break;
  case OpKind::Add: {
    c.operandCounts(2, 1);
    const OperandView &lhs = c.in(0), &rhs = c.in(1);
    c.dtype(lhs, "lhs", DType::F32);
    c.dtype(rhs, "rhs", DType::F32);
    c.dtype(c.out(0), "result", DType::F32);
    if (!isSuffix(rhs.shape, lhs.shape))
      c.fail("rhs " + c.describe(rhs) + " must have lhs's shape " +
             formatShape(lhs.shape) + " or a suffix of it");
    sameShape(c.out(0), "result", lhs);
    p.cols = rhs.elements;
    p.rows = rhs.elements ? lhs.elements / rhs.elements : 0;
    p.inPlaceAllowed[0] = {0};
    if (rhs.shape == lhs.shape)
      p.inPlaceAllowed[0].push_back(1);
    break;
  }
  case OpKind::BiasAdd: {
    c.operandCounts(2, 1);
    const OperandView &x = c.in(0), &bias = c.in(1);
    c.dtype(x, "x", DType::F32);
    c.dtype(bias, "bias", DType::F32);
    c.dtype(c.out(0), "result", DType::F32);
    c.minRank(x, "x", 1);
    c.shape(bias, "bias", {x.shape.back()});
    sameShape(c.out(0), "result", x);
    p.cols = x.shape.back();
    p.rows = p.cols ? x.elements / p.cols : 0;
    p.inPlaceAllowed[0] = {0};
    break;
  }
  case OpKind::ReduceSum: {
    c.operandCounts(1, 1);
    const OperandView &x = c.in(0), &y = c.out(0);
    c.dtype(x, "x", DType::F32);
    c.dtype(y, "result", DType::F32);
    if (!isSuffix(y.shape, x.shape))
      c.fail("result " + c.describe(y) + " must be a suffix of x's shape " +
             formatShape(x.shape));
    p.cols = y.elements;
    p.rows = y.elements ? x.elements / y.elements : 0;
    break;
  }
  case OpKind::LayerNorm:
  case OpKind::LayerNormGrad: {
    bool grad = p.kind == OpKind::LayerNormGrad;
    c.operandCounts(3, grad ? 3 : 1);
    const OperandView &x = grad ? c.in(1) : c.in(0);
    const OperandView &weight = grad ? c.in(2) : c.in(1);
    for (size_t i = 0; i < 3; ++i)
      c.dtype(c.in(i), "input " + std::to_string(i), DType::F32);
    for (size_t i = 0; i < p.outputs.size(); ++i)
      c.dtype(c.out(i), "output " + std::to_string(i), DType::F32);
    c.minRank(x, "x", 1);
    std::vector<int64_t> channels = {x.shape.back()};
    c.shape(weight, "weight", channels);
    if (grad) {
      sameShape(c.in(0), "grad", x);
      sameShape(c.out(0), "dx", x);
      c.shape(c.out(1), "dweight", channels);
      c.shape(c.out(2), "dbias", channels);
    } else {
      c.shape(c.in(2), "bias", channels);
      sameShape(c.out(0), "result", x);
    }
    double epsilon = c.number("epsilon");
    if (!(epsilon >= 0.0) || !std::isfinite(epsilon))
      c.fail("attribute 'epsilon' must be finite and >= 0");
    p.value = static_cast<float>(epsilon);
    p.cols = x.shape.back();
    p.rows = p.cols ? x.elements / p.cols : 0;
    // mean and rstd; the gradient recomputes them with a forward pass whose
    // output goes to scratch too.
    p.scratchFloats = 2 * p.rows + (grad ? x.elements : 0);
    break;
  }
  case OpKind::Gelu:
  case OpKind::GeluGrad: {
    bool grad = p.kind == OpKind::GeluGrad;
    c.operandCounts(grad ? 2 : 1, 1);
    allF32OfOneShape();
    p.flag = c.flag("tanh");
    p.count = c.in(0).elements;
    p.inPlaceAllowed[0] = grad ? std::vector<int>{0, 1} : std::vector<int>{0};
    break;
  }
  case OpKind::Softmax:
  case OpKind::SoftmaxGrad: {
    bool grad = p.kind == OpKind::SoftmaxGrad;
    c.operandCounts(grad ? 2 : 1, 1);
    allF32OfOneShape();
    const std::vector<int64_t> &shape = c.in(0).shape;
    c.minRank(c.in(0), "x", 1);
    int64_t axis = c.axis("axis", shape.size());
    p.outer = product(shape, 0, axis);
    p.cols = shape[axis];
    p.inner = product(shape, axis + 1, shape.size());
    p.inPlaceAllowed[0] = grad ? std::vector<int>{0, 1} : std::vector<int>{0};
    break;
  }
  case OpKind::Attention:
    c.operandCounts(4, 1);
    prepareAttention(c, p, plans, false);
    break;
  case OpKind::AttentionGrad:
    c.operandCounts(5, 3);
    prepareAttention(c, p, plans, true);
    break;
  case OpKind::CrossEntropy:
  case OpKind::CrossEntropyGrad: {
    bool grad = p.kind == OpKind::CrossEntropyGrad;
    c.operandCounts(grad ? 3 : 2, 1);
    size_t first = grad ? 1 : 0;
    const OperandView &logits = c.in(first), &targets = c.in(first + 1);
    c.dtype(logits, "logits", DType::F32);
    c.dtype(targets, "targets", DType::I32);
    c.minRank(logits, "logits", 1);
    c.shape(targets, "targets", dropLast(logits.shape, 1));
    if (grad) {
      c.dtype(c.in(0), "dloss", DType::F32);
      if (c.in(0).elements != 1)
        c.fail("dloss must be a scalar, got " + c.describe(c.in(0)));
      c.dtype(c.out(0), "dlogits", DType::F32);
      sameShape(c.out(0), "dlogits", logits);
    } else {
      c.dtype(c.out(0), "loss", DType::F32);
      if (c.out(0).elements != 1)
        c.fail("loss must be a scalar, got " + c.describe(c.out(0)));
    }
    p.cols = logits.shape.back();
    p.rows = targets.elements;
    if (p.rows == 0 || p.cols == 0)
      c.fail("logits " + c.describe(logits) + " are empty");
    p.scratchFloats = p.rows; // logsumexp
    break;
  }
  case OpKind::Transpose:
    prepareTranspose(c, p);
    break;
  case OpKind::Copy: {
    c.operandCounts(1, 1);
    c.sameDtype(c.in(0), "input", c.out(0), "result");
    if (c.in(0).elements != c.out(0).elements)
      c.fail("result " + c.describe(c.out(0)) +
             " must have as many elements "
             "as the input " +
             c.describe(c.in(0)));
    p.count = c.in(0).bytes;
    p.inPlaceAllowed[0] = {0};
    break;
  }
  case OpKind::Split:
    prepareSplitConcat(c, p, true);
    break;
  case OpKind::Concat:
    prepareSplitConcat(c, p, false);
    break;
  }
  p.in.assign(p.inputs.size(), nullptr);
  p.out.assign(p.outputs.size(), nullptr);
  return p;
}

void runOp(PreparedOp &p, float *scratch, int64_t layer) {
  auto f = [](void *ptr) { return static_cast<float *>(ptr); };
  auto i32 = [](void *ptr) { return static_cast<int32_t *>(ptr); };
  std::vector<void *> &in = p.in, &out = p.out;
  try {
    switch (p.kind) {
    case OpKind::Embedding:
      checkIds(p, layer, i32(in[1]), p.count, p.rows, "id");
      kernels::embeddingForward(f(out[0]), i32(in[1]), f(in[0]), p.count,
                                p.rows, p.cols);
      break;
    case OpKind::EmbeddingGrad:
      checkIds(p, layer, i32(in[1]), p.count, p.rows, "id");
      kernels::embeddingBackward(f(out[0]), i32(in[1]), f(in[0]), p.count,
                                 p.rows, p.cols, /*accumulate=*/false);
      break;
    case OpKind::Iota:
      for (int64_t i = 0; i < p.count; ++i)
        i32(out[0])[i] = static_cast<int32_t>(i);
      break;
    case OpKind::CausalMask:
      kernels::fillCausalMask(f(out[0]), p.count);
      break;
    case OpKind::Fill:
      std::fill(f(out[0]), f(out[0]) + p.count, p.value);
      break;
    case OpKind::Matmul:
      if (p.flag)
        std::fill(f(out[0]), f(out[0]) + p.count, 0.0f);
      else if (p.plans[0])
        p.plans[0]->run(f(in[0]), f(in[1]), f(out[0]));
      break;
    case OpKind::Add:
      for (int64_t r = 0; r < p.rows; ++r)
        kernels::add(f(out[0]) + r * p.cols, f(in[0]) + r * p.cols, f(in[1]),
                     p.cols);
      break;
    case OpKind::BiasAdd:
      kernels::biasAddForward(f(out[0]), f(in[0]), f(in[1]), p.rows, p.cols);
      break;
    case OpKind::ReduceSum: {
      float *y = f(out[0]);
      const float *x = f(in[0]);
      if (p.rows == 0) {
        std::fill(y, y + p.cols, 0.0f);
        break;
      }
      std::memcpy(y, x, sizeof(float) * p.cols);
      for (int64_t r = 1; r < p.rows; ++r)
        kernels::accumulate(y, x + r * p.cols, p.cols);
      break;
    }
    case OpKind::LayerNorm:
      kernels::layernormForward(f(out[0]), scratch, scratch + p.rows, f(in[0]),
                                f(in[1]), f(in[2]), p.rows, p.cols, p.value);
      break;
    case OpKind::LayerNormGrad: {
      float *mean = scratch, *rstd = scratch + p.rows,
            *normalized = scratch + 2 * p.rows;
      // The forward again, for mean and rstd (its output is not needed; the
      // weight stands in for the bias it does not have).
      kernels::layernormForward(normalized, mean, rstd, f(in[1]), f(in[2]),
                                f(in[2]), p.rows, p.cols, p.value);
      kernels::layernormBackward(f(out[0]), f(out[1]), f(out[2]), f(in[0]),
                                 f(in[1]), f(in[2]), mean, rstd, p.rows, p.cols,
                                 /*accumulate=*/false);
      break;
    }
    case OpKind::Gelu:
      kernels::geluForward(f(out[0]), f(in[0]), p.count,
                           p.flag ? kernels::GeluApproximation::Tanh
                                  : kernels::GeluApproximation::None);
      break;
    case OpKind::GeluGrad:
      kernels::geluBackward(f(out[0]), f(in[1]), f(in[0]), p.count,
                            p.flag ? kernels::GeluApproximation::Tanh
                                   : kernels::GeluApproximation::None,
                            /*accumulate=*/false);
      break;
    case OpKind::Softmax:
      if (p.inner == 1)
        kernels::softmaxForward(f(out[0]), f(in[0]), p.outer, p.cols);
      else
        softmaxStrided(f(out[0]), f(in[0]), p.outer, p.cols, p.inner);
      break;
    case OpKind::SoftmaxGrad:
      if (p.inner == 1)
        kernels::softmaxBackward(f(out[0]), f(in[1]), f(in[0]), p.outer, p.cols,
                                 /*accumulate=*/false);
      else
        softmaxGradStrided(f(out[0]), f(in[1]), f(in[0]), p.outer, p.cols,
                           p.inner);
      break;
    case OpKind::Attention:
    case OpKind::AttentionGrad: {
      bool grad = p.kind == OpKind::AttentionGrad;
      size_t first = grad ? 1 : 0;
      const float *q = f(in[first]), *k = f(in[first + 1]),
                  *v = f(in[first + 2]), *mask = f(in[first + 3]);
      const kernels::AttentionShape &a = p.attention;
      int64_t heads = a.batch * a.heads, t = a.seqLen;
      if (!p.plans[0])
        break;
      float *probs = scratch;
      // probs = softmax(scale q k^T + mask), as kernels::attentionForward.
      p.plans[0]->run(q, k, probs);
      for (int64_t h = 0; h < heads; ++h) {
        float *ph = probs + h * t * t;
        for (int64_t i = 0; i < t * t; ++i)
          ph[i] += mask[i];
        kernels::softmaxForward(ph, ph, t, t);
      }
      if (!grad) {
        p.plans[1]->run(probs, v, f(out[0]));
        break;
      }
      // As kernels::attentionBackward, with the plans prepared here.
      const float *dout = f(in[0]);
      float *dS = scratch + a.probsSize();
      p.plans[1]->run(probs, dout, f(out[2])); // dv = P^T dout
      p.plans[2]->run(dout, v, dS);            // dP = dout v^T
      kernels::softmaxBackward(dS, probs, dS, heads * t, t, false);
      p.plans[3]->run(dS, k, f(out[0])); // dq = scale dS k
      p.plans[4]->run(dS, q, f(out[1])); // dk = scale dS^T q
      break;
    }
    case OpKind::CrossEntropy: {
      const int32_t *targets = i32(in[1]);
      checkIds(p, layer, targets, p.rows, p.cols, "target");
      *f(out[0]) = kernels::crossEntropyForward(scratch, f(in[0]), targets,
                                                p.rows, p.cols);
      break;
    }
    case OpKind::CrossEntropyGrad: {
      const int32_t *targets = i32(in[2]);
      checkIds(p, layer, targets, p.rows, p.cols, "target");
      // The logsumexp again (the artifact keeps only the logits).
      kernels::crossEntropyForward(scratch, f(in[1]), targets, p.rows, p.cols);
      kernels::crossEntropyBackward(f(out[0]), f(in[1]), scratch, targets,
                                    *f(in[0]), p.rows, p.cols,
                                    /*accumulate=*/false);
      break;
    }
    case OpKind::Transpose:
      runTranspose(p, static_cast<char *>(out[0]),
                   static_cast<const char *>(in[0]));
      break;
    case OpKind::Copy:
      if (out[0] != in[0])
        std::memcpy(out[0], in[0], p.count);
      break;
    case OpKind::Split:
    case OpKind::Concat: {
      bool split = p.kind == OpKind::Split;
      char *whole = static_cast<char *>(split ? in[0] : out[0]);
      std::vector<void *> &parts = split ? out : in;
      int64_t es = p.elementSize;
      for (int64_t o = 0; o < p.outer; ++o) {
        int64_t offset = o * p.cols;
        for (size_t i = 0; i < parts.size(); ++i) {
          char *part = static_cast<char *>(parts[i]) + o * p.dims[i] * es;
          char *slot = whole + offset * es;
          if (split)
            std::memcpy(part, slot, p.dims[i] * es);
          else
            std::memcpy(slot, part, p.dims[i] * es);
          offset += p.dims[i];
        }
      }
      break;
    }
    }
  } catch (const ExecError &) {
    throw;
  } catch (const std::exception &e) {
    throw ExecError(atLayer(p, layer) + ": " + e.what());
  }
}

} // namespace giga::exec::detail
