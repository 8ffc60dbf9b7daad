//===- GigatokCliTest.cpp - gigatok on good and bad inputs ----------------===//
//
// Runs build/bin/gigatok ($GIGA_BIN_DIR) as a user would and checks exit
// status, stdout and the error message for each bad input the issue lists.
//
//===----------------------------------------------------------------------===//

#include "DataTestSupport.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace giga::data;
using namespace giga::data::test;

namespace {

struct Result {
  int status = -1;
  std::string out, err;
};

std::string gigatokPath() {
  // $GIGA_BIN_DIR when the test driver sets it, else the gigatok this test
  // was built with.
  const char *binDir = std::getenv("GIGA_BIN_DIR");
  std::string path = binDir && *binDir ? std::string(binDir) + "/gigatok"
                                       : std::string(GIGATOK_BUILD_PATH);
  EXPECT_TRUE(std::filesystem::exists(path)) << path << " is not built";
  return path;
}

/// Runs gigatok (or `binary`) with `args`, feeding `input` on stdin; as
/// `uid` unless it is -1.
Result run(const std::vector<std::string> &args, const std::string &input = "",
           uid_t uid = uid_t(-1), std::string binary = "") {
  TempDir io;
  // Readable by another user, for runs that drop privileges.
  chmod(io.path().c_str(), 0755);
  writeFile(io.path("in"), input);
  if (binary.empty())
    binary = gigatokPath();
  pid_t child = fork();
  if (child == 0) {
    int in = open(io.path("in").c_str(), O_RDONLY);
    int out = open(io.path("out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int err = open(io.path("err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (uid != uid_t(-1) && (setgid(uid) != 0 || setuid(uid) != 0))
      _exit(126);
    std::vector<char *> argv{const_cast<char *>(binary.c_str())};
    for (const std::string &arg : args)
      argv.push_back(const_cast<char *>(arg.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  Result result;
  int status = 0;
  waitpid(child, &status, 0);
  result.status =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = readFile(io.path("out"));
  result.err = readFile(io.path("err"));
  return result;
}

std::string cachedTokenizerDir() {
  return npmPackageDir(gpt2TokenizerPackage());
}

bool contains(const std::string &text, const std::string &needle) {
  return text.find(needle) != std::string::npos;
}

bool hasTemporaryFiles(const std::string &dir) {
  if (!std::filesystem::exists(dir))
    return false;
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    if (contains(entry.path().filename().string(), ".tmp"))
      return true;
  return false;
}

} // namespace

TEST(GigatokCli, EncodesAndDecodes) {
  std::string dirFlag = "--tokenizer-dir=" + cachedTokenizerDir();
  Result encoded = run({dirFlag, "encode"}, "Hello world");
  EXPECT_EQ(encoded.status, 0) << encoded.err;
  EXPECT_EQ(encoded.out, "15496 995\n");
  Result decoded = run({dirFlag, "decode"}, "18435 995\n");
  EXPECT_EQ(decoded.status, 0) << decoded.err;
  EXPECT_EQ(decoded.out, " Hello world");
  Result list = run({dirFlag, "decode"}, "[15496, 995]");
  EXPECT_EQ(list.out, "Hello world");
}

TEST(GigatokCli, BadIdsAreUserErrors) {
  std::string dirFlag = "--tokenizer-dir=" + cachedTokenizerDir();
  Result word = run({dirFlag, "decode"}, "15496 hello");
  EXPECT_EQ(word.status, 1);
  EXPECT_TRUE(contains(word.err, "'hello' is not a token id")) << word.err;
  Result big = run({dirFlag, "decode"}, "50257");
  EXPECT_EQ(big.status, 1);
  EXPECT_TRUE(contains(big.err, "outside GPT-2's vocabulary")) << big.err;
}

TEST(GigatokCli, EmptyFile) {
  TempDir dir;
  writeFile(dir.path("empty.txt"), "");
  Result result = run({"--tokenizer-dir", cachedTokenizerDir(), "prepare",
                       dir.path("empty.txt"), "--out", dir.path("out")});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(contains(result.err, "empty")) << result.err;
  EXPECT_TRUE(contains(result.err, dir.path("empty.txt"))) << result.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path("out/train.bin")));
  EXPECT_FALSE(hasTemporaryFiles(dir.path("out")));
}

TEST(GigatokCli, NonUtf8FileIsReplacedWithAWarningOrRejected) {
  TempDir dir;
  writeFile(dir.path("latin1.txt"), "na\xEFve caf\xE9\n");
  Result replaced = run({"--tokenizer-dir", cachedTokenizerDir(), "prepare",
                         dir.path("latin1.txt"), "--out", dir.path("out")});
  EXPECT_EQ(replaced.status, 0) << replaced.err;
  EXPECT_TRUE(contains(replaced.err, "not valid UTF-8")) << replaced.err;
  EXPECT_TRUE(
      contains(replaced.err, "replaced 2 invalid sequence(s) with U+FFFD"))
      << replaced.err;
  EXPECT_TRUE(std::filesystem::exists(dir.path("out/train.bin")));

  Result rejected = run({"--tokenizer-dir", cachedTokenizerDir(), "prepare",
                         dir.path("latin1.txt"), "--out", dir.path("rejected"),
                         "--invalid-utf8=reject"});
  EXPECT_EQ(rejected.status, 1);
  EXPECT_TRUE(contains(rejected.err, "invalid UTF-8 at byte 2"))
      << rejected.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path("rejected/train.bin")));
  EXPECT_FALSE(hasTemporaryFiles(dir.path("rejected")));

  Result encoded = run({"--tokenizer-dir", cachedTokenizerDir(), "encode",
                        "--invalid-utf8=reject"},
                       "\xFF");
  EXPECT_EQ(encoded.status, 1);
  EXPECT_TRUE(contains(encoded.err, "stdin: invalid UTF-8 at byte 0"))
      << encoded.err;
}

TEST(GigatokCli, EncodeRefusesADirectoryAndAnEndlessDevice) {
  TempDir dir;
  Result folder =
      run({"--tokenizer-dir", cachedTokenizerDir(), "encode", dir.path("")});
  EXPECT_EQ(folder.status, 1);
  EXPECT_TRUE(contains(folder.err, "is a directory")) << folder.err;
  EXPECT_EQ(folder.out, "") << "nothing printed for a directory";
  // /dev/zero never ends: refused at 1 GiB, not read until memory runs out.
  Result zero =
      run({"--tokenizer-dir", cachedTokenizerDir(), "encode", "/dev/zero"});
  EXPECT_EQ(zero.status, 1);
  EXPECT_TRUE(contains(zero.err, "/dev/zero: more than 1 GiB of input"))
      << zero.err;
}

TEST(GigatokCli, MissingPath) {
  TempDir dir;
  Result result = run({"--tokenizer-dir", cachedTokenizerDir(), "prepare",
                       dir.path("no-such.txt"), "--out", dir.path("out")});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(
      contains(result.err, "input not found: " + dir.path("no-such.txt")))
      << result.err;
  Result show = run({"--tokenizer-dir", cachedTokenizerDir(), "show",
                     dir.path("no-such.bin")});
  EXPECT_EQ(show.status, 1);
  EXPECT_TRUE(contains(show.err, "cannot open token file")) << show.err;
}

TEST(GigatokCli, ReadOnlyOutputFolder) {
  TempDir dir;
  chmod(dir.path().c_str(), 0755);
  // Root writes anywhere, so as root the run drops to nobody, for whom a
  // root-owned 0555 folder is read-only. The tokenizer is copied beside it
  // and so is gigatok, because nobody may not reach root's cache or build
  // folder.
  uid_t uid = uid_t(-1);
  if (geteuid() == 0) {
    struct passwd *nobody = getpwnam("nobody");
    ASSERT_NE(nobody, nullptr) << "need the user nobody to test as non-root";
    uid = nobody->pw_uid;
  }
  std::filesystem::create_directory(dir.path("tok"));
  for (const char *name : {"encoder.json", "vocab.bpe"})
    std::filesystem::copy_file(cachedTokenizerDir() + "/" + name,
                               dir.path("tok") + "/" + name);
  std::filesystem::copy_file(gigatokPath(), dir.path("gigatok"));
  chmod(dir.path("gigatok").c_str(), 0755);
  writeFile(dir.path("in.txt"), "Some text to prepare.\n");
  chmod(dir.path("in.txt").c_str(), 0644);
  std::filesystem::create_directory(dir.path("readonly"));
  chmod(dir.path("readonly").c_str(), 0555);
  Result result = run({"--tokenizer-dir", dir.path("tok"), "prepare",
                       dir.path("in.txt"), "--out", dir.path("readonly")},
                      "", uid, dir.path("gigatok"));
  chmod(dir.path("readonly").c_str(), 0755);
  EXPECT_EQ(result.status, 1) << result.err;
  EXPECT_TRUE(
      contains(result.err, "cannot write " + dir.path("readonly/train.bin")))
      << result.err;
  EXPECT_TRUE(contains(result.err, "Permission denied")) << result.err;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path("readonly")));
}

TEST(GigatokCli, TokenizerHashMismatch) {
  TempDir dir;
  std::filesystem::copy_file(cachedTokenizerDir() + "/encoder.json",
                             dir.path("encoder.json"));
  std::string vocab = readFile(cachedTokenizerDir() + "/vocab.bpe");
  vocab += "\n";
  writeFile(dir.path("vocab.bpe"), vocab);
  Result result = run({"--tokenizer-dir", dir.path(), "encode"}, "hi");
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(contains(result.err, "tokenizer file " + dir.path("vocab.bpe") +
                                       " has sha256"))
      << result.err;
  EXPECT_TRUE(contains(result.err, "gigatok fetch-tokenizer")) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST(GigatokCli, MissingTokenizerSaysToFetch) {
  TempDir dir;
  Result result = run({"--tokenizer-dir", dir.path(), "encode"}, "hi");
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(contains(result.err, "gigatok fetch-tokenizer")) << result.err;
}

TEST(GigatokCli, PrepareThenShow) {
  TempDir dir;
  std::string book = cachedFile(mobyDickPackage(), "data/data.txt");
  Result prepared = run({"--tokenizer-dir", cachedTokenizerDir(), "prepare",
                         book, "--out", dir.path("moby"), "--format", "llmc"});
  ASSERT_EQ(prepared.status, 0) << prepared.err;
  EXPECT_TRUE(contains(prepared.out, "prepared 1 document(s)")) << prepared.out;
  EXPECT_TRUE(contains(prepared.out, "train.bin")) << prepared.out;
  Result shown =
      run({"--tokenizer-dir", cachedTokenizerDir(), "show",
           dir.path("moby/train.bin"), "--offset", "0", "--count", "8"});
  EXPECT_EQ(shown.status, 0) << shown.err;
  EXPECT_EQ(shown.out, "CHAPTER 1. Loomings.\n\n");
  EXPECT_TRUE(contains(shown.err, "llmc")) << shown.err;
  Result past = run({"--tokenizer-dir", cachedTokenizerDir(), "show",
                     dir.path("moby/train.bin"), "--offset", "99999999"});
  EXPECT_EQ(past.status, 1);
  EXPECT_TRUE(contains(past.err, "past the end")) << past.err;
}

TEST(GigatokCli, UnknownCommandOrFormatIsAUserError) {
  EXPECT_EQ(run({"frobnicate"}).status, 1);
  TempDir dir;
  writeFile(dir.path("in.txt"), "text");
  Result format = run({"--tokenizer-dir", cachedTokenizerDir(), "prepare",
                       dir.path("in.txt"), "--out", dir.path("out"), "--format",
                       "parquet"});
  EXPECT_EQ(format.status, 1);
  EXPECT_TRUE(contains(format.err, "--format must be nanogpt or llmc"))
      << format.err;
}
