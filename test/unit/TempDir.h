//===- TempDir.h - a scratch folder for a test ------------------*- C++ -*-===//
#ifndef GIGA_TEST_UNIT_TEMPDIR_H
#define GIGA_TEST_UNIT_TEMPDIR_H

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace giga::test {

/// A fresh empty folder under the system temp dir (or `parent`), removed at
/// scope end (even if a test made it read-only).
class TempDir {
public:
  explicit TempDir(const std::filesystem::path &parent =
                       std::filesystem::temp_directory_path()) {
    std::string pattern = (parent / "giga-test.XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("mkdtemp failed for " + pattern);
    root = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::permissions(root, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(root, ignored);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  std::string path(const std::string &name = "") const {
    return name.empty() ? root.string() : (root / name).string();
  }

private:
  std::filesystem::path root;
};

} // namespace giga::test

#endif // GIGA_TEST_UNIT_TEMPDIR_H
