//===- MpiCommunicator.h - the systems of an mpirun job ---------*- C++ -*-===//
#ifndef GIGA_RUNTIME_COMM_MPICOMMUNICATOR_H
#define GIGA_RUNTIME_COMM_MPICOMMUNICATOR_H

#include "runtime/comm/Communicator.h"

#include <memory>
#include <vector>

namespace giga::comm {

/// Whether a launcher (Open MPI's mpirun, or a PMI/PMIx one) started this
/// process: only then does a tool join an MPI world. Started plainly, it runs
/// alone without initializing MPI at all.
bool launchedByMpi();

/// MPI_COMM_WORLD, initialized on construction (all MPI calls come from the
/// thread that made it) and finalized on destruction.
class MpiWorld final : public Communicator {
public:
  MpiWorld(int *argc, char ***argv);
  ~MpiWorld() override;
  MpiWorld(const MpiWorld &) = delete;
  MpiWorld &operator=(const MpiWorld &) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void reduceScatterSum(const float *input, float *output,
                        int64_t elements) override;
  void allGather(float *data, int64_t elements) override;
  void gatherToRoot(float *data, int64_t elements) override;
  std::vector<double> allValues(double value) override;

  /// Ends every rank's process with `status` (after this one's message is
  /// out): the others may be waiting in a collective this rank never joins.
  [[noreturn]] void abort(int status);

private:
  void ringReduceScatter(const float *input, float *output,
                         const std::vector<int> &counts,
                         const std::vector<int> &displacements);

  int rank_ = 0, size_ = 1;
  std::vector<float> sending, receiving; // the ring's running sums
};

} // namespace giga::comm

#endif // GIGA_RUNTIME_COMM_MPICOMMUNICATOR_H
