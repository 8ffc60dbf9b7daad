//===- Generator.cpp - tokens in, next-token logits out -------------------===//
#include "runtime/generate/Generator.h"
#include "runtime/exec/Executor.h"

#include <algorithm>

namespace giga::generate {

namespace gen = artifact::generation;

Generator::Generator(const artifact::Artifact &artifact,
                     exec::Executor &executor, const std::string &source)
    : contract(gen::contract(artifact, source)), executor(executor) {}

void Generator::start(const std::vector<int32_t> &prompt) {
  if (prompt.empty())
    throw SamplingError("the prompt is empty; give at least one token");
  sequences.assign(contract.batch, prompt);
  refill();
}

void Generator::refill() {
  const int64_t batch = contract.batch;
  const int64_t length =
      std::min<int64_t>(contract.context, sequences.front().size());
  auto run = [&](const char *entry, int64_t tokens) {
    std::vector<int32_t> ids(batch * tokens);
    for (int64_t b = 0; b < batch; ++b) {
      const std::vector<int32_t> &s = sequences[b];
      std::copy_n(s.end() - (length - position), tokens,
                  ids.begin() + b * tokens);
    }
    int32_t at = int32_t(position);
    executor.run(entry, {{gen::kTokens, ids.data()}, {gen::kPosition, &at}});
    position += tokens;
    last = entry;
  };
  position = 0;
  // A chunk of 1 is decode's own shape: prefill would be the same call.
  while (contract.chunk > 1 && length - position >= contract.chunk) {
    run(gen::kPrefill, contract.chunk);
    ++prefills;
  }
  while (position < length) {
    run(gen::kDecode, 1);
    ++decodes;
  }
}

void Generator::append(const std::vector<int32_t> &next) {
  if (int64_t(next.size()) != contract.batch)
    throw SamplingError("append takes one token per sequence: " +
                        std::to_string(contract.batch) + ", not " +
                        std::to_string(next.size()));
  for (int64_t b = 0; b < contract.batch; ++b)
    sequences[b].push_back(next[b]);
  if (position == contract.context) {
    ++slides;
    refill();
    return;
  }
  int32_t at = int32_t(position);
  executor.run(gen::kDecode,
               {{gen::kTokens, next.data()}, {gen::kPosition, &at}});
  ++position;
  ++decodes;
  last = gen::kDecode;
}

const float *Generator::logits(int64_t b) const {
  return static_cast<const float *>(executor.output(last, gen::kLogits)) +
         b * contract.vocab;
}

} // namespace giga::generate
