//===- WeightStore.h - MemoryX: weights, gradients, optimizer ---*- C++ -*-===//
//
// The store holds fp32 master weights, gradients and optimizer state for
// every parameter of an artifact, in RAM or in files under a directory, so
// a model larger than memory still trains. Kernels read a layer's weights
// through weights() and hand gradients back through accumulateGrad(); the
// optimizer step runs here, layer by layer.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_STORE_WEIGHTSTORE_H
#define GIGA_RUNTIME_STORE_WEIGHTSTORE_H

#include "runtime/artifact/Artifact.h"
#include "runtime/comm/Communicator.h"
#include "runtime/store/Safetensors.h"
#include "runtime/store/StoreError.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace giga::store {

struct StoreOptions {
  /// Empty: everything in RAM. Otherwise weights, gradients and optimizer
  /// state live in files in this directory and only the layers in use are
  /// resident.
  std::string directory;
  /// Bytes of resident store memory allowed with a directory (0: no limit).
  int64_t memoryBudget = 0;
  /// Also keep every weight rounded to bf16 (weightsBf16), refreshed whenever
  /// the weights change, for bf16 matmuls that would otherwise convert the
  /// weights on every use: at batch 1 the conversion reads and writes more
  /// memory than the product does.
  bool bf16Copies = false;
  /// The systems of a data-parallel run (null: this one alone). With more
  /// than one, each holds its shard (comm::Communicator::shard) of every
  /// tensor's weights, gradients and optimizer state: gatherWeights brings
  /// a whole tensor in for the kernels that use it, releaseWeights lets the
  /// others' shards go again, accumulateGrad sums a gradient over the
  /// systems and keeps this one's shard, applyUpdate updates the shard, and
  /// save gathers every tensor into rank 0, which alone writes the file.
  comm::Communicator *communicator = nullptr;
  /// With a directory: the files outlive the store and are its own
  /// checkpoint (docs/store.md, "A store that is its own checkpoint"). A
  /// directory whose store.json describes this model's arrays is reopened
  /// as its last completed update left it, finishing an update that a
  /// killed process left half done (from the journal); anything else there
  /// is replaced. One system only.
  bool persistent = false;
  /// A persistent store that must reopen a trained state (an export): a
  /// StoreError instead of a new store in its place.
  bool reopenOnly = false;
};

/// Weights to start from (gigarun --init; eval's and sample's
/// --checkpoint) in whatever layout a file holds them: every weight of the
/// model under its full name ("h.3.attn.q.weight") as fp32, row-major, in
/// the parameter's shape. Whoever makes one checks the file against the
/// artifact first, so that loading it fails only on an I/O error.
class WeightSource {
public:
  virtual ~WeightSource() = default;
  /// The file, for messages.
  virtual const std::string &path() const = 0;
  /// Elements [offset, offset + count) of weight `name`. Throws StoreError.
  virtual void read(const std::string &name, int64_t offset, float *out,
                    int64_t count) const = 0;
};

struct UpdateStats {
  double gradNorm = 0.0;     // global L2 norm before clipping
  double clipScale = 1.0;    // min(1, max_norm / (norm + 1e-6))
  double learningRate = 0.0; // the scheduled rate used for this step
};

class WeightStore {
public:
  WeightStore(const artifact::Artifact &artifact, const StoreOptions &options);
  ~WeightStore();
  WeightStore(const WeightStore &) = delete;
  WeightStore &operator=(const WeightStore &) = delete;

  /// Fills every weight from its init spec with a generator seeded by
  /// `seed` and the parameter's full name (so a tensor's values do not
  /// depend on the order or number of other tensors); zeroes the gradients
  /// and the optimizer state.
  void initialize(uint64_t seed);

  /// The fp32 weights of `param` (an index into artifact.params) at `layer`
  /// (0 for top-level parameters); contiguous, row-major, valid for the
  /// store's life (a disk store pages layers in and out behind it). With
  /// several systems only this one's shard is current, but after
  /// gatherWeights.
  float *weights(int32_t param, int64_t layer);
  /// weights(param, layer) rounded to bf16 (kernels::toBf16), or null
  /// without StoreOptions::bf16Copies. Valid as weights() is, and current:
  /// initialize, load and applyUpdate refresh it.
  const uint16_t *weightsBf16(int32_t param, int64_t layer);
  /// With several systems: gathers every system's shard of weights(param,
  /// layer), so that all of it is current until releaseWeights. A
  /// collective: every system calls it, in the same order. A no-op on one.
  void gatherWeights(int32_t param, int64_t layer);
  /// Frees the memory of the other systems' shards of a gathered tensor.
  void releaseWeights(int32_t param, int64_t layer);
  /// Whether the arrays live in files (StoreOptions::directory): only then
  /// can a weight's pages be absent when a kernel reads them.
  bool onDisk() const;
  /// Hint that `weights(param, layer)` will be asked for soon (the
  /// streamer's prefetch); may be a no-op.
  void prefetch(int32_t param, int64_t layer);

  /// gradient(param, layer) += grad (elementwise); with several systems,
  /// grad summed over them, and only this system's shard kept.
  void accumulateGrad(int32_t param, int64_t layer, const float *grad);
  /// The gradient; with several systems only this one's shard of it is
  /// current.
  const float *grad(int32_t param, int64_t layer);
  void zeroGrads();

  /// One optimizer step over every parameter: gradients are first
  /// multiplied by `gradScale` (1 / micro-batches), then the global norm
  /// is taken, clipped to the artifact's max_gradient_norm, and the
  /// artifact's optimizer (AdamW or SGD) applied with the scheduled
  /// learning rate for `step` (counted from 1). Gradients are zeroed after.
  /// With several systems every one must call it: the norm is summed over
  /// their shards, and the updated shards are gathered.
  UpdateStats applyUpdate(int64_t step, double gradScale);
  /// The same, and in a persistent store `commit(stats)` is what the store
  /// records with the step once the update is complete (committed()): the
  /// caller's state at that step, e.g. where its data sampler stands. It is
  /// called after the gradient norm and before any weight changes.
  UpdateStats
  applyUpdate(int64_t step, double gradScale,
              const std::function<nlohmann::json(const UpdateStats &)> &commit);

  /// A persistent store's last completed update: its step, 0 for none (a
  /// fresh or re-initialized store), and the JSON its commit returned
  /// (null for none).
  int64_t committedStep() const;
  const nlohmann::json &committed() const;
  /// Whether a persistent store was reopened with the state of an earlier
  /// process (committedStep() may still be 0).
  bool reopened() const;
  /// A persistent store: writes every dirty page to disk and fsyncs, then
  /// records in store.json that the files hold committedStep() whole, so
  /// that even a machine that goes down afterwards (power, kernel) leaves a
  /// store that reopens. A no-op for other stores.
  void flush();

  /// A safetensors file holding every weight under its full name
  /// ("h.3.attn.q.weight") and the optimizer state ("adam.m.<name>",
  /// "adam.v.<name>" or "sgd.momentum.<name>"), with `metadata` stored as
  /// JSON text under the "giga" key. Written to a temporary name, fsynced
  /// and renamed (SafetensorsWriter).
  void save(const std::string &path, const nlohmann::json &metadata);
  /// Loads weights (and the optimizer state if `withOptimizer`) from a
  /// checkpoint written by save(), checked first by checkCheckpoint (a
  /// rejected file changes nothing); returns the metadata
  /// (checkpointMetadata). Gradients are zeroed, and without
  /// `withOptimizer` the optimizer state too.
  nlohmann::json load(const std::string &path, bool withOptimizer);
  /// The same from a file already open (the one checked is the one read).
  nlohmann::json load(const SafetensorsFile &file, bool withOptimizer);
  /// Loads every weight from `source`; zeroes the gradients and the
  /// optimizer state.
  void loadWeights(const WeightSource &source);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

//===----------------------------------------------------------------------===//
// The store's layout, for the trainer's memory budget and checkpoint checks
//===----------------------------------------------------------------------===//

/// fp32 arrays the store keeps for every parameter: weights, gradients and
/// the optimizer state, AdamW's m and v (4 arrays: 16 bytes a parameter)
/// or SGD's momentum (3: 12 bytes).
int storeArrays(const artifact::Optimizer &optimizer);

/// What a store of an artifact holds: every array with each tensor at a
/// page-aligned offset, and the largest tensor, page-aligned. With several
/// systems, what one holds: its shard of every array and the weights one
/// kernel gathers.
struct StoreSize {
  int64_t bytes = 0;
  int64_t largestTensorBytes = 0;
};
StoreSize storeSize(const artifact::Artifact &artifact);

/// What a disk store with `budget` bytes keeps back from its views for bulk
/// work: 8 chunks of clamp(budget / 64, 4 KiB, 4 MiB). Its budget must hold
/// the largest tensor plus these (docs/store.md).
int64_t storeChunkReserve(int64_t budget);

/// Checks that `file` is a checkpoint of `artifact`'s parameters: every
/// weight and (with `withOptimizer`) the optimizer state of save(), each
/// F32 with the parameter's shape and byte length, and no tensor the model
/// does not have (optimizer tensors are ignored without `withOptimizer`).
/// Throws StoreError naming the file and the first tensor that differs.
void checkCheckpoint(const artifact::Artifact &artifact,
                     const SafetensorsFile &file, bool withOptimizer);

/// A giga checkpoint's weights (its optimizer state, if any, unused), checked
/// by checkCheckpoint when made; the file stays open.
class CheckpointWeights : public WeightSource {
public:
  CheckpointWeights(const artifact::Artifact &artifact, SafetensorsFile file);
  const std::string &path() const override { return file.path(); }
  void read(const std::string &name, int64_t offset, float *out,
            int64_t count) const override;
  const SafetensorsFile &checkpoint() const { return file; }

private:
  SafetensorsFile file;
};

/// Whether `name` is a checkpoint's optimizer state ("adam.m.<name>",
/// "adam.v.<name>", "sgd.momentum.<name>") rather than a weight.
bool isOptimizerState(const std::string &name);

/// A checkpoint's `__metadata__.giga` parsed, an empty object if it has
/// none. Throws StoreError if it is not JSON.
nlohmann::json checkpointMetadata(const SafetensorsFile &file);

} // namespace giga::store

#endif // GIGA_RUNTIME_STORE_WEIGHTSTORE_H
