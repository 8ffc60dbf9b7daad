//===- Config.cpp - parsing and validating configs ------------------------===//
#include "frontend/Config.h"
#include "runtime/support/Json.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

namespace giga {
namespace {

using nlohmann::json;

size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// One key of a section: how to read it into the config and whether it must
/// be present. `read` throws ConfigError through `Section::fail`.
struct Field {
  std::string key;
  bool required;
  std::function<void(const json &)> read;
};

/// Reads one section ("model" or "run") of a config, naming the file and the
/// key in every error.
class Section {
public:
  Section(const std::string &source, const std::string &name)
      : source(source), name(name) {}

  [[noreturn]] void fail(const std::string &key,
                         const std::string &problem) const {
    throw ConfigError(source + ": " + name + (key.empty() ? "" : "." + key) +
                      ": " + problem);
  }

  Field integer(const std::string &key, int64_t &out, int64_t min,
                bool required) {
    return {key, required, [this, key, &out, min](const json &value) {
              if (!value.is_number_integer())
                fail(key, "must be an integer, got " + value.dump());
              int64_t v = value.get<int64_t>();
              if (value.is_number_unsigned() &&
                  value.get<uint64_t>() > uint64_t(INT64_MAX))
                fail(key, "is too large: " + value.dump());
              if (v < min)
                fail(key, (min == 1 ? std::string("must be positive")
                                    : "must be >= " + std::to_string(min)) +
                              ", got " + std::to_string(v));
              out = v;
            }};
  }

  Field unsignedInteger(const std::string &key, uint64_t &out) {
    return {key, false, [this, key, &out](const json &value) {
              if (!value.is_number_integer() ||
                  (!value.is_number_unsigned() && value.get<int64_t>() < 0))
                fail(key,
                     "must be a non-negative integer, got " + value.dump());
              out = value.get<uint64_t>();
            }};
  }

  /// A real number in (min, max] or [min, max) as `openBelow` says.
  Field real(const std::string &key, double &out, double min, bool openBelow,
             double max, bool required, bool openAbove = true) {
    return {
        key, required,
        [this, key, &out, min, openBelow, max, openAbove](const json &value) {
          if (!value.is_number())
            fail(key, "must be a number, got " + value.dump());
          double v = value.get<double>();
          bool inRange = (openBelow ? v > min : v >= min) &&
                         (openAbove ? v < max : v <= max);
          if (!inRange) {
            std::ostringstream range;
            range << "must be in " << (openBelow ? "(" : "[") << min << ", "
                  << max << (openAbove ? ")" : "]") << ", got " << v;
            fail(key, range.str());
          }
          out = v;
        }};
  }

  Field choice(const std::string &key, std::string &out,
               std::vector<std::string> allowed) {
    return {key, false, [this, key, &out, allowed](const json &value) {
              std::string list;
              for (const std::string &option : allowed)
                list += (list.empty() ? "\"" : ", \"") + option + "\"";
              if (!value.is_string() ||
                  std::find(allowed.begin(), allowed.end(),
                            value.get<std::string>()) == allowed.end())
                fail(key, "must be one of " + list + ", got " + value.dump());
              out = value.get<std::string>();
            }};
  }

  void read(const json &object, const std::vector<Field> &fields) {
    if (!object.is_object())
      fail("", "must be an object, got " + std::string(object.type_name()));
    for (const auto &item : object.items()) {
      const std::string &key = item.key();
      auto known = std::find_if(fields.begin(), fields.end(),
                                [&](const Field &f) { return f.key == key; });
      if (known == fields.end())
        fail(key, "unknown key" + suggestion(key, fields));
      known->read(item.value());
    }
    for (const Field &field : fields)
      if (field.required && !object.contains(field.key))
        fail(field.key, "is required but missing");
  }

private:
  static std::string suggestion(const std::string &key,
                                const std::vector<Field> &fields) {
    const Field *best = nullptr;
    size_t bestDistance = SIZE_MAX;
    for (const Field &field : fields) {
      size_t distance = editDistance(key, field.key);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = &field;
      }
    }
    if (best && bestDistance <= std::max<size_t>(2, key.size() / 3))
      return "; did you mean \"" + best->key + "\"?";
    std::string all;
    for (const Field &field : fields)
      all += (all.empty() ? "" : ", ") + field.key;
    return "; known keys: " + all;
  }

  const std::string &source;
  std::string name;
};

constexpr double kInf = 1e300;
// Token files hold uint16 ids, so every id must fit.
constexpr int64_t kMaxVocab = 65535;
// Far beyond any model trained (GPT-3's width is 12,288, its context 2,048),
// and small enough that no size the compiler and the runtime compute from
// them (bytes of a tensor, of the store, of a step's activations) can
// overflow 64 bits: 2^40 tokens a step times 2^20 features (the MLP's 4x of
// the widest width) times 4 bytes is 2^62.
constexpr int64_t kMaxWidth = int64_t(1) << 18;
constexpr int64_t kMaxFfnWidth = int64_t(1) << 20;
constexpr int64_t kMaxPositions = int64_t(1) << 24;
constexpr int64_t kMaxDepth = int64_t(1) << 16;
constexpr int64_t kMaxTokensPerStep = int64_t(1) << 40;
constexpr double kMaxParameters = double(int64_t(1) << 46);

void readModel(const json &object, const std::string &source,
               ModelConfig &model) {
  Section section(source, "model");
  std::string gelu = "exact", norm = "layernorm";
  section.read(object,
               {
                   section.integer("vocab_size", model.vocabSize, 1, true),
                   section.integer("max_position_embeddings",
                                   model.maxPositionEmbeddings, 1, true),
                   section.integer("depth", model.depth, 1, true),
                   section.integer("width", model.width, 1, true),
                   section.integer("heads", model.heads, 1, true),
                   section.integer("ffn_width", model.ffnWidth, 1, false),
                   section.real("init_std", model.initStd, 0, true, kInf, true),
                   section.real("layer_norm_epsilon", model.layerNormEpsilon, 0,
                                true, 1, false),
                   section.choice("gelu", gelu, {"exact", "tanh"}),
                   section.choice("norm", norm, {"layernorm", "rmsnorm"}),
               });
  model.geluTanh = gelu == "tanh";
  model.rmsNorm = norm == "rmsnorm";
  if (model.ffnWidth == 0)
    model.ffnWidth = 4 * model.width;
  auto atMost = [&](const char *key, int64_t value, int64_t limit) {
    if (value > limit)
      section.fail(key, "is " + std::to_string(value) + "; giga's sizes are " +
                            "bounded at " + std::to_string(limit) +
                            " (far beyond any trained model, and short of "
                            "64-bit overflow)");
  };
  atMost("width", model.width, kMaxWidth);
  atMost("ffn_width", model.ffnWidth, kMaxFfnWidth);
  atMost("max_position_embeddings", model.maxPositionEmbeddings, kMaxPositions);
  atMost("depth", model.depth, kMaxDepth);
  // Embeddings and per block: attention 4 W^2 + 4 W, MLP 2 W F + F + W, two
  // norms 4 W (an upper bound whatever the norm).
  const double w = double(model.width), f = double(model.ffnWidth);
  const double parameters =
      (double(std::min(model.vocabSize, kMaxVocab)) +
       double(model.maxPositionEmbeddings)) *
          w +
      double(model.depth) * (4 * w * w + 2 * w * f + f + 9 * w) + 2 * w;
  if (parameters > kMaxParameters)
    section.fail("depth", "with this width the model has " +
                              std::to_string(int64_t(parameters)) +
                              " parameters; giga's models are bounded at "
                              "2^46 (70 trillion), whose store alone is a "
                              "petabyte");
  if (model.vocabSize > kMaxVocab)
    section.fail("vocab_size", "is " + std::to_string(model.vocabSize) +
                                   " but token files store uint16 ids, so it "
                                   "must be at most 65535");
  if (model.width % model.heads != 0)
    section.fail("heads", "width " + std::to_string(model.width) +
                              " is not divisible by heads " +
                              std::to_string(model.heads) +
                              "; choose heads that divide width");
}

void readRun(const json &object, const std::string &source,
             const ModelConfig &model, RunConfig &run) {
  Section section(source, "run");
  section.read(
      object,
      {
          section.integer("batch_size", run.batchSize, 1, true),
          section.integer("num_systems", run.numSystems, 1, false),
          section.integer("sequence_length", run.sequenceLength, 1, true),
          section.integer("num_steps", run.numSteps, 1, true),
          section.real("learning_rate", run.learningRate, 0, true, kInf, true),
          section.integer("warmup_steps", run.warmupSteps, 0, false),
          section.integer("decay_steps", run.decaySteps, 0, false),
          section.real("min_lr_ratio", run.minLrRatio, 0, false, 1, false,
                       /*openAbove=*/false),
          section.choice("optimizer", run.optimizer, {"adamw", "sgd"}),
          section.real("weight_decay", run.weightDecay, 0, false, kInf, false),
          section.real("max_gradient_norm", run.maxGradientNorm, 0, true, kInf,
                       false),
          section.real("adam_beta1", run.adamBeta1, 0, false, 1, false),
          section.real("adam_beta2", run.adamBeta2, 0, false, 1, false),
          section.real("adam_epsilon", run.adamEpsilon, 0, true, kInf, false),
          section.real("momentum", run.momentum, 0, false, 1, false),
          section.integer("checkpoint_steps", run.checkpointSteps, 0, false),
          section.integer("eval_interval", run.evalInterval, 0, false),
          section.integer("eval_steps", run.evalSteps, 0, false),
          section.unsignedInteger("seed", run.seed),
      });
  if (run.sequenceLength > model.maxPositionEmbeddings)
    section.fail("sequence_length",
                 std::to_string(run.sequenceLength) +
                     " exceeds model.max_position_embeddings " +
                     std::to_string(model.maxPositionEmbeddings) +
                     "; shorten the sequence or add positions");
  if (double(run.batchSize) * double(run.sequenceLength) >
      double(kMaxTokensPerStep))
    section.fail("batch_size",
                 std::to_string(run.batchSize) + " x sequence_length " +
                     std::to_string(run.sequenceLength) +
                     " tokens a step exceeds giga's bound of 2^40; "
                     "train with a smaller batch");
  if (run.batchSize % run.numSystems != 0)
    section.fail("num_systems",
                 std::to_string(run.numSystems) +
                     " does not divide batch_size " +
                     std::to_string(run.batchSize) +
                     ": each system trains an equal share of the batch; "
                     "choose a batch that the systems divide");
  if (run.warmupSteps > run.numSteps)
    section.fail("warmup_steps", std::to_string(run.warmupSteps) +
                                     " exceeds num_steps " +
                                     std::to_string(run.numSteps));
  if (run.decaySteps < 0)
    run.decaySteps = run.numSteps - run.warmupSteps;
}

std::string lineAndColumn(const std::string &text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

} // namespace

Config parseConfig(const json &object, const std::string &source) {
  if (!object.is_object())
    throw ConfigError(source + ": must be a JSON object with \"model\" and "
                               "\"run\" sections");
  Config config;
  for (const auto &[key, value] : object.items()) {
    if (key == "name") {
      if (!value.is_string())
        throw ConfigError(source + ": name: must be a string, got " +
                          value.dump());
      config.name = value.get<std::string>();
    } else if (key != "model" && key != "run") {
      size_t toModel = editDistance(key, "model"),
             toRun = editDistance(key, "run");
      std::string hint = std::min(toModel, toRun) <= 2
                             ? toModel <= toRun ? "model" : "run"
                             : "";
      throw ConfigError(source + ": " + key + ": unknown key" +
                        (hint.empty() ? "; known keys: name, model, run"
                                      : "; did you mean \"" + hint + "\"?"));
    }
  }
  for (const char *section : {"model", "run"})
    if (!object.contains(section))
      throw ConfigError(source + ": " + section + ": is required but missing");
  readModel(object["model"], source, config.model);
  readRun(object["run"], source, config.model, config.run);
  return config;
}

Config parseConfigText(const std::string &text, const std::string &source) {
  json object;
  try {
    object = json::parse(text);
  } catch (const json::parse_error &error) {
    std::string what = error.what();
    // nlohmann's message reads "[json.exception.parse_error.101] parse error
    // at line 3, column 5: <detail>"; keep the detail only.
    size_t colon = what.find(": ");
    std::string detail =
        colon == std::string::npos ? what : what.substr(colon + 2);
    throw ConfigError(source + ":" + lineAndColumn(text, error.byte) +
                      ": invalid JSON: " + detail);
  } catch (const json::out_of_range &error) {
    // A number beyond double's range (1e400): nlohmann gives no position.
    std::string what = error.what();
    size_t at = what.find("] ");
    throw ConfigError(source + ": " +
                      (at == std::string::npos ? what : what.substr(at + 2)) +
                      "; numbers must fit in a double (about 1.8e308)");
  }
  if (auto key = duplicateJsonKey(text))
    throw ConfigError(source + ": " + *key +
                      ": appears twice; keep one (JSON readers disagree on "
                      "which one wins)");
  return parseConfig(object, source);
}

Config loadConfig(const std::string &path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw ConfigError(path + ": is a directory, not a config file (try one of "
                             "configs/gpt-*.json)");
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int error = errno;
    if (error != ENOENT)
      throw ConfigError(
          path + ": cannot open config file: " + openFailureReason(error));
    throw ConfigError(path + ": cannot open config file (does it exist? try "
                             "one of configs/gpt-*.json)");
  }
  std::stringstream text;
  text << file.rdbuf();
  if (file.bad())
    throw ConfigError(path + ": cannot read config file");
  return parseConfigText(text.str(), path);
}

nlohmann::json Config::toJson() const {
  json model = {
      {"vocab_size", this->model.vocabSize},
      {"max_position_embeddings", this->model.maxPositionEmbeddings},
      {"depth", this->model.depth},
      {"width", this->model.width},
      {"heads", this->model.heads},
      {"ffn_width", this->model.ffnWidth},
      {"init_std", this->model.initStd},
      {"layer_norm_epsilon", this->model.layerNormEpsilon},
      {"gelu", this->model.geluTanh ? "tanh" : "exact"},
      {"norm", this->model.rmsNorm ? "rmsnorm" : "layernorm"},
  };
  json run = {
      {"batch_size", this->run.batchSize},
      {"num_systems", this->run.numSystems},
      {"sequence_length", this->run.sequenceLength},
      {"num_steps", this->run.numSteps},
      {"learning_rate", this->run.learningRate},
      {"warmup_steps", this->run.warmupSteps},
      {"decay_steps", this->run.decaySteps},
      {"min_lr_ratio", this->run.minLrRatio},
      {"optimizer", this->run.optimizer},
      {"weight_decay", this->run.weightDecay},
      {"max_gradient_norm", this->run.maxGradientNorm},
      {"adam_beta1", this->run.adamBeta1},
      {"adam_beta2", this->run.adamBeta2},
      {"adam_epsilon", this->run.adamEpsilon},
      {"momentum", this->run.momentum},
      {"checkpoint_steps", this->run.checkpointSteps},
      {"eval_interval", this->run.evalInterval},
      {"eval_steps", this->run.evalSteps},
      {"seed", this->run.seed},
  };
  return {{"name", name}, {"model", model}, {"run", run}};
}

} // namespace giga
