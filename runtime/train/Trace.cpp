//===- Trace.cpp - --trace-step: one step's tensors, for parity tests -----===//
#include "runtime/train/Trace.h"

#include "runtime/artifact/TrainingEntryPoints.h"
#include "runtime/exec/Executor.h"
#include "runtime/store/Safetensors.h"
#include "runtime/store/WeightStore.h"
#include "runtime/train/MicroBatch.h"

namespace giga::train {

void StepTrace::addMicroBatch(int64_t m, const std::vector<int32_t> &tokens,
                              const std::vector<int32_t> &targets,
                              exec::Executor &executor) {
  this->tokens.insert(this->tokens.end(), tokens.begin(), tokens.end());
  this->targets.insert(this->targets.end(), targets.begin(), targets.end());
  if (m != 0 || logitsBuffer < 0)
    return;
  namespace names = artifact::training;
  evalMicroBatch(executor, tokens.data(), targets.data());
  const artifact::Buffer &buffer = artifact.buffers[logitsBuffer];
  const float *data = static_cast<const float *>(
      executor.output(names::kEvalStep, names::kLogits));
  logits.assign(data, data + buffer.type.elements());
  logitsShape = buffer.type.shape;
}

void StepTrace::write(const std::string &path, store::WeightStore &store,
                      const StepRecord &record, const std::string &checksum) {
  const int64_t batch = artifact.batchSize, T = artifact.sequenceLength;
  std::vector<store::SafetensorsTensor> tensors;
  tensors.push_back({"tokens", "I32", {batch, T}, tokens.data()});
  tensors.push_back({"targets", "I32", {batch, T}, targets.data()});
  if (!logits.empty())
    tensors.push_back({"logits", "F32", logitsShape, logits.data()});
  float loss = float(record.loss);
  tensors.push_back({"loss", "F32", {}, &loss});
  // The gradients as the update sees them: the micro-batches' sum × 1/A.
  float scale = float(1.0 / double(artifact.accumulation()));
  std::vector<std::vector<float>> grads;
  for (size_t p = 0; p < artifact.params.size(); ++p) {
    const artifact::Parameter &param = artifact.params[p];
    for (int64_t layer = 0; layer < param.layers; ++layer) {
      const float *grad = store.grad(int32_t(p), layer);
      grads.emplace_back(grad, grad + param.elements());
      for (float &value : grads.back())
        value *= scale;
      tensors.push_back(
          {"grad." + param.fullName(layer), "F32", param.shape, nullptr});
    }
  }
  // Pointers into `grads` only once it has stopped growing.
  for (size_t i = 0; i < grads.size(); ++i)
    tensors[tensors.size() - grads.size() + i].data = grads[i].data();
  nlohmann::json meta = {{"step", record.step},
                         {"artifact_checksum", checksum},
                         {"batch_offsets", record.batchOffsets}};
  store::writeSafetensors(path, tensors, {{"giga", meta.dump()}});
}

} // namespace giga::train
