//===- Prepare.cpp - text corpora to train.bin / val.bin ------------------===//

#include "runtime/data/Prepare.h"
#include "runtime/support/AtomicFile.h"
#include "runtime/support/Json.h"

#include "runtime/data/DataError.h"
#include "runtime/data/Unicode.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace giga::data {

Utf8Guard::Utf8Guard(InvalidUtf8Policy policy, std::ostream *log)
    : policy(policy), log(log) {}

void Utf8Guard::apply(std::string &text, const std::string &path,
                      uint64_t fileOffset, const std::string &where) {
  if (policy == InvalidUtf8Policy::Keep)
    return;
  Utf8Report report = checkUtf8(text);
  if (report.invalidSequences == 0)
    return;
  if (policy == InvalidUtf8Policy::Reject)
    throw DataError(
        path + ": invalid UTF-8 at " + where + "byte " +
        std::to_string(fileOffset + report.firstInvalidOffset) +
        " (rejected because of --invalid-utf8=reject)\n  fix: convert the "
        "file to UTF-8 (e.g. iconv -f latin1 -t utf-8), or pass "
        "--invalid-utf8=replace to replace bad bytes with U+FFFD");
  text = replaceInvalidUtf8(text);
  if (fileReplaced == 0)
    firstOffset = fileOffset + report.firstInvalidOffset, firstWhere = where;
  fileReplaced += report.invalidSequences;
}

void Utf8Guard::finishFile(const std::string &path) {
  if (fileReplaced > 0 && log)
    *log << "warning: " << path << " is not valid UTF-8: replaced "
         << fileReplaced << " invalid sequence(s) with U+FFFD (first at "
         << firstWhere << "byte " << firstOffset
         << "); pass --invalid-utf8=reject to stop instead, or "
            "--invalid-utf8=keep to encode the raw bytes\n";
  totalReplaced += fileReplaced;
  fileReplaced = 0;
}

namespace {

constexpr size_t kPieceBytes = 64 << 10;
constexpr size_t kReadBytes = 1 << 20;
// Enough pieces per batch to keep every thread busy, small enough that the
// progress bar moves and memory stays flat.
constexpr size_t kBatchBytes = 4 << 20;

bool isAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool isAsciiNonSpace(char c) {
  return static_cast<unsigned char>(c) < 0x80 && !isAsciiSpace(c);
}

struct InputFile {
  std::string path;
  bool jsonl = false;
  uint64_t size = 0;
};

bool isJsonlPath(const fs::path &path) {
  std::string extension = path.extension().string();
  return extension == ".jsonl" || extension == ".ndjson";
}

std::vector<InputFile> collectInputs(const std::vector<std::string> &inputs) {
  if (inputs.empty())
    throw DataError("no inputs given\n  fix: name text files, folders or "
                    ".jsonl files to prepare");
  std::vector<InputFile> files;
  for (const std::string &input : inputs) {
    std::error_code error;
    fs::file_status status = fs::status(input, error);
    if (!fs::exists(status))
      throw DataError("input not found: " + input +
                      "\n  fix: check the path; inputs are text files, "
                      ".jsonl files or folders of them");
    if (!fs::is_directory(status)) {
      uint64_t size = fs::is_regular_file(status) ? fs::file_size(input) : 0;
      files.push_back({input, isJsonlPath(input), size});
      continue;
    }
    std::vector<InputFile> found;
    for (auto it = fs::recursive_directory_iterator(
             input, fs::directory_options::skip_permission_denied, error);
         !error && it != fs::recursive_directory_iterator();
         it.increment(error)) {
      const fs::path &path = it->path();
      std::string extension = path.extension().string();
      if (path.filename().string().front() == '.' || !it->is_regular_file())
        continue;
      if (extension == ".txt" || extension == ".md" || extension == ".text" ||
          isJsonlPath(path))
        found.push_back({path.string(), isJsonlPath(path), it->file_size()});
    }
    if (error)
      throw DataError("cannot list " + input + ": " + error.message());
    if (found.empty())
      throw DataError(input + " holds no .txt, .md, .text or .jsonl files"
                              "\n  fix: name the files to prepare explicitly");
    // Sorted, so the output does not depend on the file system's order.
    std::sort(
        found.begin(), found.end(),
        [](const InputFile &a, const InputFile &b) { return a.path < b.path; });
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

struct Piece {
  std::string text;
  uint64_t index = 0;
  bool endsDocument = false;
};

/// Reads the inputs in order and hands out pieces; `emit` receives each.
class PieceReader {
public:
  PieceReader(const PrepareOptions &options, PrepareSummary &summary,
              std::function<void(Piece &&, uint64_t rawBytes)> emit)
      : options(options), summary(summary), emit(std::move(emit)),
        guard(options.invalidUtf8, options.log) {}

  void readAll(const std::vector<InputFile> &files) {
    for (const InputFile &file : files) {
      ++summary.files;
      if (file.jsonl)
        readJsonl(file.path);
      else
        readText(file.path);
      guard.finishFile(file.path);
    }
    summary.replacedSequences = guard.totalReplaced;
  }

private:
  void emitPiece(std::string text, bool endsDocument, uint64_t rawBytes) {
    Piece piece;
    piece.text = std::move(text);
    piece.index = nextIndex++;
    piece.endsDocument = endsDocument;
    emit(std::move(piece), rawBytes);
  }

  void warnEmpty(const std::string &what) {
    ++summary.emptyDocuments;
    if (options.log)
      *options.log << "warning: " << what << " is empty; skipped\n";
  }

  // A text file is one document, streamed so its size does not matter.
  void readText(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw DataError("cannot read " + path + ": " + std::strerror(errno) +
                      "\n  fix: check the path and its permissions");
    std::string buffer;
    uint64_t offset = 0;
    bool endOfFile = false;
    std::vector<char> chunk(kReadBytes);
    bool anyText = false;
    while (true) {
      while (!endOfFile && buffer.size() < 2 * kPieceBytes) {
        in.read(chunk.data(), chunk.size());
        if (in.bad())
          throw DataError("error while reading " + path + ": " +
                          std::strerror(errno));
        if (in.gcount() == 0)
          endOfFile = true;
        buffer.append(chunk.data(), size_t(in.gcount()));
      }
      if (buffer.empty())
        break;
      size_t end = findPieceEnd(buffer, kPieceBytes);
      std::string text = buffer.substr(0, end);
      buffer.erase(0, end);
      guard.apply(text, path, offset, "");
      offset += end;
      anyText = true;
      emitPiece(std::move(text), endOfFile && buffer.empty(), end);
    }
    if (anyText)
      ++summary.documents;
    else
      warnEmpty(path);
  }

  void readJsonl(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw DataError("cannot read " + path + ": " + std::strerror(errno) +
                      "\n  fix: check the path and its permissions");
    std::string line;
    uint64_t lineNumber = 0;
    uint64_t offset = 0;
    while (std::getline(in, line)) {
      ++lineNumber;
      uint64_t lineBytes = line.size() + 1;
      std::string where = "line " + std::to_string(lineNumber) + ", ";
      guard.apply(line, path, offset, where);
      offset += lineBytes;
      if (line.find_first_not_of(" \t\r") == std::string::npos)
        continue;
      std::string location = path + ":" + std::to_string(lineNumber);
      nlohmann::json document;
      try {
        document = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception &error) {
        throw DataError(location + ": not valid JSON (" + error.what() +
                        ")\n  fix: each line of a .jsonl file must be one "
                        "JSON object like {\"text\": \"...\"}");
      }
      if (auto key = duplicateJsonKey(line))
        throw DataError(location + ": \"" + *key +
                        "\" appears twice in one object\n  fix: give each "
                        "key once, e.g. {\"text\": \"...\"}");
      auto text = document.is_object() ? document.find("text") : document.end();
      if (!document.is_object() || text == document.end() || !text->is_string())
        throw DataError(location +
                        ": expected a JSON object with a \"text\" string"
                        "\n  fix: each line of a .jsonl file must look like "
                        "{\"text\": \"...\"}");
      const std::string &body = text->get_ref<const std::string &>();
      if (body.empty()) {
        warnEmpty(location);
        continue;
      }
      ++summary.documents;
      std::string_view rest = body;
      while (!rest.empty()) {
        size_t end = findPieceEnd(rest, kPieceBytes);
        bool last = end == rest.size();
        emitPiece(std::string(rest.substr(0, end)), last, last ? lineBytes : 0);
        rest.remove_prefix(end);
      }
    }
    if (in.bad())
      throw DataError("error while reading " + path);
  }

  const PrepareOptions &options;
  PrepareSummary &summary;
  std::function<void(Piece &&, uint64_t)> emit;
  Utf8Guard guard;
  uint64_t nextIndex = 0;
};

/// A one-line progress bar on stderr, redrawn at most a few times a second.
class ProgressBar {
public:
  ProgressBar(bool enabled, uint64_t totalBytes)
      : enabled(enabled), totalBytes(std::max<uint64_t>(totalBytes, 1)),
        start(std::chrono::steady_clock::now()) {}

  void update(uint64_t doneBytes, bool force = false) {
    if (!enabled)
      return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - lastDraw < std::chrono::milliseconds(200))
      return;
    lastDraw = now;
    double seconds = std::chrono::duration<double>(now - start).count();
    double fraction = std::min(1.0, double(doneBytes) / double(totalBytes));
    double megabytesPerSecond =
        seconds > 0 ? double(doneBytes) / 1e6 / seconds : 0.0;
    double eta = megabytesPerSecond > 0
                     ? double(totalBytes - std::min(doneBytes, totalBytes)) /
                           1e6 / megabytesPerSecond
                     : 0.0;
    constexpr int kWidth = 30;
    int filled = int(fraction * kWidth);
    std::string bar(size_t(filled), '#');
    bar.append(size_t(kWidth - filled), '.');
    std::fprintf(stderr, "\r[%s] %5.1f%%  %.1f/%.1f MB  %.2f MB/s  ETA %.0fs ",
                 bar.c_str(), fraction * 100, double(doneBytes) / 1e6,
                 double(totalBytes) / 1e6, megabytesPerSecond, eta);
    std::fflush(stderr);
  }

  void finish(uint64_t doneBytes) {
    if (!enabled)
      return;
    update(doneBytes, true);
    std::fputc('\n', stderr);
  }

private:
  bool enabled;
  uint64_t totalBytes;
  std::chrono::steady_clock::time_point start;
  std::chrono::steady_clock::time_point lastDraw{};
};

/// Encodes `count` texts on up to `threads` threads (the caller's included).
template <typename TextAt>
void encodeAll(const Tokenizer &tokenizer, size_t count, TextAt textAt,
               std::vector<std::vector<TokenId>> &ids,
               std::vector<EncodeCache> &caches) {
  ids.resize(count);
  std::atomic<size_t> next{0};
  auto work = [&](size_t thread) {
    for (size_t i; (i = next.fetch_add(1)) < count;) {
      ids[i].clear();
      tokenizer.encode(textAt(i), ids[i], caches[thread]);
    }
  };
  size_t threads = std::min(caches.size(), count);
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t)
    helpers.emplace_back(work, t);
  work(0);
  for (std::thread &helper : helpers)
    helper.join();
}

unsigned resolveThreads(unsigned requested) {
  if (requested > 0)
    return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

} // namespace

std::optional<InvalidUtf8Policy>
parseInvalidUtf8Policy(const std::string &name) {
  if (name == "replace")
    return InvalidUtf8Policy::Replace;
  if (name == "reject")
    return InvalidUtf8Policy::Reject;
  if (name == "keep")
    return InvalidUtf8Policy::Keep;
  return std::nullopt;
}

size_t findPieceEnd(std::string_view text, size_t maxBytes) {
  if (text.size() <= maxBytes)
    return text.size();
  // A cut at p is safe when text[p] starts a whitespace run, i.e. text[p-1]
  // is a plain ASCII non-space: no pre-token spans such a point.
  size_t lowest = maxBytes / 4;
  auto lastCut = [&](auto &&wanted) -> size_t {
    for (size_t p = maxBytes; p > lowest; --p)
      if (isAsciiNonSpace(text[p - 1]) && wanted(p))
        return p;
    return 0;
  };
  if (size_t p = lastCut([&](size_t p) {
        return text[p] == '\n' && p + 1 < text.size() && text[p + 1] == '\n';
      }))
    return p;
  if (size_t p = lastCut([&](size_t p) { return text[p] == '\n'; }))
    return p;
  if (size_t p = lastCut([&](size_t p) { return isAsciiSpace(text[p]); }))
    return p;
  // No whitespace at all (a wall of digits or symbols): cut at a character
  // boundary. Only this rare case can differ from encoding the text whole.
  size_t p = maxBytes;
  while (p > lowest && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80)
    --p;
  return p > lowest ? p : maxBytes;
}

bool pieceGoesToVal(uint64_t pieceIndex, double valFraction, uint64_t seed) {
  if (valFraction <= 0)
    return false;
  // splitmix64 of the seed gives the sampling offset in [0, 1).
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  double offset = double(z >> 11) * 0x1.0p-53;
  return std::floor(double(pieceIndex + 1) * valFraction + offset) >
         std::floor(double(pieceIndex) * valFraction + offset);
}

std::vector<TokenId> encodeParallel(const Tokenizer &tokenizer,
                                    std::string_view text, unsigned threads) {
  std::vector<std::string_view> pieces;
  while (!text.empty()) {
    size_t end = findPieceEnd(text, kPieceBytes);
    pieces.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  std::vector<EncodeCache> caches(resolveThreads(threads));
  std::vector<std::vector<TokenId>> ids;
  encodeAll(
      tokenizer, pieces.size(), [&](size_t i) { return pieces[i]; }, ids,
      caches);
  std::vector<TokenId> all;
  for (const auto &pieceIds : ids)
    all.insert(all.end(), pieceIds.begin(), pieceIds.end());
  return all;
}

PrepareSummary prepare(const Tokenizer &tokenizer,
                       const PrepareOptions &options) {
  auto start = std::chrono::steady_clock::now();
  if (!(options.valFraction >= 0 && options.valFraction < 1))
    throw DataError("--val-fraction must be in [0, 1), got " +
                    std::to_string(options.valFraction));
  std::vector<InputFile> files = collectInputs(options.inputs);

  std::error_code error;
  if (fs::exists(options.outDir) && !fs::is_directory(options.outDir))
    throw DataError("--out " + options.outDir +
                    " is a file, not a folder\n  fix: name a folder");
  fs::create_directories(options.outDir, error);
  if (error)
    throw DataError("cannot create the output folder " + options.outDir + ": " +
                    error.message() +
                    "\n  fix: choose an output folder you can write to");
  // A prepare killed before it finished left .train.bin.tmp.<pid> (of any
  // size: a prepare of /dev/zero stopped after 20 s left 1.6 GB).
  if (int stale = removeStaleTemporaries(options.outDir))
    std::cerr << "gigatok: removed " << stale
              << " temporary file(s) that a killed run left in "
              << options.outDir << "\n";

  PrepareSummary summary;
  summary.threads = resolveThreads(options.threads);
  summary.trainPath = (fs::path(options.outDir) / "train.bin").string();
  summary.valPath = (fs::path(options.outDir) / "val.bin").string();
  // Both files exist (as temporaries) before any work, so an unwritable
  // folder fails at once.
  TokenFileWriter train(summary.trainPath, options.format);
  TokenFileWriter val(summary.valPath, options.format);

  uint64_t totalBytes = 0;
  for (const InputFile &file : files)
    totalBytes += file.size;
  ProgressBar progress(options.progress, totalBytes);

  std::vector<EncodeCache> caches(summary.threads);
  std::vector<Piece> batch;
  std::vector<std::vector<TokenId>> ids;
  size_t batchBytes = 0;
  uint64_t doneBytes = 0, batchRawBytes = 0;

  auto flushBatch = [&] {
    encodeAll(
        tokenizer, batch.size(),
        [&](size_t i) { return std::string_view(batch[i].text); }, ids, caches);
    for (size_t i = 0; i < batch.size(); ++i) {
      const Piece &piece = batch[i];
      bool toVal =
          pieceGoesToVal(piece.index, options.valFraction, options.seed);
      TokenFileWriter &writer = toVal ? val : train;
      writer.append(ids[i].data(), ids[i].size());
      // <|endoftext|> ends each document, and also ends a stretch of a
      // document whose next piece went to the other split, so no two
      // unrelated texts ever touch.
      if (piece.endsDocument ||
          pieceGoesToVal(piece.index + 1, options.valFraction, options.seed) !=
              toVal)
        writer.append(kEndOfText);
      ++(toVal ? summary.valPieces : summary.trainPieces);
    }
    doneBytes += batchRawBytes;
    progress.update(doneBytes);
    batch.clear();
    batchBytes = 0;
    batchRawBytes = 0;
  };

  PieceReader reader(options, summary, [&](Piece &&piece, uint64_t rawBytes) {
    batchBytes += piece.text.size();
    batchRawBytes += rawBytes;
    batch.push_back(std::move(piece));
    if (batchBytes >= kBatchBytes)
      flushBatch();
  });
  reader.readAll(files);
  flushBatch();
  progress.finish(doneBytes);
  summary.inputBytes = doneBytes;

  if (summary.documents == 0)
    throw DataError("no text to prepare: every input is empty (" +
                    files.front().path + (files.size() > 1 ? ", ..." : "") +
                    ")\n  fix: pass files that contain text");

  summary.trainTokens = train.tokenCount();
  summary.valTokens = val.tokenCount();
  train.commit();
  val.commit();
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return summary;
}

} // namespace giga::data
