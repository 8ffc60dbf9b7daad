//===- Batches.h - random training windows from a token file ----*- C++ -*-===//
#ifndef GIGA_RUNTIME_TRAIN_BATCHES_H
#define GIGA_RUNTIME_TRAIN_BATCHES_H

#include "runtime/support/Error.h"
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace giga::train {

class BatchError : public Error {
public:
  using Error::Error;
};

/// Windows of sequence_length + 1 tokens at uniformly random offsets, as
/// nanoGPT's get_batch: inputs are the first T, targets the last T. Reads
/// nanoGPT raw uint16 and llm.c shard files (memory-mapped).
class BatchSampler {
public:
  /// Throws BatchError naming the file if it is missing, malformed,
  /// shorter than one window, or holds a token >= vocabSize (checked once,
  /// over the whole file, with the offset of the first bad token).
  BatchSampler(const std::string &path, int64_t sequenceLength,
               int64_t vocabSize, uint64_t seed);
  ~BatchSampler();

  /// Fills `tokens` and `targets` ([batch, T] int32) and returns the window
  /// offsets it drew.
  std::vector<uint64_t> next(int64_t batch, int32_t *tokens, int32_t *targets);
  /// The offsets of the next `batch` windows, read by none: next() is
  /// draw() then fill(). Each system of a data-parallel run draws the whole
  /// batch and fills its share, so the batch is the same whatever their
  /// number.
  std::vector<uint64_t> draw(int64_t batch);
  /// The same for explicit offsets (resume checks, parity tests).
  void fill(const std::vector<uint64_t> &offsets, int32_t *tokens,
            int32_t *targets) const;

  /// The generator's state, for checkpoints: resuming from it continues
  /// the same sequence of windows.
  std::string state() const;
  void restore(const std::string &state);

  uint64_t tokenCount() const;
  const std::string &path() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_BATCHES_H
