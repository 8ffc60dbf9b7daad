//===- Executor.cpp - runs an artifact's kernels: the wafer ---------------===//
//
// The executor owns the activation arena (the wafer's SRAM), whose layout the
// compiler planned, the ops' scratch region for values the artifact does not
// keep included. Streamed weights are read in place from the store (whose
// pointers stay valid for its life) when no other buffer can observe the
// difference, else copied into the arena. A streamer thread prefetches the next
// invocation's weights (store.prefetch, then touches every page) while the
// current invocation computes. See docs/executor.md.
//
//===----------------------------------------------------------------------===//

#include "runtime/exec/Executor.h"
#include "runtime/exec/ops/Op.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace giga::exec {

using ops::OperandView;

namespace {

constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

/// Zeroed, 64-byte aligned memory.
class AlignedBuffer {
public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(int64_t bytes, const char *what) {
    size_t size = static_cast<size_t>(alignUp(std::max<int64_t>(bytes, 1)));
    data_ = static_cast<char *>(std::aligned_alloc(kAlignment, size));
    if (!data_)
      throw ExecError("cannot allocate " + std::to_string(bytes) +
                      " bytes for the " + what);
    std::memset(data_, 0, size);
    size_ = bytes;
  }
  AlignedBuffer(AlignedBuffer &&other) noexcept
      : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
  }
  AlignedBuffer &operator=(AlignedBuffer &&other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~AlignedBuffer() { std::free(data_); }
  char *data() const { return data_; }
  int64_t size() const { return size_; }

private:
  char *data_ = nullptr;
  int64_t size_ = 0;
};

/// One background thread running one job at a time.
class Streamer {
public:
  Streamer() : thread([this] { loop(); }) {}
  ~Streamer() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    wake.notify_all();
    thread.join();
  }

  void post(std::function<void()> next) {
    std::lock_guard<std::mutex> lock(mutex);
    job = std::move(next);
    busy = true;
    wake.notify_all();
  }

  /// Waits for the job to finish and rethrows its exception, if any.
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [this] { return !busy; });
    if (error) {
      std::exception_ptr failure = error;
      error = nullptr;
      std::rethrow_exception(failure);
    }
  }

  /// Waits and drops any error (when unwinding from another one).
  void waitQuietly() {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [this] { return !busy; });
    error = nullptr;
  }

private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      wake.wait(lock, [this] { return stop || (busy && job); });
      if (stop)
        return;
      std::function<void()> current = std::move(job);
      job = nullptr;
      lock.unlock();
      std::exception_ptr failure;
      try {
        current();
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      error = failure;
      busy = false;
      done.notify_all();
    }
  }

  std::mutex mutex;
  std::condition_variable wake, done;
  std::function<void()> job;
  bool busy = false, stop = false;
  std::exception_ptr error;
  std::thread thread; // last: starts after the members above exist
};

struct Range {
  int64_t begin = 0, end = 0;
  bool overlaps(const Range &other) const {
    return begin < other.end && other.begin < end && begin < end &&
           other.begin < other.end;
  }
  bool operator==(const Range &other) const {
    return begin == other.begin && end == other.end;
  }
};

} // namespace

struct StreamSlot {
  int32_t param = -1;
  int32_t buffer = -1;
  bool perLayer = false;
  int64_t bytes = 0;
  bool bind = false; // ops read the store's memory directly, no copy
};

/// An op ready to run: where its operands are, and the op itself.
struct PreparedOp {
  std::vector<OperandView> inputs, outputs;
  std::unique_ptr<ops::Op> op;
  std::vector<void *> in, out;      // resolved before every run
  std::vector<const void *> inBf16; // the store's bf16 copy of an input
};

struct KernelPlan {
  std::vector<PreparedOp> ops;
  std::vector<StreamSlot> streamIn;
};

struct Invocation {
  int32_t kernel = 0;
  int64_t layer = 0;
};

struct Executor::Impl {
  Impl(const artifact::Artifact &artifact, store::WeightStore &store,
       kernels::MatmulPrecision precision)
      : artifact(artifact), store(store), plans(precision) {}

  artifact::Artifact artifact;
  store::WeightStore &store;
  AlignedBuffer arena;
  ops::PlanCache plans;
  std::vector<KernelPlan> kernels;
  std::vector<char *> bound; // per buffer: store memory bound in its place
  std::vector<const uint16_t *> boundBf16; // and its bf16 copy, if kept
  std::map<std::string, std::vector<Invocation>> programs; // per entry point
  std::vector<int32_t> ioBuffers; // every buffer an entry point binds
  std::mutex storeMutex; // one store call at a time (main or streamer thread)
  Streamer streamer;
  // Profiling (setProfiling): per kernel, per op; then the store's two rows.
  bool profiling = false;
  std::vector<std::vector<OpTime>> opTimes;
  OpTime streamOutTime{"store", "stream-out"},
      weightWaitTime{"store", "wait for weights"};

  // Construction.
  [[noreturn]] void fail(const artifact::Kernel &kernel,
                         const std::string &message) const {
    throw ExecError("kernel '" + kernel.name + "': " + message);
  }
  void checkBuffers();
  void checkEntryPoints();
  void prepareKernel(int32_t index);
  void checkStreamParam(const artifact::Kernel &kernel, int32_t param,
                        const std::string &role);
  int64_t streamBytes(const artifact::Kernel &kernel,
                      const artifact::Operand &operand, int32_t param,
                      const std::string &role);
  void planStreams(const artifact::Kernel &kernel, KernelPlan &plan);
  void checkCarries(const artifact::Kernel &kernel);
  void checkAliasing(const artifact::Kernel &kernel, const PreparedOp &op);
  void chooseBindings();
  Range range(int32_t buffer, bool perLayer, int64_t layer) const;
  Range wholeRange(int32_t buffer) const;

  // Execution.
  int64_t paramLayer(int32_t param, int64_t layer) const {
    return artifact.params[param].group.empty() ? 0 : layer;
  }
  char *resolve(int32_t buffer, bool perLayer, int64_t layer) const {
    const artifact::Buffer &b = artifact.buffers[buffer];
    char *base = bound[buffer] ? bound[buffer] : arena.data() + b.offset;
    return base + (perLayer ? layer * b.type.bytes() : 0);
  }
  void prefetch(const Invocation &invocation);
  void invoke(const Invocation &invocation, const Invocation *next);
  void run(const std::vector<Invocation> &program);
  const artifact::EntryPoint &entryPoint(const std::string &name) const;
};

Range Executor::Impl::range(int32_t buffer, bool perLayer,
                            int64_t layer) const {
  const artifact::Buffer &b = artifact.buffers[buffer];
  if (!perLayer)
    return {b.offset, b.offset + b.totalBytes()};
  int64_t begin = b.offset + layer * b.type.bytes();
  return {begin, begin + b.type.bytes()};
}

Range Executor::Impl::wholeRange(int32_t buffer) const {
  return range(buffer, false, 0);
}

void Executor::Impl::checkBuffers() {
  if (artifact.arenaBytes < 0)
    throw ExecError("arena_bytes is negative");
  for (const artifact::Buffer &b : artifact.buffers) {
    for (int64_t dim : b.type.shape)
      if (dim < 0)
        throw ExecError("buffer '" + b.name + "' has a negative dimension");
    if (b.offset < 0 || b.layers < 0 ||
        b.offset + b.totalBytes() > artifact.arenaBytes)
      throw ExecError("buffer '" + b.name + "' (offset " +
                      std::to_string(b.offset) + ", " +
                      std::to_string(b.totalBytes()) +
                      " bytes) does not fit in the arena of " +
                      std::to_string(artifact.arenaBytes) + " bytes");
  }
}

void Executor::Impl::checkEntryPoints() {
  std::vector<char> bound(artifact.buffers.size(), 0);
  for (const artifact::EntryPoint &entry : artifact.entryPoints) {
    std::vector<Invocation> &program = programs[entry.name];
    for (const artifact::Command &command : entry.commands) {
      const artifact::Kernel &kernel = artifact.kernels[command.kernel];
      for (int64_t i = 0; i < kernel.layers; ++i)
        program.push_back(
            {command.kernel, kernel.reverse ? kernel.layers - 1 - i : i});
    }
    for (const auto *list : {&entry.inputs, &entry.outputs})
      for (const artifact::Binding &binding : *list)
        bound[binding.buffer] = 1;
  }
  for (size_t b = 0; b < bound.size(); ++b)
    if (bound[b])
      ioBuffers.push_back(int32_t(b));
}

void Executor::Impl::checkAliasing(const artifact::Kernel &kernel,
                                   const PreparedOp &op) {
  // Outputs may not overlap each other nor any input, except an elementwise
  // kernel writing exactly over an input it allows (out == in).
  for (int64_t layer = 0; layer < kernel.layers; ++layer) {
    for (size_t o = 0; o < op.outputs.size(); ++o) {
      const OperandView &out = op.outputs[o];
      Range r = range(out.buffer, out.perLayer, layer);
      for (size_t o2 = o + 1; o2 < op.outputs.size(); ++o2) {
        const OperandView &other = op.outputs[o2];
        if (r.overlaps(range(other.buffer, other.perLayer, layer)))
          throw ExecError(op.op->where + ": outputs " + std::to_string(o) +
                          " and " + std::to_string(o2) +
                          " overlap in the "
                          "arena (buffers '" +
                          artifact.buffers[out.buffer].name + "' and '" +
                          artifact.buffers[other.buffer].name + "')");
      }
      for (size_t i = 0; i < op.inputs.size(); ++i) {
        const OperandView &in = op.inputs[i];
        Range ri = range(in.buffer, in.perLayer, layer);
        if (!r.overlaps(ri))
          continue;
        const std::vector<int> &allowed = op.op->inPlace[o];
        bool inPlace = r == ri && in.bytes == out.bytes &&
                       std::find(allowed.begin(), allowed.end(),
                                 static_cast<int>(i)) != allowed.end();
        if (!inPlace)
          throw ExecError(
              op.op->where + ": output " + std::to_string(o) + " (buffer '" +
              artifact.buffers[out.buffer].name + "') overlaps input " +
              std::to_string(i) + " (buffer '" +
              artifact.buffers[in.buffer].name + "') in the arena" +
              (kernel.layers > 1 ? " at layer " + std::to_string(layer) : "") +
              "; this kernel cannot run in place");
      }
    }
  }
}

/// A stream's parameter: in range, and of this kernel's group (a top-level
/// one is layer 0 from any kernel).
void Executor::Impl::checkStreamParam(const artifact::Kernel &kernel,
                                      int32_t param, const std::string &role) {
  int32_t paramCount = static_cast<int32_t>(artifact.params.size());
  if (param < 0 || param >= paramCount)
    fail(kernel, role + " names parameter " + std::to_string(param) +
                     " but the artifact has " + std::to_string(paramCount));
  const artifact::Parameter &p = artifact.params[param];
  if (!p.group.empty() && (p.group != kernel.group || p.layers < kernel.layers))
    fail(kernel, role + " streams '" + p.name + "' of group '" + p.group +
                     "' (" + std::to_string(p.layers) +
                     " layers) but the kernel runs " +
                     std::to_string(kernel.layers) + " time(s) in group '" +
                     kernel.group + "'");
}

/// A stream's buffer holds the parameter's f32 elements; returns its bytes.
int64_t Executor::Impl::streamBytes(const artifact::Kernel &kernel,
                                    const artifact::Operand &operand,
                                    int32_t param, const std::string &role) {
  int32_t bufferCount = static_cast<int32_t>(artifact.buffers.size());
  if (operand.buffer < 0 || operand.buffer >= bufferCount)
    fail(kernel, role + " names buffer " + std::to_string(operand.buffer) +
                     " but the artifact has " + std::to_string(bufferCount));
  const artifact::Buffer &b = artifact.buffers[operand.buffer];
  if (operand.perLayer && b.layers < kernel.layers)
    fail(kernel, role + " takes a per-layer slice of buffer '" + b.name +
                     "', which holds " + std::to_string(b.layers) +
                     " layers but the kernel runs " +
                     std::to_string(kernel.layers));
  int64_t elements =
      b.type.elements() * (!operand.perLayer && b.layers > 0 ? b.layers : 1);
  const artifact::Parameter &p = artifact.params[param];
  if (b.type.dtype != artifact::DType::F32 || elements != p.elements())
    fail(kernel, role + " buffer '" + b.name + "' (" +
                     artifact::toString(b.type.dtype) + " " +
                     ops::formatShape(b.type.shape) +
                     ") does not hold parameter '" + p.name + "' (f32 " +
                     ops::formatShape(p.shape) + ")");
  return elements * 4;
}

void Executor::Impl::planStreams(const artifact::Kernel &kernel,
                                 KernelPlan &plan) {
  for (size_t j = 0; j < kernel.streamIn.size(); ++j) {
    const artifact::StreamIn &s = kernel.streamIn[j];
    std::string role = "stream_in " + std::to_string(j);
    checkStreamParam(kernel, s.param, role);
    StreamSlot slot;
    slot.param = s.param;
    slot.buffer = s.target.buffer;
    slot.perLayer = s.target.perLayer;
    slot.bytes = streamBytes(kernel, s.target, s.param, role);
    for (const StreamSlot &previous : plan.streamIn)
      for (int64_t layer = 0; layer < kernel.layers; ++layer)
        if (range(previous.buffer, previous.perLayer, layer)
                .overlaps(range(slot.buffer, slot.perLayer, layer)))
          fail(kernel, role + " streams into buffer '" +
                           artifact.buffers[slot.buffer].name +
                           "', which overlaps another stream_in's target");
    plan.streamIn.push_back(slot);
  }
  for (size_t j = 0; j < kernel.streamOut.size(); ++j) {
    const artifact::StreamOut &s = kernel.streamOut[j];
    std::string role = "stream_out " + std::to_string(j);
    checkStreamParam(kernel, s.param, role);
    streamBytes(kernel, s.source, s.param, role);
  }
}

void Executor::Impl::checkCarries(const artifact::Kernel &kernel) {
  int32_t bufferCount = static_cast<int32_t>(artifact.buffers.size());
  for (size_t j = 0; j < kernel.carry.size(); ++j) {
    auto [into, from] = kernel.carry[j];
    std::string role = "carry " + std::to_string(j);
    if (into < 0 || into >= bufferCount || from < 0 || from >= bufferCount)
      fail(kernel, role + " names a buffer outside the " +
                       std::to_string(bufferCount) + " buffers");
    const artifact::Buffer &a = artifact.buffers[into],
                           &b = artifact.buffers[from];
    if (a.totalBytes() != b.totalBytes())
      fail(kernel, role + " copies buffer '" + b.name + "' (" +
                       std::to_string(b.totalBytes()) + " bytes) into '" +
                       a.name + "' (" + std::to_string(a.totalBytes()) +
                       " bytes)");
    if (into != from && !(wholeRange(into) == wholeRange(from)) &&
        wholeRange(into).overlaps(wholeRange(from)))
      fail(kernel, role + " copies between overlapping buffers '" + b.name +
                       "' and '" + a.name + "'");
  }
}

void Executor::Impl::prepareKernel(int32_t index) {
  const artifact::Kernel &kernel = artifact.kernels[index];
  if (kernel.layers < 1)
    fail(kernel, "layers must be >= 1, got " + std::to_string(kernel.layers));
  KernelPlan plan;
  planStreams(kernel, plan);
  checkCarries(kernel);
  for (size_t i = 0; i < kernel.ops.size(); ++i) {
    ops::OpContext context(artifact, kernel, i, plans);
    PreparedOp op{
        context.inputs(), context.outputs(), ops::prepare(context), {}, {}};
    op.in.assign(op.inputs.size(), nullptr);
    op.inBf16.assign(op.inputs.size(), nullptr);
    op.out.assign(op.outputs.size(), nullptr);
    checkAliasing(kernel, op);
    plan.ops.push_back(std::move(op));
  }
  kernels.push_back(std::move(plan));
}

namespace {
/// Whether `kernel` cannot tell `target` bound to the store's memory from
/// `target` copied into the arena. A kernel that streams or reads the target
/// must not reach its bytes through any other buffer. Any other kernel may
/// reuse those bytes for its own values (the planner keeps them apart from
/// everything live there), but must not read one it has not written first: a
/// view of the weight carried in from an earlier kernel would find the
/// arena's stale bytes.
bool canBind(const artifact::Kernel &kernel, int32_t target,
             const std::function<bool(int32_t)> &touches) {
  bool reads = false, streams = false;
  for (const artifact::StreamIn &s : kernel.streamIn)
    streams |= s.target.buffer == target;
  for (const artifact::Op &op : kernel.ops)
    for (const artifact::Operand &in : op.inputs)
      reads |= in.buffer == target;
  for (const artifact::StreamOut &s : kernel.streamOut)
    reads |= s.source.buffer == target;
  if (reads && !streams)
    return false;
  for (auto [into, from] : kernel.carry)
    if (into == target || from == target)
      return false;
  const bool strict = reads || streams;
  std::set<int32_t> written;
  auto readable = [&](int32_t buffer) {
    return !touches(buffer) || (!strict && written.count(buffer));
  };
  for (const artifact::StreamIn &s : kernel.streamIn) {
    if (s.target.buffer != target && strict && touches(s.target.buffer))
      return false;
    written.insert(s.target.buffer);
  }
  for (const artifact::Op &op : kernel.ops) {
    for (const artifact::Operand &in : op.inputs)
      if (in.buffer != target && !readable(in.buffer))
        return false;
    for (const artifact::Operand &out : op.outputs) {
      if (out.buffer == target || (strict && touches(out.buffer)))
        return false;
      written.insert(out.buffer);
    }
  }
  for (const artifact::StreamOut &s : kernel.streamOut)
    if (s.source.buffer != target && !readable(s.source.buffer))
      return false;
  for (auto [into, from] : kernel.carry)
    if (!readable(from) || (strict && touches(into)))
      return false;
  return true;
}
} // namespace

/// A stream-in target can be replaced by the store's memory itself (no copy
/// into the arena) when nothing can tell the difference: the target is a
/// whole, non-stacked buffer that no entry point binds, no op writes, and
/// every kernel passes canBind.
void Executor::Impl::chooseBindings() {
  size_t bufferCount = artifact.buffers.size();
  std::vector<char> candidate(bufferCount, 0);
  for (const KernelPlan &plan : kernels)
    for (const StreamSlot &slot : plan.streamIn)
      if (!slot.perLayer && artifact.buffers[slot.buffer].layers == 0)
        candidate[slot.buffer] = 1;
  for (size_t x = 0; x < bufferCount; ++x) {
    if (!candidate[x])
      continue;
    int32_t target = static_cast<int32_t>(x);
    Range r = wholeRange(target);
    bool ok = r.begin < r.end;
    auto touches = [&](int32_t buffer) {
      return buffer != target && wholeRange(buffer).overlaps(r);
    };
    // An entry point's inputs are read by its kernels (canBind sees that)
    // and its outputs are written by them, so only the target itself matters.
    for (int32_t io : ioBuffers)
      if (io == target)
        ok = false;
    for (size_t k = 0; k < artifact.kernels.size() && ok; ++k)
      ok = canBind(artifact.kernels[k], target, touches);
    if (!ok)
      continue;
    for (KernelPlan &plan : kernels)
      for (StreamSlot &slot : plan.streamIn)
        if (slot.buffer == target)
          slot.bind = true;
  }
}

/// The streamer's job: start reading the invocation's weights (a disk store
/// reads ahead) and touch one byte per page, so that the compute thread finds
/// them resident.
void Executor::Impl::prefetch(const Invocation &invocation) {
  // RAM is resident already; touching it would only spend bandwidth.
  if (!store.onDisk())
    return;
  const KernelPlan &plan = kernels[invocation.kernel];
  for (const StreamSlot &s : plan.streamIn) {
    std::lock_guard<std::mutex> lock(storeMutex);
    store.prefetch(s.param, paramLayer(s.param, invocation.layer));
  }
  auto touch = [](const void *data, int64_t bytes) {
    const volatile char *pages = static_cast<const char *>(data);
    char sink = 0;
    for (int64_t offset = 0; offset < bytes; offset += 4096)
      sink ^= pages[offset];
    (void)sink;
  };
  for (const StreamSlot &s : plan.streamIn) {
    const void *weights, *copy;
    {
      std::lock_guard<std::mutex> lock(storeMutex);
      int64_t layer = paramLayer(s.param, invocation.layer);
      weights = store.weights(s.param, layer);
      copy = s.bind ? store.weightsBf16(s.param, layer) : nullptr;
    }
    touch(weights, s.bytes);
    if (copy)
      touch(copy, s.bytes / 2);
  }
}

namespace {
/// Runs one op for `layer`; a kernel's own error becomes an ExecError that
/// names the op and the layer.
void runOp(const PreparedOp &prepared, float *scratch, int64_t layer) {
  const ops::Op &op = *prepared.op;
  try {
    op.run({prepared.in, prepared.out, scratch, layer, prepared.inBf16});
  } catch (const ExecError &) {
    throw;
  } catch (const std::exception &e) {
    op.fail(layer, e.what());
  }
}
} // namespace

void Executor::Impl::invoke(const Invocation &invocation,
                            const Invocation *next) {
  const artifact::Kernel &kernel = artifact.kernels[invocation.kernel];
  KernelPlan &plan = kernels[invocation.kernel];
  int64_t layer = invocation.layer;
  // Stream in: this layer's weights, prefetched meanwhile by the streamer
  // (and, with several systems, gathered from their shards first).
  for (const StreamSlot &s : plan.streamIn) {
    char *weights;
    {
      std::lock_guard<std::mutex> lock(storeMutex);
      store.gatherWeights(s.param, paramLayer(s.param, layer));
      weights = reinterpret_cast<char *>(
          store.weights(s.param, paramLayer(s.param, layer)));
    }
    if (s.bind) {
      bound[s.buffer] = weights;
      std::lock_guard<std::mutex> lock(storeMutex);
      boundBf16[s.buffer] =
          store.weightsBf16(s.param, paramLayer(s.param, layer));
    } else
      std::memcpy(resolve(s.buffer, s.perLayer, layer), weights, s.bytes);
  }
  if (next)
    streamer.post([this, nextInvocation = *next] { prefetch(nextInvocation); });
  struct Unbind {
    Impl &impl;
    KernelPlan &plan;
    int64_t layer;
    ~Unbind() {
      std::lock_guard<std::mutex> lock(impl.storeMutex);
      for (const StreamSlot &s : plan.streamIn) {
        impl.bound[s.buffer] = nullptr;
        impl.boundBf16[s.buffer] = nullptr;
        impl.store.releaseWeights(s.param, impl.paramLayer(s.param, layer));
      }
    }
  } unbind{*this, plan, layer};

  // A gradient streams out right after the op it follows, so the plan may
  // reuse its bytes for later ops.
  auto streamOutAfter = [&](int64_t opIndex) {
    for (const artifact::StreamOut &s : kernel.streamOut) {
      int64_t after = s.afterOp < 0 ? int64_t(plan.ops.size()) - 1 : s.afterOp;
      if (after != opIndex)
        continue;
      const float *grad = reinterpret_cast<const float *>(
          resolve(s.source.buffer, s.source.perLayer, layer));
      std::lock_guard<std::mutex> lock(storeMutex);
      store.accumulateGrad(s.param, paramLayer(s.param, layer), grad);
    }
  };
  // The compiler planned every op's temporaries into this region.
  float *scratchFloats =
      reinterpret_cast<float *>(arena.data() + artifact.opScratchOffset);
  for (int64_t index = 0; index < int64_t(plan.ops.size()); ++index) {
    PreparedOp &op = plan.ops[index];
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      op.in[i] = resolve(op.inputs[i].buffer, op.inputs[i].perLayer, layer);
      op.inBf16[i] = boundBf16[op.inputs[i].buffer];
    }
    for (size_t i = 0; i < op.outputs.size(); ++i)
      op.out[i] = resolve(op.outputs[i].buffer, op.outputs[i].perLayer, layer);
    if (!profiling) {
      runOp(op, scratchFloats, layer);
      streamOutAfter(index);
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    runOp(op, scratchFloats, layer);
    auto ran = std::chrono::steady_clock::now();
    streamOutAfter(index);
    OpTime &time = opTimes[invocation.kernel][index];
    ++time.calls;
    time.seconds += std::chrono::duration<double>(ran - start).count();
    streamOutTime.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ran)
            .count();
  }
  if (plan.ops.empty())
    streamOutAfter(-1);
  for (auto [into, from] : kernel.carry) {
    char *dst = resolve(into, false, 0);
    const char *src = resolve(from, false, 0);
    if (dst != src)
      std::memcpy(dst, src, artifact.buffers[into].totalBytes());
  }
}

void Executor::Impl::run(const std::vector<Invocation> &program) {
  auto streams = [&](size_t i) {
    return !kernels[program[i].kernel].streamIn.empty();
  };
  try {
    if (!program.empty() && streams(0))
      streamer.post([this, &program] { prefetch(program[0]); });
    for (size_t i = 0; i < program.size(); ++i) {
      auto waitStart = std::chrono::steady_clock::now();
      streamer.wait(); // this invocation's weights are resident
      if (profiling)
        weightWaitTime.seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                          waitStart)
                .count();
      const Invocation *next =
          i + 1 < program.size() && streams(i + 1) ? &program[i + 1] : nullptr;
      invoke(program[i], next);
    }
    streamer.wait();
  } catch (...) {
    streamer.waitQuietly();
    throw;
  }
}

Executor::Executor(const artifact::Artifact &artifact,
                   store::WeightStore &store,
                   kernels::MatmulPrecision precision)
    : impl(std::make_unique<Impl>(artifact, store, precision)) {
  Impl &m = *impl;
  m.checkBuffers();
  m.checkEntryPoints();
  for (int32_t k = 0; k < static_cast<int32_t>(m.artifact.kernels.size()); ++k)
    m.prepareKernel(k);
  m.chooseBindings();

  for (const KernelPlan &plan : m.kernels)
    for (const PreparedOp &op : plan.ops)
      if (4 * op.op->scratchFloats > m.artifact.opScratchBytes)
        throw ExecError(op.op->where + ": needs " +
                        std::to_string(4 * op.op->scratchFloats) +
                        " bytes of scratch but the artifact's op_scratch "
                        "region has " +
                        std::to_string(m.artifact.opScratchBytes) +
                        "; recompile it with this gigac");
  m.arena = AlignedBuffer(m.artifact.arenaBytes, "activation arena");
  m.bound.assign(m.artifact.buffers.size(), nullptr);
  m.boundBf16.assign(m.artifact.buffers.size(), nullptr);
}

Executor::~Executor() = default;

namespace {
/// Every value of a ranged input in [0, limit).
void checkRange(const std::string &entry, const artifact::Binding &binding,
                const int32_t *values, int64_t count) {
  std::string problem = ops::outOfRange(values, count, binding.limit);
  if (!problem.empty())
    throw ExecError(entry + " input '" + binding.name + "': " + problem);
}
} // namespace

const artifact::EntryPoint &
Executor::Impl::entryPoint(const std::string &name) const {
  if (const artifact::EntryPoint *entry = artifact.entryPoint(name))
    return *entry;
  std::string known;
  for (const artifact::EntryPoint &entry : artifact.entryPoints)
    known += (known.empty() ? "" : ", ") + entry.name;
  throw ExecError("the artifact has no entry point '" + name +
                  "' (it has: " + (known.empty() ? "none" : known) + ")");
}

void Executor::run(const std::string &entryName, const Inputs &inputs) {
  const artifact::EntryPoint &entry = impl->entryPoint(entryName);
  for (const auto &[name, data] : inputs)
    if (!entry.input(name))
      throw ExecError(entryName + " has no input '" + name + "'");
  for (const artifact::Binding &binding : entry.inputs) {
    auto it = inputs.find(binding.name);
    if (it == inputs.end() || !it->second)
      throw ExecError(entryName + " needs input '" + binding.name + "'");
    const artifact::Buffer &b = impl->artifact.buffers[binding.buffer];
    char *slot = impl->arena.data() + b.offset;
    std::memcpy(slot, it->second, b.type.bytes());
    if (binding.limit > 0)
      checkRange(entryName, binding, reinterpret_cast<const int32_t *>(slot),
                 b.type.elements());
  }
  impl->run(impl->programs.at(entry.name));
}

std::string Executor::profileTable(const std::vector<OpTime> &profile,
                                   double wallSeconds, double units,
                                   const std::string &unit,
                                   const std::vector<OpTime> &extra,
                                   const std::string &otherName) {
  std::vector<OpTime> byOp, byKernelOp;
  double executorSeconds = 0;
  for (const OpTime &t : profile) {
    executorSeconds += t.seconds;
    byKernelOp.push_back({"", t.kernel + " / " + t.op, t.calls, t.seconds});
    auto it = std::find_if(byOp.begin(), byOp.end(),
                           [&](const OpTime &r) { return r.op == t.op; });
    if (it == byOp.end()) {
      byOp.push_back({"", t.op, t.calls, t.seconds});
    } else {
      it->seconds += t.seconds;
      it->calls += t.calls;
    }
  }
  double outside = 0;
  for (const OpTime &t : extra) {
    byOp.push_back({"", t.op, t.calls, t.seconds});
    outside += t.seconds;
  }
  byOp.push_back({"", otherName, 0,
                  std::max(0.0, wallSeconds - executorSeconds - outside)});
  std::string table;
  auto print = [&](std::vector<OpTime> rows, size_t limit) {
    std::sort(rows.begin(), rows.end(), [](const OpTime &a, const OpTime &b) {
      return a.seconds > b.seconds;
    });
    char line[512];
    for (size_t i = 0; i < std::min(limit, rows.size()); ++i) {
      std::snprintf(line, sizeof line, "  %9.2f %5.1f%% %8.0f  %s\n",
                    1e3 * rows[i].seconds / units,
                    100 * rows[i].seconds / std::max(wallSeconds, 1e-12),
                    double(rows[i].calls) / units, rows[i].op.c_str());
      table += line;
    }
  };
  table += "  ms/" + unit + "  share  calls/" + unit + "  op (all kernels)\n";
  print(byOp, byOp.size());
  table += "  ms/" + unit + "  share  calls/" + unit +
           "  kernel / op (the 15 slowest)\n";
  print(byKernelOp, 15);
  return table;
}

void Executor::setProfiling(bool on) {
  Impl &m = *impl;
  m.profiling = on;
  if (on && m.opTimes.empty())
    for (const artifact::Kernel &kernel : m.artifact.kernels) {
      m.opTimes.emplace_back();
      for (const artifact::Op &op : kernel.ops)
        m.opTimes.back().push_back({kernel.name, op.kernel});
    }
}

std::vector<Executor::OpTime> Executor::profile() const {
  std::vector<OpTime> all;
  for (const std::vector<OpTime> &kernel : impl->opTimes)
    all.insert(all.end(), kernel.begin(), kernel.end());
  all.push_back(impl->streamOutTime);
  all.push_back(impl->weightWaitTime);
  return all;
}

const void *Executor::output(const std::string &entryName,
                             const std::string &name) const {
  const artifact::EntryPoint &entry = impl->entryPoint(entryName);
  const artifact::Binding *binding = entry.output(name);
  if (!binding)
    throw ExecError(entryName + " has no output '" + name + "'");
  return impl->arena.data() + impl->artifact.buffers[binding->buffer].offset;
}

const void *Executor::buffer(int32_t index, int64_t layer) const {
  const artifact::Artifact &a = impl->artifact;
  if (index < 0 || index >= static_cast<int32_t>(a.buffers.size()))
    throw ExecError("buffer " + std::to_string(index) +
                    " is out of range (the artifact has " +
                    std::to_string(a.buffers.size()) + " buffers)");
  const artifact::Buffer &b = a.buffers[index];
  int64_t layers = b.layers > 0 ? b.layers : 1;
  if (layer < 0 || layer >= layers)
    throw ExecError("buffer '" + b.name + "' has no layer " +
                    std::to_string(layer));
  return impl->arena.data() + b.offset + layer * b.type.bytes();
}

} // namespace giga::exec
