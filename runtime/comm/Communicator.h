//===- Communicator.h - SwarmX: collectives between systems ------*- C++
//-*-===//
//
// What the store and the trainer need from the other systems of a
// data-parallel run: sum gradients and keep a shard, gather the updated
// shards, gather to rank 0 for a checkpoint, agree on scalars. Ranks hold
// consecutive, near-equal shards of every tensor in rank order (shardOf).
// singleProcess() is the one-system implementation: every collective is a
// copy or nothing. MPI's is in MpiCommunicator.h, so only a tool that runs
// under mpirun links MPI.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_COMM_COMMUNICATOR_H
#define GIGA_RUNTIME_COMM_COMMUNICATOR_H

#include <cstdint>
#include <vector>

namespace giga::comm {

/// Elements [begin, begin + count) of a tensor.
struct Shard {
  int64_t begin = 0, count = 0;
};

/// Rank `rank`'s shard of `elements` over `ranks`: [e * r / n, e * (r+1) / n).
Shard shardOf(int64_t elements, int rank, int ranks);

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  Shard shard(int64_t elements) const {
    return shardOf(elements, rank(), size());
  }

  /// Sums `input` (`elements` floats on every rank) over the ranks and
  /// leaves this rank's shard of the sum in `output` (shard(elements).count
  /// floats).
  virtual void reduceScatterSum(const float *input, float *output,
                                int64_t elements) = 0;
  /// `data` holds `elements` floats of which this rank's shard is current;
  /// afterwards every rank's shard is, on every rank.
  virtual void allGather(float *data, int64_t elements) = 0;
  /// The same, but only into rank 0's `data`.
  virtual void gatherToRoot(float *data, int64_t elements) = 0;
  /// Every rank's `value`, in rank order, on every rank.
  virtual std::vector<double> allValues(double value) = 0;

  /// The sum over the ranks, added in rank order: the same bits on every
  /// rank, so every rank takes the same decisions from it.
  double sum(double value);
  double max(double value);
};

/// The communicator of a run on one system.
Communicator &singleProcess();

} // namespace giga::comm

#endif // GIGA_RUNTIME_COMM_COMMUNICATOR_H
