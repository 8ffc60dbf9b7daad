//===- RunDir.cpp - the --out directory of a run --------------------------===//
#include "runtime/train/RunDir.h"

#include "runtime/support/AtomicFile.h"
#include "runtime/train/Checkpoint.h"
#include "runtime/train/TrainOptions.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <unistd.h>
#include <vector>

namespace giga::train {

namespace fs = std::filesystem;

std::string metricsPath(const std::string &dir) {
  return (fs::path(dir) / "metrics.jsonl").string();
}

std::string tracePath(const std::string &dir, int64_t step) {
  return (fs::path(dir) /
          ("trace-step-" + std::to_string(step) + ".safetensors"))
      .string();
}

void refuseExistingRun(const std::string &dir) {
  std::vector<std::string> existing;
  for (auto &[step, path] : listCheckpoints(dir))
    existing.push_back(fs::path(path).filename().string());
  std::error_code error;
  fs::path metrics = metricsPath(dir);
  if (fs::exists(metrics, error) && fs::file_size(metrics, error) > 0)
    existing.push_back("metrics.jsonl");
  if (!existing.empty())
    throw TrainError(dir + " already holds a run (" + existing.front() +
                     (existing.size() > 1 ? ", ..." : "") +
                     "); continue it with --resume, or pass another --out "
                     "(or delete the directory)");
}

void createRunDir(const std::string &dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || !fs::is_directory(dir))
    throw TrainError("--out " + dir + ": cannot create the directory (" +
                     (error ? error.message() : "a file is in the way") +
                     "); pass --out with a writable directory");
  if (::access(dir.c_str(), W_OK) != 0)
    throw TrainError("--out " + dir +
                     ": the directory is not "
                     "writable; pass --out with a writable directory");
}

RunDirLock::RunDirLock(const std::string &dir) {
  const std::string path = (fs::path(dir) / "run.lock").string();
  fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw TrainError("--out " + dir + ": cannot create " + path + " (" +
                     std::strerror(errno) +
                     "); pass --out with a writable directory");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    fd = -1;
    throw TrainError("--out " + dir +
                     " is in use by another gigarun (it holds " + path +
                     "); wait for it to finish, or give this run another "
                     "--out");
  }
}

RunDirLock::~RunDirLock() {
  if (fd >= 0)
    ::close(fd);
}

std::string storePathFile(const std::string &dir) {
  return dir + "/store.path";
}

RecordedStore recordedStore(const std::string &dir) {
  std::ifstream in(storePathFile(dir));
  const nlohmann::json record = nlohmann::json::parse(in, nullptr, false);
  RecordedStore store;
  if (record.is_object() && record.contains("store") &&
      record["store"].is_string() && record.contains("seed") &&
      record["seed"].is_number_unsigned()) {
    store.directory = record["store"].get<std::string>();
    store.seed = record["seed"].get<uint64_t>();
  } else if (std::filesystem::exists(storePathFile(dir))) {
    throw TrainError(storePathFile(dir) +
                     " is damaged; it should name the run's --store as "
                     "{\"store\": DIR, \"seed\": N}: rewrite it so, or "
                     "start a new run");
  }
  return store;
}

void recordStore(const std::string &dir, const std::string &storeDirectory,
                 uint64_t seed) {
  writeFileAtomically(
      storePathFile(dir),
      nlohmann::json{{"store", storeDirectory}, {"seed", seed}}.dump() + "\n");
}

int64_t truncateMetrics(const std::string &path, int64_t checkpointStep) {
  std::ifstream in(path);
  if (!in)
    return 0;
  int64_t last = 0;
  std::string kept, line;
  while (std::getline(in, line)) {
    try {
      nlohmann::json record = nlohmann::json::parse(line);
      if (record.is_object() && record.contains("step") &&
          record["step"].is_number_integer() &&
          record["step"].get<int64_t>() <= checkpointStep) {
        kept += line + "\n";
        last = std::max(last, record["step"].get<int64_t>());
      }
    } catch (const nlohmann::json::exception &) {
      // A line cut short by a kill.
    }
  }
  in.close();
  writeFileAtomically(path, kept);
  return last;
}

} // namespace giga::train
