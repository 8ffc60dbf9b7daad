//===- MpiCommunicator.cpp - collectives over Open MPI --------------------===//
//
// Each collective is one MPI call when every count fits MPI's int; a tensor
// whose shards do not (over 2^31 elements) goes as rooted calls of at most
// kPiece elements each, one root after another.
//
//===----------------------------------------------------------------------===//

#include "runtime/comm/MpiCommunicator.h"
#include "runtime/support/Error.h"

// The C API only: Open MPI's deprecated C++ bindings need their own library.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace giga::comm {
namespace {

constexpr int64_t kPiece = int64_t(1) << 30;
/// Floats the ring reduce-scatter moves per message: 512 KiB, well inside
/// a core's L2.
constexpr int kSegment = 1 << 17;

void check(int code, const char *what) {
  if (code == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string(what) + " failed: " + std::string(text, length));
}

/// Every rank's shard as MPI counts and displacements, or false if one of
/// them does not fit an int.
bool intLayout(int64_t elements, int ranks, std::vector<int> &counts,
               std::vector<int> &displacements) {
  counts.resize(ranks);
  displacements.resize(ranks);
  for (int r = 0; r < ranks; ++r) {
    Shard s = shardOf(elements, r, ranks);
    if (s.begin + s.count > INT_MAX)
      return false;
    counts[r] = int(s.count);
    displacements[r] = int(s.begin);
  }
  return true;
}

/// Calls f(offset, count) over [0, total) in pieces MPI can count.
template <typename F> void inPieces(int64_t total, F f) {
  for (int64_t offset = 0; offset < total; offset += kPiece)
    f(offset, int(std::min(kPiece, total - offset)));
}

} // namespace

bool launchedByMpi() {
  for (const char *variable :
       {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(variable))
      return true;
  return false;
}

MpiWorld::MpiWorld(int *argc, char ***argv) {
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided),
        "MPI_Init_thread");
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

void MpiWorld::reduceScatterSum(const float *input, float *output,
                                int64_t elements) {
  std::vector<int> counts, displacements;
  if (intLayout(elements, size_, counts, displacements)) {
    ringReduceScatter(input, output, counts, displacements);
    return;
  }
  for (int root = 0; root < size_; ++root) {
    Shard s = shardOf(elements, root, size_);
    inPieces(s.count, [&](int64_t offset, int count) {
      check(MPI_Reduce(input + s.begin + offset,
                       rank_ == root ? output + offset : nullptr, count,
                       MPI_FLOAT, MPI_SUM, root, MPI_COMM_WORLD),
            "MPI_Reduce");
    });
  }
}

// Open MPI 4.1's MPI_Reduce_scatter of floats measured 5% of a memory copy's
// bandwidth on loopback whichever algorithm coll/tuned was given (its sum
// is the bottleneck), so the ring is written here over MPI_Sendrecv: in
// step k rank r sends its running sum of shard r - k - 1 to rank r + 1 and
// adds its own values to the running sum of shard r - k - 2 that rank r - 1
// sends it. After N - 1 steps, rank r holds the whole sum of shard r, added
// in the same order on every run.
void MpiWorld::ringReduceScatter(const float *input, float *output,
                                 const std::vector<int> &counts,
                                 const std::vector<int> &displacements) {
  const int n = size_;
  if (n == 1) {
    std::copy(input, input + counts[0], output);
    return;
  }
  const int next = (rank_ + 1) % n, previous = (rank_ + n - 1) % n;
  const int largest = *std::max_element(counts.begin(), counts.end());
  sending.resize(size_t(largest));
  receiving.resize(size_t(kSegment));
  for (int step = 0; step < n - 1; ++step) {
    const int out = (rank_ - step - 1 + 2 * n) % n;
    const int in = (rank_ - step - 2 + 2 * n) % n;
    // The previous step's sums, or this rank's own values to start.
    const float *send = step == 0 ? input + displacements[out] : sending.data();
    float *sum = step == n - 2 ? output : sending.data();
    const float *own = input + displacements[in];
    // A segment at a time, so that what arrives is added while it is still
    // in cache. The send of a segment finishes before its bytes are
    // overwritten by this step's sums (MPI_Sendrecv returns when both are
    // done), and the sums of a segment only overwrite a segment sent.
    const int segments = std::max(
        (std::max(counts[out], counts[in]) + kSegment - 1) / kSegment, 1);
    for (int segment = 0; segment < segments; ++segment) {
      const int first = segment * kSegment;
      const int sendCount = std::clamp(counts[out] - first, 0, kSegment);
      const int receiveCount = std::clamp(counts[in] - first, 0, kSegment);
      check(MPI_Sendrecv(send + first, sendCount, MPI_FLOAT, next, step,
                         receiving.data(), receiveCount, MPI_FLOAT, previous,
                         step, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
            "MPI_Sendrecv");
      for (int i = 0; i < receiveCount; ++i)
        sum[first + i] = receiving[size_t(i)] + own[first + i];
    }
  }
}

void MpiWorld::allGather(float *data, int64_t elements) {
  std::vector<int> counts, displacements;
  if (intLayout(elements, size_, counts, displacements)) {
    check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data,
                         counts.data(), displacements.data(), MPI_FLOAT,
                         MPI_COMM_WORLD),
          "MPI_Allgatherv");
    return;
  }
  for (int root = 0; root < size_; ++root) {
    Shard s = shardOf(elements, root, size_);
    inPieces(s.count, [&](int64_t offset, int count) {
      check(MPI_Bcast(data + s.begin + offset, count, MPI_FLOAT, root,
                      MPI_COMM_WORLD),
            "MPI_Bcast");
    });
  }
}

void MpiWorld::gatherToRoot(float *data, int64_t elements) {
  std::vector<int> counts, displacements;
  Shard mine = shard(elements);
  if (intLayout(elements, size_, counts, displacements)) {
    check(MPI_Gatherv(rank_ == 0 ? MPI_IN_PLACE : data + mine.begin,
                      int(mine.count), MPI_FLOAT, data, counts.data(),
                      displacements.data(), MPI_FLOAT, 0, MPI_COMM_WORLD),
          "MPI_Gatherv");
    return;
  }
  for (int from = 1; from < size_; ++from) {
    Shard s = shardOf(elements, from, size_);
    inPieces(s.count, [&](int64_t offset, int count) {
      if (rank_ == from)
        check(MPI_Send(data + s.begin + offset, count, MPI_FLOAT, 0, 0,
                       MPI_COMM_WORLD),
              "MPI_Send");
      else if (rank_ == 0)
        check(MPI_Recv(data + s.begin + offset, count, MPI_FLOAT, from, 0,
                       MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Recv");
    });
  }
}

std::vector<double> MpiWorld::allValues(double value) {
  std::vector<double> values(static_cast<size_t>(size_));
  check(MPI_Allgather(&value, 1, MPI_DOUBLE, values.data(), 1, MPI_DOUBLE,
                      MPI_COMM_WORLD),
        "MPI_Allgather");
  return values;
}

void MpiWorld::abort(int status) {
  std::cout.flush();
  std::cerr.flush();
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status); // MPI_Abort does not return; this is for the compiler
}

} // namespace giga::comm
