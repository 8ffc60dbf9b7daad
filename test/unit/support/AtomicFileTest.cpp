//===- AtomicFileTest.cpp - non-file targets, stale temporaries -----------===//
#include "runtime/support/AtomicFile.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace giga {
namespace {

struct Dir {
  Dir() {
    char name[] = "/tmp/giga-atomic.XXXXXX";
    path = ::mkdtemp(name);
  }
  ~Dir() { fs::remove_all(path); }
  std::string file(const std::string &name) const { return path + "/" + name; }
  std::string path;
};

void touch(const std::string &path) { std::ofstream(path) << "x"; }

/// The pid of a process that has exited (and been reaped).
pid_t deadPid() {
  pid_t pid = ::fork();
  if (pid == 0)
    ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST(AtomicFile, WritesAFileWholeAndRefusesToReplaceAFifo) {
  Dir dir;
  writeFileAtomically(dir.file("a.txt"), "hello");
  std::ifstream in(dir.file("a.txt"));
  std::string text;
  in >> text;
  EXPECT_EQ(text, "hello");
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0644), 0);
  EXPECT_THROW(writeFileAtomically(dir.file("fifo"), "x"), FileError);
  EXPECT_TRUE(fs::is_fifo(dir.file("fifo"))) << "the FIFO was replaced";
  EXPECT_THROW(writeFileAtomically(dir.path, "x"), FileError);
  EXPECT_EQ(removeStaleTemporaries(dir.path), 0) << "no temporary left";
}

TEST(AtomicFile, RemovesTheTemporariesOfDeadProcessesOnly) {
  Dir dir;
  std::string dead = std::to_string(deadPid());
  std::string mine = std::to_string(::getpid());
  touch(dir.file("checkpoint-4.safetensors.tmp." + dead));
  touch(dir.file(".train.bin.tmp." + dead));
  touch(dir.file("checkpoint-5.safetensors.tmp." + mine)); // being written
  touch(dir.file("notes.tmp.txt"));                         // not ours
  touch(dir.file("data.tmp."));
  EXPECT_EQ(removeStaleTemporaries(dir.path), 2);
  EXPECT_FALSE(fs::exists(dir.file("checkpoint-4.safetensors.tmp." + dead)));
  EXPECT_FALSE(fs::exists(dir.file(".train.bin.tmp." + dead)));
  EXPECT_TRUE(fs::exists(dir.file("checkpoint-5.safetensors.tmp." + mine)));
  EXPECT_TRUE(fs::exists(dir.file("notes.tmp.txt")));
  EXPECT_TRUE(fs::exists(dir.file("data.tmp.")));
  EXPECT_EQ(removeStaleTemporaries(dir.file("missing")), 0);
}

} // namespace
} // namespace giga
