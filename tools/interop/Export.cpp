//===- Export.cpp - a giga checkpoint in Hugging Face's or llm.c's layout -===//
//
// A layout tensor at a time: its parts read from the checkpoint, transposed
// if Conv1D, rounded to the chosen type and streamed into a file that only
// appears, whole, at the end.
//
//===----------------------------------------------------------------------===//
#include "tools/interop/Gpt2Layouts.h"
#include "tools/interop/Interop.h"

#include "runtime/kernels/Bf16.h"
#include "runtime/store/Safetensors.h"
#include "runtime/support/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <functional>
#include <set>
#include <system_error>

namespace giga::interop {
namespace {

using nlohmann::json;

/// The GPT config a checkpoint was trained with (its metadata's), with
/// what each layout needs checked.
struct Gpt2Model {
  int64_t vocab = 0, positions = 0, depth = 0, width = 0, heads = 0, ffn = 0;
  std::string gelu, norm;
  double epsilon = 0, initStd = 0.02;
};

Gpt2Model readModel(const store::SafetensorsFile &file) {
  const json meta = store::checkpointMetadata(file);
  const std::string where = "checkpoint " + file.path();
  if (!meta.contains("config") || !meta["config"].is_object() ||
      !meta["config"].contains("model") || !meta["config"]["model"].is_object())
    throw InteropError(where +
                       " has no model config in its metadata; export "
                       "takes a checkpoint that gigarun wrote for a GPT "
                       "config (gigac compile CONFIG.json)");
  const json &m = meta["config"]["model"];
  Gpt2Model model;
  try {
    model.vocab = m.at("vocab_size");
    model.positions = m.at("max_position_embeddings");
    model.depth = m.at("depth");
    model.width = m.at("width");
    model.heads = m.at("heads");
    model.ffn = m.value("ffn_width", 4 * model.width);
    model.gelu = m.value("gelu", "exact");
    model.norm = m.value("norm", "layernorm");
    model.epsilon = m.value("layer_norm_epsilon", 1e-5);
    model.initStd = m.value("init_std", 0.02);
  } catch (const json::exception &error) {
    throw InteropError(where + ": its model config is not a GPT config (" +
                       error.what() + ")");
  }
  if (model.norm != "layernorm")
    throw InteropError(where + " is of a model with norm \"" + model.norm +
                       "\"; GPT-2's layouts hold LayerNorm weights and "
                       "biases only");
  return model;
}

/// The checkpoint's weights (its optimizer state left out).
Shapes weightShapes(const store::SafetensorsFile &file) {
  Shapes shapes;
  for (const auto &[name, entry] : file.tensors()) {
    if (store::isOptimizerState(name))
      continue;
    if (entry.dtype != "F32")
      throw InteropError("checkpoint " + file.path() + ": tensor " + name +
                         " is " + entry.dtype + ", not F32; is it giga's?");
    shapes[name] = entry.shape;
  }
  return shapes;
}

/// Checks that `layout` uses every weight of the checkpoint and finds each.
void checkCovers(const std::vector<ForeignTensor> &layout, const Shapes &shapes,
                 const std::string &checkpoint, const char *what) {
  std::set<std::string> used;
  for (const ForeignTensor &tensor : layout)
    for (const std::string &part : tensor.parts) {
      if (!shapes.count(part))
        throw InteropError("checkpoint " + checkpoint + " has no " + part +
                           ", which " + what +
                           " needs; only GPT-2 models "
                           "(frontend/gpt.cpp) can be exported");
      used.insert(part);
    }
  for (const auto &[name, shape] : shapes)
    if (!used.count(name))
      throw InteropError("checkpoint " + checkpoint + " has " + name +
                         ", which " + what +
                         " has no place for; only GPT-2 models "
                         "(frontend/gpt.cpp) can be exported");
}

/// Rounds fp32 to the export type and hands the bytes on, a chunk at a
/// time.
class TypedSink {
public:
  TypedSink(ExportType type, std::function<void(const void *, size_t)> write)
      : type(type), write(std::move(write)) {}

  void put(const float *data, int64_t count) {
    if (type == ExportType::F32) {
      write(data, size_t(count) * 4);
      return;
    }
    halves.resize(size_t(count));
    for (int64_t i = 0; i < count; ++i)
      halves[size_t(i)] =
          type == ExportType::Bf16 ? kernels::toBf16(data[i]) : toF16(data[i]);
    write(halves.data(), size_t(count) * 2);
  }

private:
  ExportType type;
  std::function<void(const void *, size_t)> write;
  std::vector<uint16_t> halves;
};

/// Writes `tensor` built from the checkpoint's parts to `sink`.
void writeTensor(const store::SafetensorsFile &file, const Shapes &shapes,
                 const ForeignTensor &tensor, TypedSink &sink) {
  const std::vector<int64_t> shape = foreignShape(tensor, shapes);
  constexpr int64_t kChunk = 1 << 18;
  std::vector<float> chunk;
  if (!tensor.transposed) {
    int64_t rows = 0, rowElements = 1;
    for (const std::string &part : tensor.parts) {
      const std::vector<int64_t> &partShape = shapes.at(part);
      const int64_t count = artifact::checkedElements(partShape);
      rows += partShape[0];
      rowElements = count / partShape[0];
      for (int64_t done = 0; done < count; done += kChunk) {
        const int64_t n = std::min(kChunk, count - done);
        chunk.resize(size_t(n));
        file.read(part, uint64_t(done) * 4, chunk.data(), size_t(n) * 4);
        sink.put(chunk.data(), n);
      }
    }
    chunk.assign(size_t(rowElements), 0.0f); // llm.c's padding rows
    for (int64_t row = rows; row < shape[0]; ++row)
      sink.put(chunk.data(), rowElements);
    return;
  }
  // Conv1D [in, out]: part p [out_p, in] lands in columns from its row.
  const int64_t in = shape[0], columns = shape[1];
  std::vector<float> whole(size_t(in * columns));
  for (int part = 0; part < int(tensor.parts.size()); ++part) {
    const int64_t row = partRow(tensor, shapes, part);
    const int64_t outs = shapes.at(tensor.parts[size_t(part)])[0];
    chunk.resize(size_t(outs * in));
    file.read(tensor.parts[size_t(part)], 0, chunk.data(), chunk.size() * 4);
    for (int64_t o = 0; o < outs; ++o)
      for (int64_t i = 0; i < in; ++i)
        whole[size_t(i * columns + row + o)] = chunk[size_t(o * in + i)];
  }
  sink.put(whole.data(), int64_t(whole.size()));
}

/// Writes every tensor of `layout`, in `type`, through `write`; returns
/// the bytes written.
int64_t writeLayout(const store::SafetensorsFile &file, const Shapes &shapes,
                    const std::vector<ForeignTensor> &layout, ExportType type,
                    const std::function<void(const void *, size_t)> &write) {
  int64_t bytes = 0;
  TypedSink sink(type, [&](const void *data, size_t size) {
    write(data, size);
    bytes += int64_t(size);
  });
  for (const ForeignTensor &tensor : layout)
    writeTensor(file, shapes, tensor, sink);
  return bytes;
}

const char *safetensorsType(ExportType type) {
  return type == ExportType::F32    ? "F32"
         : type == ExportType::Bf16 ? "BF16"
                                    : "F16";
}

/// Hugging Face's config.json for GPT2LMHeadModel.from_pretrained.
json huggingFaceConfig(const Gpt2Model &m, ExportType type) {
  json config = {
      {"architectures", {"GPT2LMHeadModel"}},
      {"model_type", "gpt2"},
      {"vocab_size", m.vocab},
      {"n_positions", m.positions},
      {"n_ctx", m.positions},
      {"n_embd", m.width},
      {"n_layer", m.depth},
      {"n_head", m.heads},
      {"n_inner", nullptr},
      {"activation_function", m.gelu == "tanh" ? "gelu_new" : "gelu"},
      {"layer_norm_epsilon", m.epsilon},
      {"initializer_range", m.initStd},
      // giga trains without dropout; fine-tuning in transformers can set it.
      {"resid_pdrop", 0.0},
      {"embd_pdrop", 0.0},
      {"attn_pdrop", 0.0},
      {"scale_attn_weights", true},
      {"tie_word_embeddings", true},
      {"torch_dtype", type == ExportType::F32    ? "float32"
                      : type == ExportType::Bf16 ? "bfloat16"
                                                 : "float16"},
  };
  if (m.ffn != 4 * m.width)
    config["n_inner"] = m.ffn;
  // GPT-2's <|endoftext|>, for a model with its vocabulary.
  if (m.vocab > 50256)
    config["bos_token_id"] = config["eos_token_id"] = 50256;
  return config;
}

ExportSummary exportHuggingFace(const store::SafetensorsFile &file,
                                const Gpt2Model &model, const Shapes &shapes,
                                const ExportOptions &options) {
  const std::vector<ForeignTensor> layout = huggingFaceTensors(model.depth);
  checkCovers(layout, shapes, file.path(), "Hugging Face's GPT-2");
  std::error_code error;
  const bool existed = std::filesystem::exists(options.out, error);
  std::filesystem::create_directories(options.out, error);
  if (!std::filesystem::is_directory(options.out))
    throw InteropError("-o " + options.out +
                       ": cannot make this directory for model.safetensors "
                       "and config.json" +
                       (error ? ": " + error.message() : std::string()));
  // A directory made here and left empty by a failure goes again.
  struct RemoveIfEmpty {
    std::string path;
    bool armed;
    ~RemoveIfEmpty() {
      std::error_code ignored;
      if (armed && std::filesystem::is_empty(path, ignored))
        std::filesystem::remove(path, ignored);
    }
  } cleanup{options.out, !existed};
  ExportSummary summary;
  summary.weightsFile =
      (std::filesystem::path(options.out) / "model.safetensors").string();
  // As GPT2LMHeadModel.save_pretrained writes them: under "transformer.",
  // the tied lm_head left out, and the "pt" format transformers asks for.
  std::vector<store::SafetensorsTensor> tensors;
  for (const ForeignTensor &tensor : layout)
    tensors.push_back({"transformer." + tensor.name,
                       safetensorsType(options.type),
                       foreignShape(tensor, shapes)});
  store::SafetensorsWriter writer(summary.weightsFile, tensors,
                                  {{"format", "pt"}});
  summary.bytes = writeLayout(
      file, shapes, layout, options.type,
      [&](const void *data, size_t size) { writer.write(data, size); });
  writer.commit();
  summary.tensors = int64_t(layout.size());
  try {
    writeFileAtomically(
        (std::filesystem::path(options.out) / "config.json").string(),
        huggingFaceConfig(model, options.type).dump(2) + "\n");
  } catch (const FileError &failure) {
    throw InteropError(std::string("cannot write ") + failure.what());
  }
  cleanup.armed = false;
  return summary;
}

ExportSummary exportLlmc(const store::SafetensorsFile &file,
                         const Gpt2Model &model, const Shapes &shapes,
                         const ExportOptions &options) {
  auto refuse = [&](const std::string &what) {
    throw InteropError("checkpoint " + file.path() + " is of a model with " +
                       what +
                       ", which llm.c's GPT-2 code cannot run; export "
                       "it with --format hf");
  };
  if (model.gelu != "tanh")
    refuse("GELU " + model.gelu + " (llm.c computes GELU tanh)");
  if (model.ffn != 4 * model.width)
    refuse("ffn_width " + std::to_string(model.ffn) +
           " (llm.c's MLP is 4 x width)");
  if (model.epsilon != 1e-5)
    refuse("layer_norm_epsilon " + std::to_string(model.epsilon) +
           " (llm.c's is 1e-5)");
  if (options.type == ExportType::F16)
    throw InteropError("--dtype f16: llm.c's checkpoints are fp32 (version "
                       "3) or bf16 (version 5); choose f32 or bf16");
  // llm.c pads the vocabulary to a multiple of 128 for its kernels.
  const int64_t padded = (model.vocab + 127) / 128 * 128;
  const std::vector<ForeignTensor> layout = llmcTensors(model.depth, padded);
  checkCovers(layout, shapes, file.path(), "llm.c's GPT-2");
  int32_t header[256] = {};
  header[0] = kLlmcMagic;
  header[1] = options.type == ExportType::F32 ? 3 : 5;
  header[2] = int32_t(model.positions);
  header[3] = int32_t(model.vocab);
  header[4] = int32_t(model.depth);
  header[5] = int32_t(model.heads);
  header[6] = int32_t(model.width);
  header[7] = int32_t(padded);
  ExportSummary summary;
  summary.weightsFile = options.out;
  try {
    AtomicFileWriter writer(options.out);
    writer.write(header, sizeof header);
    summary.bytes = int64_t(sizeof header) +
                    writeLayout(file, shapes, layout, options.type,
                                [&](const void *data, size_t size) {
                                  writer.write(data, size);
                                });
    writer.commit();
  } catch (const FileError &failure) {
    throw InteropError(std::string("cannot write ") + failure.what());
  }
  // llm.c counts a kind of tensor for every layer as one.
  summary.tensors = 4 + int64_t(layout.size() - 4) / model.depth;
  return summary;
}

} // namespace

ExportSummary exportWeights(const std::string &checkpoint,
                            const ExportOptions &options) {
  try {
    store::SafetensorsFile file(checkpoint);
    const Gpt2Model model = readModel(file);
    const Shapes shapes = weightShapes(file);
    if (options.layout == Layout::Llmc)
      return exportLlmc(file, model, shapes, options);
    if (options.layout == Layout::HuggingFace)
      return exportHuggingFace(file, model, shapes, options);
    throw InteropError("export writes --format hf or llmc; a giga "
                       "checkpoint is already giga's");
  } catch (const store::StoreError &error) {
    throw InteropError(error.what());
  }
}

} // namespace giga::interop
