//===- CheckpointTest.cpp - safetensors save and load ---------------------===//

#include "StoreTestSupport.h"

#include <cstring>

namespace giga::store::test {
namespace {

/// A store trained for two steps, so weights, m and v are all non-trivial.
void train(WeightStore &store, const artifact::Artifact &a, int steps = 2,
           int firstStep = 1) {
  for (int step = firstStep; step < firstStep + steps; ++step) {
    accumulateRound(store, a, uint64_t(step) * 2);
    accumulateRound(store, a, uint64_t(step) * 2 + 1);
    store.applyUpdate(step, 0.5);
  }
}

TEST(Checkpoint, FileIsSafetensors) {
  TempDir dir;
  artifact::Artifact a = smallModel(2);
  WeightStore store(a, {});
  store.initialize(1);
  train(store, a);
  nlohmann::json meta = {{"step", 2}, {"rng", "1 2 3"}};
  store.save(dir.path("ck.safetensors"), meta);

  std::string bytes = readFile(dir.path("ck.safetensors"));
  ASSERT_GE(bytes.size(), 8u);
  uint64_t headerLength = 0;
  for (int i = 0; i < 8; ++i)
    headerLength |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  EXPECT_EQ(headerLength % 8, 0u) << "the header is padded to 8 bytes";
  std::string headerText = bytes.substr(8, headerLength);
  EXPECT_EQ(headerText.front(), '{');
  nlohmann::json header = nlohmann::json::parse(headerText);
  EXPECT_EQ(
      nlohmann::json::parse(header["__metadata__"]["giga"].get<std::string>()),
      meta);
  // 1 + 3 * 2 + 1 tensors, times weights, adam.m, adam.v.
  EXPECT_EQ(header.size(), 1u + 8u * 3u);
  for (const char *name : {"wte.weight", "h.1.mlp.weight",
                           "adam.m.h.0.ln.weight", "adam.v.ln_f.weight"})
    EXPECT_TRUE(header.contains(name)) << name;
  EXPECT_EQ(header["h.1.mlp.weight"]["shape"], nlohmann::json({8, 12}));
  EXPECT_EQ(header["h.1.mlp.weight"]["dtype"], "F32");

  // Offsets tile the data exactly, as the safetensors reader requires.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto item = header.begin(); item != header.end(); ++item)
    if (item.key() != "__metadata__")
      ranges.emplace_back(item.value()["data_offsets"][0].get<uint64_t>(),
                          item.value()["data_offsets"][1].get<uint64_t>());
  std::sort(ranges.begin(), ranges.end());
  uint64_t end = 0;
  for (auto [b, e] : ranges) {
    EXPECT_EQ(b, end);
    end = e;
  }
  EXPECT_EQ(8 + headerLength + end, bytes.size());

  // The raw data of a tensor is its little-endian fp32 values.
  uint64_t begin = header["h.1.mlp.weight"]["data_offsets"][0].get<uint64_t>();
  std::vector<float> stored(96);
  std::memcpy(stored.data(), bytes.data() + 8 + headerLength + begin, 96 * 4);
  EXPECT_EQ(stored, copyOf(store.weights(1, 1), 96));
  EXPECT_FALSE(std::filesystem::exists(
      dir.path("ck.safetensors.tmp." + std::to_string(getpid()))));
}

TEST(Checkpoint, RoundTripIsBitExactIncludingOptimizerState) {
  for (const char *optimizer : {"adamw", "sgd"}) {
    SCOPED_TRACE(optimizer);
    TempDir dir;
    artifact::Artifact a = smallModel(3, optimizer);
    WeightStore original(a, {});
    original.initialize(5);
    train(original, a);
    nlohmann::json meta = {{"step", 2}, {"config", {{"n_layer", 3}}}};
    original.save(dir.path("a.safetensors"), meta);

    WeightStore restored(a, {});
    restored.initialize(99); // different, so a no-op load would show
    EXPECT_EQ(restored.load(dir.path("a.safetensors"), true), meta);
    restored.save(dir.path("b.safetensors"), meta);
    EXPECT_EQ(readFile(dir.path("a.safetensors")),
              readFile(dir.path("b.safetensors")));

    // The optimizer state is really in use: the next steps agree bitwise.
    train(original, a, 2, 3);
    train(restored, a, 2, 3);
    for (size_t p = 0; p < a.params.size(); ++p)
      for (int64_t l = 0; l < a.params[p].layers; ++l) {
        int64_t n = a.params[p].elements();
        EXPECT_EQ(copyOf(original.weights(int32_t(p), l), n),
                  copyOf(restored.weights(int32_t(p), l), n))
            << a.params[p].fullName(l);
      }
  }
}

TEST(Checkpoint, LoadWithoutOptimizerStartsTheStateAfresh) {
  TempDir dir;
  artifact::Artifact a = smallModel(2);
  WeightStore trained(a, {});
  trained.initialize(5);
  train(trained, a);
  trained.save(dir.path("ck"), nlohmann::json::object());

  WeightStore fresh(a, {}), loaded(a, {});
  fresh.initialize(5);
  loaded.initialize(77);
  loaded.load(dir.path("ck"), false);
  EXPECT_EQ(copyOf(loaded.weights(0, 0), 136),
            copyOf(trained.weights(0, 0), 136));
  // Same weights as `trained`, zero state: one step equals a fresh store's
  // step from those weights.
  for (size_t p = 0; p < a.params.size(); ++p)
    for (int64_t l = 0; l < a.params[p].layers; ++l)
      std::copy_n(trained.weights(int32_t(p), l), a.params[p].elements(),
                  fresh.weights(int32_t(p), l));
  train(fresh, a, 1, 1);
  train(loaded, a, 1, 1);
  EXPECT_EQ(copyOf(loaded.weights(1, 1), 96), copyOf(fresh.weights(1, 1), 96));
}

class CheckpointErrors : public ::testing::Test {
protected:
  void SetUp() override {
    WeightStore store(model, {});
    store.initialize(1);
    train(store, model);
    store.save(path, {{"step", 2}});
    bytes = readFile(path);
  }
  /// A store of `artifact`, initialized, that must stay untouched by a
  /// failed load.
  void expectLoadFails(const artifact::Artifact &artifact,
                       const std::string &file,
                       const std::vector<std::string> &parts,
                       bool withOptimizer = true) {
    WeightStore store(artifact, {});
    store.initialize(3);
    std::vector<float> before = copyOf(store.weights(0, 0), 136);
    std::vector<std::string> all = parts;
    all.push_back(file);
    expectStoreError([&] { store.load(file, withOptimizer); }, all);
    EXPECT_EQ(copyOf(store.weights(0, 0), 136), before)
        << "a rejected checkpoint changes nothing";
  }
  std::string corrupt(std::string contents) {
    std::string bad = dir.path("bad.safetensors");
    writeFile(bad, contents);
    return bad;
  }

  TempDir dir;
  artifact::Artifact model = smallModel(3);
  std::string path = dir.path("ck.safetensors");
  std::string bytes;
};

TEST_F(CheckpointErrors, MissingTensorOfADeeperModel) {
  expectLoadFails(
      smallModel(4), path,
      {"has no tensor h.3.mlp.weight", "written for another model"});
}

TEST_F(CheckpointErrors, ExtraTensorOfAShallowerModel) {
  expectLoadFails(smallModel(2), path,
                  {"h.2.", "which the model does not have"});
}

TEST_F(CheckpointErrors, WrongShape) {
  artifact::Artifact other = smallModel(3);
  other.params[1].shape = {12, 8};
  expectLoadFails(
      other, path,
      {"tensor h.0.mlp.weight has shape [8, 12]", "the model's is [12, 8]"});
}

TEST_F(CheckpointErrors, WrongDtype) {
  std::string text = bytes;
  size_t at = text.find("\"F32\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 5, "\"F16\"");
  expectLoadFails(model, corrupt(text), {"dtype F16", "F32"});
}

TEST_F(CheckpointErrors, Truncated) {
  expectLoadFails(model, corrupt(bytes.substr(0, bytes.size() - 100)),
                  {"is truncated", "adam.v.h.0.ln.weight"});
  expectLoadFails(model, corrupt(bytes.substr(0, 5)), {"is truncated"});
  expectLoadFails(model, corrupt(bytes.substr(0, 100)), {"header length says"});
  expectLoadFails(model, corrupt(""), {"is truncated"});
}

TEST_F(CheckpointErrors, BadJson) {
  std::string text = bytes;
  text[8] = '#';
  expectLoadFails(model, corrupt(text), {"not valid JSON"});
  // Valid JSON, not a safetensors header.
  std::string array = "[1, 2, 3]";
  array.append(8 - array.size() % 8, ' ');
  std::string file(8, '\0');
  file[0] = char(array.size());
  expectLoadFails(model, corrupt(file + array), {"not a JSON object"});
  // A tensor named twice: the header's second entry would win silently.
  std::string twice = R"({"a": {"dtype": "F32", "shape": [1], )"
                      R"("data_offsets": [0, 4]}, "a": {"dtype": "F32", )"
                      R"("shape": [1], "data_offsets": [0, 4]}})";
  twice.append(8 - twice.size() % 8, ' ');
  std::string header(8, '\0');
  header[0] = char(twice.size());
  expectLoadFails(model, corrupt(header + twice + std::string(4, '\0')),
                  {"names a twice"});
  // Two tensors sharing bytes: writing one would change the other.
  std::string overlap = R"({"a": {"dtype": "F32", "shape": [2], )"
                        R"("data_offsets": [0, 8]}, "b": {"dtype": "F32", )"
                        R"("shape": [2], "data_offsets": [4, 12]}})";
  overlap.append(8 - overlap.size() % 8, ' ');
  header[0] = char(overlap.size());
  expectLoadFails(model, corrupt(header + overlap + std::string(12, '\0')),
                  {"tensors a and b overlap", "[0, 8) and [4, 12)"});
}

TEST_F(CheckpointErrors, BadMetadataAndEntries) {
  std::string text = bytes;
  size_t at = text.find("\"data_offsets\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 14, "\"data_offsetz\"");
  expectLoadFails(model, corrupt(text), {"data_offsets"});
}

TEST_F(CheckpointErrors, OptimizerMismatch) {
  // An AdamW checkpoint into an SGD store: its state is not there...
  expectLoadFails(
      smallModel(3, "sgd"), path,
      {"has no tensor sgd.momentum.wte.weight", "without the optimizer"});
  // ...but its weights load.
  WeightStore sgd(smallModel(3, "sgd"), {});
  sgd.initialize(3);
  EXPECT_EQ(sgd.load(path, false), nlohmann::json({{"step", 2}}));
}

TEST_F(CheckpointErrors, MissingFile) {
  expectLoadFails(model, dir.path("nope.safetensors"), {"cannot open"});
}

TEST(CheckpointSave, UnwritablePathIsAnErrorAndLeavesNothing) {
  TempDir dir;
  artifact::Artifact a = smallModel(1);
  WeightStore store(a, {});
  store.initialize(1);
  std::string path = dir.path("missing/ck.safetensors");
  expectStoreError([&] { store.save(path, {}); }, {path});
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

} // namespace
} // namespace giga::store::test
