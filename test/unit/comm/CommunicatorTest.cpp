//===- CommunicatorTest.cpp - shards and the one-system communicator ------===//
//
// The collectives between processes are tested under mpirun by
// test/e2e/gigarun-mpi.sh; here, what holds in any one process.
//
//===----------------------------------------------------------------------===//

#include "runtime/comm/Communicator.h"

#include <gtest/gtest.h>

#include <vector>

using giga::comm::Shard;
using giga::comm::shardOf;

namespace {

TEST(Shards, TileTheTensorInRankOrder) {
  for (int64_t elements : {0, 1, 2, 5, 7, 12, 1000003})
    for (int ranks : {1, 2, 3, 4, 7, 64}) {
      int64_t next = 0, smallest = elements, largest = 0;
      for (int rank = 0; rank < ranks; ++rank) {
        Shard s = shardOf(elements, rank, ranks);
        EXPECT_EQ(s.begin, next) << elements << " over " << ranks;
        EXPECT_GE(s.count, 0);
        next = s.begin + s.count;
        smallest = std::min(smallest, s.count);
        largest = std::max(largest, s.count);
      }
      EXPECT_EQ(next, elements) << elements << " over " << ranks;
      EXPECT_LE(largest - smallest, 1) << elements << " over " << ranks;
    }
}

TEST(Shards, HoldTheLargestTensors) {
  // 2^56 elements (the artifact's bound) over 200 ranks: elements * rank
  // passes 2^63, and the boundaries must still be floor(2^56 * r / 200).
  const int64_t elements = int64_t(1) << 56;
  EXPECT_EQ(shardOf(elements, 199, 200).begin, 71697306067738296);
  EXPECT_EQ(shardOf(elements, 199, 200).count, 360287970189640);
  EXPECT_EQ(shardOf(elements, 2, 3).begin, 48038396025285290);
}

TEST(SingleProcess, KeepsEverythingAndSumsNothing) {
  giga::comm::Communicator &one = giga::comm::singleProcess();
  EXPECT_EQ(one.rank(), 0);
  EXPECT_EQ(one.size(), 1);
  Shard all = one.shard(10);
  EXPECT_EQ(all.begin, 0);
  EXPECT_EQ(all.count, 10);
  std::vector<float> gradient = {1, 2, 3}, shard(3);
  one.reduceScatterSum(gradient.data(), shard.data(), 3);
  EXPECT_EQ(shard, gradient);
  one.allGather(gradient.data(), 3);
  one.gatherToRoot(gradient.data(), 3);
  EXPECT_EQ(gradient, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(one.sum(2.5), 2.5);
  EXPECT_EQ(one.max(-1.0), -1.0);
}

} // namespace
