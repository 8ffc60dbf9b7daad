//===- Import.cpp - giga's weights out of Hugging Face and llm.c files ----===//
//
// Every file is checked whole when opened: its blocks, then each tensor of
// the layout against the shape the compiled model needs, then anything left
// over. Reads then go straight to the file, but for Conv1D weights (stored
// transposed), which are read whole once and gathered from.
//
//===----------------------------------------------------------------------===//
#include "tools/interop/Gpt2Layouts.h"
#include "tools/interop/Interop.h"

#include "runtime/kernels/Bf16.h"
#include "runtime/store/Safetensors.h"
#include "runtime/support/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace giga::interop {
namespace {

using nlohmann::json;

/// A file descriptor that closes itself.
class Fd {
public:
  explicit Fd(int fd) : fd(fd) {}
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  int get() const { return fd; }
  int release() { return std::exchange(fd, -1); }

private:
  int fd;
};

/// Opens `path` for reading, refusing anything but a regular file (a FIFO
/// without a writer would block in open() without O_NONBLOCK).
int openRegular(const std::string &path, const std::string &where,
                uint64_t &size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int error = errno;
    throw InteropError("cannot open " + where + ": " +
                       (error == ENOENT
                            ? std::string("No such file or directory; check "
                                          "the path")
                            : openFailureReason(error)));
  }
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw InteropError(where + " is not a regular file; give a weights file");
  }
  size = uint64_t(info.st_size);
  return fd;
}

Shapes modelShapes(const artifact::Artifact &artifact) {
  Shapes shapes;
  for (const artifact::Parameter &param : artifact.params)
    for (int64_t layer = 0; layer < param.layers; ++layer)
      shapes[param.fullName(layer)] = param.shape;
  return shapes;
}

/// The compiled model's config value `key` (model section), if it has one.
template <typename T>
std::optional<T> modelSetting(const artifact::Artifact &artifact,
                              const char *key) {
  const json &config = artifact.config;
  if (!config.is_object() || !config.contains("model") ||
      !config["model"].is_object() || !config["model"].contains(key))
    return std::nullopt;
  try {
    return config["model"][key].get<T>();
  } catch (const json::exception &) {
    return std::nullopt;
  }
}

/// Converts `count` elements of `type` ("F32", "BF16", "F16") to fp32.
void widen(const std::string &type, const void *in, float *out, int64_t count) {
  if (type == "F32") {
    std::memcpy(out, in, size_t(count) * 4);
    return;
  }
  const uint16_t *halves = static_cast<const uint16_t *>(in);
  for (int64_t i = 0; i < count; ++i)
    out[i] = type == "BF16" ? kernels::fromBf16(halves[i]) : fromF16(halves[i]);
}

int bytesOf(const std::string &type) { return type == "F32" ? 4 : 2; }

/// A file in a foreign layout: its tensors (`layout`) and where each giga
/// weight lies in them. Subclasses read a run of a tensor's elements.
class ForeignWeights : public store::WeightSource {
public:
  const std::string &path() const override { return file; }

  void read(const std::string &name, int64_t offset, float *out,
            int64_t count) const override {
    const Place &place = places.at(name);
    const ForeignTensor &tensor = layout[place.tensor];
    const std::vector<int64_t> &shape = shapes.at(name);
    const int64_t row = partRow(tensor, shapes, place.part);
    if (!tensor.transposed) {
      const int64_t rowElements = artifact::checkedElements(shape) / shape[0];
      readElements(place.tensor, row * rowElements + offset, out, count);
      return;
    }
    // A Conv1D weight [in, out...] holding this part [out, in] from
    // column `row`.
    const std::vector<float> &whole = wholeTensor(place.tensor);
    const int64_t in = shape[1], columns = foreignShapes[place.tensor][1];
    for (int64_t e = 0; e < count; ++e) {
      const int64_t o = (offset + e) / in, i = (offset + e) % in;
      out[e] = whole[size_t(i * columns + row + o)];
    }
  }

protected:
  ForeignWeights(std::string file, std::string what,
                 std::vector<ForeignTensor> layout, Shapes shapes)
      : file(std::move(file)), what(std::move(what)), layout(std::move(layout)),
        shapes(std::move(shapes)) {}

  /// Elements [begin, begin + count) of layout tensor `index`, as fp32.
  virtual void readElements(size_t index, int64_t begin, float *out,
                            int64_t count) const = 0;

  /// Checks every layout tensor against the file's (`fileShape`: its shape
  /// there, empty if absent) and that every weight of the model has a
  /// place; fills `places` and `foreignShapes`.
  template <typename FileShape> void match(FileShape &&fileShape) {
    for (size_t index = 0; index < layout.size(); ++index) {
      const ForeignTensor &tensor = layout[index];
      const std::vector<int64_t> has = fileShape(index);
      std::vector<std::string> missing;
      for (const std::string &part : tensor.parts)
        if (!shapes.count(part))
          missing.push_back(part);
      if (has.empty() && missing.size() < tensor.parts.size())
        fail("has no tensor " + tensor.name + ", which holds the model's " +
             tensor.parts.front());
      if (has.empty())
        continue;
      if (!missing.empty())
        fail("has tensor " + tensor.name + ", but the compiled model has no " +
             missing.front() +
             " (a GPT-2 with LayerNorm biases is needed; model.norm "
             "\"rmsnorm\" has none)");
      const std::vector<int64_t> needs = foreignShape(tensor, shapes);
      if (needs != has)
        fail("tensor " + tensor.name + " has shape " +
             artifact::formatShape(has) + ", but the compiled model needs " +
             artifact::formatShape(needs) +
             (tensor.parts.front() == tensor.name
                  ? std::string()
                  : " (for its " + tensor.parts.front() + ", " +
                        artifact::formatShape(shapes.at(tensor.parts.front())) +
                        ")") +
             "; compile the config of the model this file holds");
      for (size_t part = 0; part < tensor.parts.size(); ++part)
        places[tensor.parts[part]] = {index, int(part)};
    }
    foreignShapes.clear();
    for (const ForeignTensor &tensor : layout)
      foreignShapes.push_back(foreignShape(tensor, shapes));
    for (const auto &[name, shape] : shapes)
      if (!places.count(name))
        fail("the compiled model has parameter " + name + ", which " + what +
             " has no place for; only GPT-2 models (frontend/gpt.cpp) "
             "can be loaded from it");
  }

  [[noreturn]] void fail(const std::string &problem) const {
    throw InteropError(what + " " + file + " " + problem);
  }

  const std::string file, what;
  const std::vector<ForeignTensor> layout;
  const Shapes shapes; // the compiled model's

private:
  const std::vector<float> &wholeTensor(size_t index) const {
    if (cachedIndex != index) {
      cached.assign(size_t(artifact::checkedElements(foreignShapes[index])),
                    0.0f);
      readElements(index, 0, cached.data(), int64_t(cached.size()));
      cachedIndex = index;
    }
    return cached;
  }

  struct Place {
    size_t tensor = 0;
    int part = 0;
  };
  std::map<std::string, Place> places;
  std::vector<std::vector<int64_t>> foreignShapes;
  // q, k and v come from one c_attn, read once.
  mutable size_t cachedIndex = SIZE_MAX;
  mutable std::vector<float> cached;
};

//===----------------------------------------------------------------------===//
// Hugging Face
//===----------------------------------------------------------------------===//

class HuggingFaceWeights : public ForeignWeights {
public:
  HuggingFaceWeights(const artifact::Artifact &artifact,
                     const std::string &path, store::SafetensorsFile opened)
      : ForeignWeights(path, "Hugging Face GPT-2 file",
                       huggingFaceTensors(depthOf(modelShapes(artifact))),
                       modelShapes(artifact)),
        file(std::move(opened)) {
    prefix = file.find("transformer.wte.weight") ? "transformer." : "";
    Shapes fileShapes;
    for (const auto &[name, entry] : file.tensors())
      if (name.rfind(prefix, 0) == 0)
        fileShapes[name.substr(prefix.size())] = entry.shape;
    const int64_t blocks = depthOf(fileShapes), depth = depthOf(shapes);
    if (blocks != depth)
      fail("has " + std::to_string(blocks) + " blocks (h.0 .. h." +
           std::to_string(blocks - 1) + "), the compiled model " +
           std::to_string(depth) + "; compile the config of this model " +
           "(configs/gpt2-*.json for OpenAI's sizes)");
    match([&](size_t index) -> std::vector<int64_t> {
      const store::SafetensorsEntry *entry = find(layout[index].name);
      if (!entry)
        return {};
      if (entry->dtype != "F32" && entry->dtype != "BF16" &&
          entry->dtype != "F16")
        fail("tensor " + prefix + layout[index].name + " is " + entry->dtype +
             "; giga reads F32, BF16 and F16");
      return entry->shape;
    });
    std::set<std::string> known;
    for (const ForeignTensor &tensor : layout)
      known.insert(prefix + tensor.name);
    for (const auto &[name, entry] : file.tensors())
      if (!known.count(name) && name != "lm_head.weight" &&
          !isHuggingFaceBuffer(
              name.substr(name.rfind(prefix, 0) == 0 ? prefix.size() : 0)))
        fail("has tensor " + name + ", which GPT-2 does not have");
    checkTiedHead();
    checkConfigBeside(artifact);
  }

protected:
  void readElements(size_t index, int64_t begin, float *out,
                    int64_t count) const override {
    const std::string name = prefix + layout[index].name;
    const store::SafetensorsEntry &entry = *file.find(name);
    const int bytes = bytesOf(entry.dtype);
    if (bytes == 4) {
      file.read(name, uint64_t(begin) * 4, out, size_t(count) * 4);
      return;
    }
    constexpr int64_t kChunk = 1 << 16;
    std::vector<uint16_t> halves(size_t(std::min(count, kChunk)));
    for (int64_t done = 0; done < count; done += kChunk) {
      const int64_t n = std::min(kChunk, count - done);
      file.read(name, uint64_t(begin + done) * 2, halves.data(), size_t(n) * 2);
      widen(entry.dtype, halves.data(), out + done, n);
    }
  }

private:
  const store::SafetensorsEntry *find(const std::string &name) const {
    return file.find(prefix + name);
  }

  /// GPT2LMHeadModel ties lm_head to wte, and so does giga: a file that
  /// has both must have them equal.
  void checkTiedHead() const {
    const store::SafetensorsEntry *head = file.find("lm_head.weight");
    if (!head)
      return;
    const store::SafetensorsEntry &wte = *find("wte.weight");
    bool same = head->dtype == wte.dtype && head->shape == wte.shape;
    constexpr uint64_t kChunk = 1 << 20;
    std::vector<char> a(kChunk), b(kChunk);
    const uint64_t size = wte.end - wte.begin;
    for (uint64_t done = 0; same && done < size; done += kChunk) {
      const size_t n = size_t(std::min(kChunk, size - done));
      file.read("lm_head.weight", done, a.data(), n);
      file.read(prefix + "wte.weight", done, b.data(), n);
      same = std::memcmp(a.data(), b.data(), n) == 0;
    }
    if (!same)
      fail("has an lm_head.weight that differs from wte.weight; giga ties "
           "the output head to the token embedding, as GPT-2 does, so an "
           "untied head cannot be loaded");
  }

  /// The config.json that Hugging Face keeps beside model.safetensors, if
  /// any: heads are not in the weights' shapes, and the activation and
  /// epsilon change the numbers.
  void checkConfigBeside(const artifact::Artifact &artifact) const {
    const std::filesystem::path config =
        std::filesystem::path(file.path()).parent_path() / "config.json";
    std::ifstream in(config);
    if (!in)
      return;
    json hf;
    try {
      hf = json::parse(in);
    } catch (const json::exception &) {
      return; // not ours to judge; the weights themselves were checked
    }
    if (!hf.is_object())
      return;
    auto heads = modelSetting<int64_t>(artifact, "heads");
    if (heads && hf.contains("n_head") && hf["n_head"].is_number_integer() &&
        hf["n_head"].get<int64_t>() != *heads)
      throw InteropError(config.string() + " says n_head " +
                         hf["n_head"].dump() + ", the compiled model has " +
                         std::to_string(*heads) +
                         " heads; compile the config of this model");
    auto gelu = modelSetting<std::string>(artifact, "gelu");
    if (gelu && hf.contains("activation_function") &&
        hf["activation_function"].is_string()) {
      const std::string act = hf["activation_function"];
      const bool tanh =
          act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast";
      if ((*gelu == "tanh") != tanh)
        std::cerr << "gigarun: warning: " << config.string()
                  << " says activation_function \"" << act
                  << "\", the compiled model uses GELU " << *gelu
                  << "; it trains, but not as the original model computes "
                     "(set model.gelu to \""
                  << (tanh ? "tanh" : "exact") << "\" for that)\n";
    }
    auto epsilon = modelSetting<double>(artifact, "layer_norm_epsilon");
    if (epsilon && hf.contains("layer_norm_epsilon") &&
        hf["layer_norm_epsilon"].is_number() &&
        hf["layer_norm_epsilon"].get<double>() != *epsilon)
      std::cerr << "gigarun: warning: " << config.string()
                << " says layer_norm_epsilon " << hf["layer_norm_epsilon"]
                << ", the compiled model uses " << *epsilon << "\n";
  }

  store::SafetensorsFile file;
  std::string prefix;
};

//===----------------------------------------------------------------------===//
// llm.c
//===----------------------------------------------------------------------===//

constexpr uint64_t kLlmcHeaderBytes = 256 * 4;

/// An llm.c header's version and dimensions, checked before any is used to
/// size something.
void checkLlmcHeader(const std::string &where, const int32_t (&header)[256]) {
  if (header[0] != kLlmcMagic)
    throw InteropError(where + " does not start with llm.c's magic number "
                               "20240326; is it another layout?");
  const int32_t version = header[1];
  if (version != 3 && version != 5)
    throw InteropError(where + " has version " + std::to_string(version) +
                       "; giga reads versions 3 (fp32) and 5 (bf16)");
  const int64_t maxT = header[2], vocab = header[3], depth = header[4],
                heads = header[5], width = header[6], padded = header[7];
  if (maxT <= 0 || vocab <= 0 || depth <= 0 || heads <= 0 || width <= 0 ||
      padded < vocab || width > (1 << 20) || depth > (1 << 16) ||
      padded > (1 << 24) || maxT > (1 << 24))
    throw InteropError(
        where + " has a damaged header (max_seq_len " + std::to_string(maxT) +
        ", vocab " + std::to_string(vocab) + ", padded vocab " +
        std::to_string(padded) + ", layers " + std::to_string(depth) +
        ", heads " + std::to_string(heads) + ", channels " +
        std::to_string(width) + ")");
}

class LlmcWeights : public ForeignWeights {
public:
  LlmcWeights(const artifact::Artifact &artifact, const std::string &path,
              const int32_t (&header)[256], uint64_t fileSize, int fd)
      : ForeignWeights(path, "llm.c checkpoint",
                       llmcTensors(header[4], header[7]),
                       modelShapes(artifact)),
        fd(fd) {
    type = header[1] == 3 ? "F32" : "BF16";
    const int64_t maxT = header[2], vocab = header[3], depth = header[4],
                  heads = header[5], width = header[6];
    if (depth != depthOf(shapes))
      fail("has " + std::to_string(depth) + " layers, the compiled model " +
           std::to_string(depthOf(shapes)) +
           "; compile the config of this model (configs/gpt2-*.json for "
           "OpenAI's sizes)");
    if (auto modelHeads = modelSetting<int64_t>(artifact, "heads");
        modelHeads && *modelHeads != heads)
      fail("has " + std::to_string(heads) + " heads, the compiled model " +
           std::to_string(*modelHeads) + "; compile the config of this model");
    // What llm.c's GPT-2 of this header holds: check the model's weights
    // against these one by one, and the file's size against their sum.
    Shapes inFile = gpt2Shapes(vocab, maxT, depth, width);
    for (const ForeignTensor &tensor : layout)
      for (const std::string &name : tensor.parts) {
        auto model = shapes.find(name);
        if (model != shapes.end() && model->second != inFile.at(name))
          fail("holds " + name + " as " +
               artifact::formatShape(inFile.at(name)) +
               ", but the compiled model's is " +
               artifact::formatShape(model->second) +
               "; compile the config of the model this file holds");
      }
    match([&](size_t index) { return foreignShape(layout[index], inFile); });
    uint64_t elements = 0;
    for (const ForeignTensor &tensor : layout) {
      starts.push_back(elements);
      elements +=
          uint64_t(artifact::checkedElements(foreignShape(tensor, inFile)));
    }
    const uint64_t expected =
        kLlmcHeaderBytes + elements * uint64_t(bytesOf(type));
    if (fileSize != expected)
      fail("has " + std::to_string(fileSize) + " bytes, but its header " +
           "describes " + std::to_string(expected) +
           (fileSize < expected ? " (truncated?)" : "") +
           "; the file is damaged or not llm.c's");
    if (auto gelu = modelSetting<std::string>(artifact, "gelu");
        gelu && *gelu != "tanh")
      std::cerr << "gigarun: warning: llm.c's GPT-2 uses GELU tanh, the "
                   "compiled model GELU "
                << *gelu
                << "; it trains, but not as llm.c computes (set model.gelu "
                   "to \"tanh\" for that)\n";
  }

protected:
  void readElements(size_t index, int64_t begin, float *out,
                    int64_t count) const override {
    const int bytes = bytesOf(type);
    constexpr int64_t kChunk = 1 << 16;
    std::vector<char> raw(size_t(std::min(count, kChunk)) * size_t(bytes));
    for (int64_t done = 0; done < count; done += kChunk) {
      const int64_t n = std::min(kChunk, count - done);
      const uint64_t at =
          kLlmcHeaderBytes + (starts[index] + uint64_t(begin + done)) * bytes;
      if (!readFullyAt(fd.get(), raw.data(), size_t(n) * bytes, at))
        fail("ended early, at byte " + std::to_string(at) + ": " +
             (errno ? std::strerror(errno) : "truncated while read"));
      widen(type, raw.data(), out + done, n);
    }
  }

private:
  /// GPT-2's weights, in giga's names, for llm.c's dimensions (its MLP is
  /// always 4 times as wide).
  static Shapes gpt2Shapes(int64_t vocab, int64_t maxT, int64_t depth,
                           int64_t width) {
    Shapes s = {{"wte.weight", {vocab, width}},
                {"wpe.weight", {maxT, width}},
                {"ln_f.weight", {width}},
                {"ln_f.bias", {width}}};
    for (int64_t layer = 0; layer < depth; ++layer) {
      const std::string h = "h." + std::to_string(layer) + ".";
      for (const char *name :
           {"ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias",
            "attn.q.bias", "attn.k.bias", "attn.v.bias", "attn.proj.bias",
            "mlp.proj.bias"})
        s[h + name] = {width};
      for (const char *name : {"attn.q.weight", "attn.k.weight",
                               "attn.v.weight", "attn.proj.weight"})
        s[h + name] = {width, width};
      s[h + "mlp.fc.weight"] = {4 * width, width};
      s[h + "mlp.fc.bias"] = {4 * width};
      s[h + "mlp.proj.weight"] = {width, 4 * width};
    }
    return s;
  }

  Fd fd;
  std::string type;
  std::vector<uint64_t> starts; // each layout tensor's first element
};

} // namespace

const char *layoutName(Layout layout) {
  switch (layout) {
  case Layout::Giga:
    return "giga";
  case Layout::HuggingFace:
    return "hf";
  case Layout::Llmc:
    return "llmc";
  }
  return "?";
}

std::optional<Layout> parseLayout(const std::string &name) {
  for (Layout layout : {Layout::Giga, Layout::HuggingFace, Layout::Llmc})
    if (name == layoutName(layout))
      return layout;
  return std::nullopt;
}

namespace {

/// The first 256 int32 of a file (zeros past its end).
void readLlmcHeader(int fd, uint64_t size, int32_t (&header)[256]) {
  std::memset(header, 0, sizeof header);
  readFullyAt(fd, header, size_t(std::min<uint64_t>(size, sizeof header)), 0);
}

bool holdsHuggingFaceNames(const store::SafetensorsFile &file) {
  for (const auto &[name, entry] : file.tensors())
    if (name.find("attn.c_attn.") != std::string::npos)
      return true;
  return false;
}

} // namespace

std::unique_ptr<store::WeightSource>
openWeights(const artifact::Artifact &artifact, const std::string &path,
            std::optional<Layout> layout, const std::string &flag) {
  try {
    // The file is opened and its header read once, to tell the layout and
    // to load it.
    uint64_t size = 0;
    Fd fd(openRegular(path, "checkpoint " + path, size));
    int32_t header[256];
    readLlmcHeader(fd.get(), size, header);
    if (layout ? *layout == Layout::Llmc : header[0] == kLlmcMagic) {
      checkLlmcHeader("llm.c checkpoint " + path, header);
      return std::make_unique<LlmcWeights>(artifact, path, header, size,
                                           fd.release());
    }
    std::optional<store::SafetensorsFile> file;
    try {
      file.emplace(path);
    } catch (const store::StoreError &error) {
      if (layout)
        throw;
      throw InteropError(path +
                         " is neither an llm.c checkpoint (magic 20240326) "
                         "nor a safetensors file: " +
                         error.what());
    }
    if (layout ? *layout == Layout::HuggingFace : holdsHuggingFaceNames(*file))
      return std::make_unique<HuggingFaceWeights>(artifact, path,
                                                  std::move(*file));
    return std::make_unique<store::CheckpointWeights>(artifact,
                                                      std::move(*file));
  } catch (const InteropError &error) {
    throw InteropError(flag + ": " + error.what());
  } catch (const store::StoreError &error) {
    throw InteropError(flag + ": " + error.what());
  }
}

} // namespace giga::interop
