//===- Batches.cpp - random training windows from a token file ------------===//

#include "runtime/train/Batches.h"

#include "runtime/data/DataError.h"
#include "runtime/data/TokenFile.h"

#include <limits>
#include <sstream>

namespace giga::train {

struct BatchSampler::Impl {
  explicit Impl(data::TokenFileReader reader) : reader(std::move(reader)) {}

  data::TokenFileReader reader;
  int64_t sequenceLength = 0;
  uint64_t lastOffset = 0; // offsets are uniform in [0, lastOffset]
  std::mt19937_64 generator;

  /// Uniform in [0, lastOffset] by rejection (unbiased, and the same on
  /// every standard library, unlike std::uniform_int_distribution).
  uint64_t drawOffset() {
    uint64_t range = lastOffset + 1; // >= 1; 0 when lastOffset is 2^64 - 1
    if (range == 0)
      return generator();
    uint64_t limit = std::numeric_limits<uint64_t>::max() -
                     std::numeric_limits<uint64_t>::max() % range;
    uint64_t x;
    do
      x = generator();
    while (x >= limit);
    return x % range;
  }
};

namespace {
data::TokenFileReader openReader(const std::string &path) {
  try {
    return data::TokenFileReader::open(path);
  } catch (const data::DataError &error) {
    throw BatchError(error.what());
  }
}
} // namespace

BatchSampler::BatchSampler(const std::string &path, int64_t sequenceLength,
                           int64_t vocabSize, uint64_t seed) {
  if (sequenceLength < 1)
    throw BatchError("sequence length must be at least 1 to sample " + path +
                     ", got " + std::to_string(sequenceLength));
  if (vocabSize < 1)
    throw BatchError("vocabulary size must be at least 1 to sample " + path +
                     ", got " + std::to_string(vocabSize));
  impl = std::make_unique<Impl>(openReader(path));
  impl->sequenceLength = sequenceLength;
  impl->generator.seed(seed);
  const data::TokenFileReader &reader = impl->reader;
  uint64_t count = reader.size();
  uint64_t window = uint64_t(sequenceLength) + 1;
  if (count < window)
    throw BatchError(path + " holds " + std::to_string(count) +
                     " tokens, fewer than one window of sequence_length + 1 "
                     "= " +
                     std::to_string(window) +
                     " tokens; use a longer file or a shorter sequence length");
  impl->lastOffset = count - window;

  // Every token once, up front: a bad id fails here, not hours in.
  uint32_t vocab = vocabSize > int64_t(std::numeric_limits<uint32_t>::max())
                       ? std::numeric_limits<uint32_t>::max()
                       : uint32_t(vocabSize);
  uint64_t bad = reader.findOutOfVocab(vocab, 0, count);
  if (bad < count) {
    uint64_t byteOffset =
        bad * 2 + (reader.format() == data::TokenFileFormat::LlmC
                       ? data::kLlmcHeaderBytes
                       : 0);
    throw BatchError(path + ": token " + std::to_string(reader.at(bad)) +
                     " at token index " + std::to_string(bad) +
                     " (byte offset " + std::to_string(byteOffset) +
                     ") is outside the vocabulary of " +
                     std::to_string(vocabSize) +
                     " tokens; the file was made with another tokenizer, or "
                     "for another model");
  }
}

BatchSampler::~BatchSampler() = default;

std::vector<uint64_t> BatchSampler::next(int64_t batch, int32_t *tokens,
                                         int32_t *targets) {
  std::vector<uint64_t> offsets = draw(batch);
  fill(offsets, tokens, targets);
  return offsets;
}

std::vector<uint64_t> BatchSampler::draw(int64_t batch) {
  if (batch < 0)
    throw BatchError("batch size must be >= 0, got " + std::to_string(batch));
  std::vector<uint64_t> offsets(static_cast<size_t>(batch));
  for (uint64_t &offset : offsets)
    offset = impl->drawOffset();
  return offsets;
}

void BatchSampler::fill(const std::vector<uint64_t> &offsets, int32_t *tokens,
                        int32_t *targets) const {
  const data::TokenFileReader &reader = impl->reader;
  int64_t T = impl->sequenceLength;
  for (size_t b = 0; b < offsets.size(); ++b) {
    uint64_t offset = offsets[b];
    if (offset > impl->lastOffset)
      throw BatchError("window offset " + std::to_string(offset) + " in " +
                       path() + " is past the last full window (offset " +
                       std::to_string(impl->lastOffset) + ")");
    int32_t *rowTokens = tokens + b * size_t(T);
    int32_t *rowTargets = targets + b * size_t(T);
    std::vector<data::TokenId> window = reader.read(offset, uint64_t(T) + 1);
    for (int64_t t = 0; t < T; ++t) {
      rowTokens[t] = int32_t(window[t]);
      rowTargets[t] = int32_t(window[t + 1]);
    }
  }
}

std::string BatchSampler::state() const {
  std::ostringstream text;
  text << impl->generator;
  return text.str();
}

void BatchSampler::restore(const std::string &state) {
  std::istringstream text(state);
  std::mt19937_64 generator;
  text >> generator;
  bool valid = !text.fail();
  if (valid && !text.eof()) {
    text >> std::ws; // trailing blanks are fine, anything else is not
    valid = text.eof();
  }
  if (!valid)
    throw BatchError("cannot restore the data sampler of " + path() +
                     ": the saved state is not a std::mt19937_64 state (a "
                     "damaged checkpoint?)");
  impl->generator = generator;
}

uint64_t BatchSampler::tokenCount() const { return impl->reader.size(); }

const std::string &BatchSampler::path() const { return impl->reader.path(); }

} // namespace giga::train
