//===- WeightStore.cpp - MemoryX: weights, gradients, optimizer -----------===//
//
// Every array (weights, gradients, and one or two optimizer-state arrays) is
// one flat region holding every tensor at the same page-aligned offset. In
// RAM the regions are anonymous mappings; with a directory they are files
// mapped MAP_SHARED, and a residency manager drops pages the store is done
// with (madvise MADV_DONTNEED: the data stays in the file and the page cache,
// only the process's resident set shrinks). Since a mapping never moves, a
// pointer handed out stays valid for the store's life; dropping pages only
// costs a refault, so the budget bounds memory without ever making a pointer
// dangle. Bulk work (init, accumulation, the update, save, load) walks
// tensors in page-aligned chunks and drops each chunk when done. See
// docs/store.md.
//
//===----------------------------------------------------------------------===//

#include "runtime/store/WeightStore.h"
#include "runtime/support/AtomicFile.h"
#include "runtime/support/Hash.h"

#include "runtime/kernels/Bf16.h"
#include "runtime/kernels/Elementwise.h"
#include "runtime/kernels/Optimizer.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace giga::store {
namespace {

constexpr int64_t kPage = 4096;
constexpr int64_t kMaxChunkBytes = int64_t(4) << 20;
// writeGrad's pieces: a store without a budget has no chunks.
constexpr int64_t kMaxWriteElements = kMaxChunkBytes / 4;

int64_t roundUpToPage(int64_t bytes) {
  return (bytes + kPage - 1) / kPage * kPage;
}

/// Bytes of one tensor of `elements` fp32 in an array: it starts on a page
/// and owns the padding after its last element.
int64_t tensorBytes(int64_t elements) { return roundUpToPage(elements * 4); }

/// The chunk of bulk work of a store with a budget: a small fraction of it
/// (two concurrent bulk operations over up to four arrays use 8 chunks).
int64_t chunkBytesFor(int64_t budget) {
  return std::clamp(std::max<int64_t>(budget, 0) / 64 / kPage * kPage, kPage,
                    kMaxChunkBytes);
}

/// The arrays: weights, gradients, then the optimizer state (AdamW m and v,
/// or SGD momentum); with StoreOptions::bf16Copies the weights rounded to
/// bf16 too, each tensor at its fp32 offset (the second half of its bytes
/// is never touched, so it costs neither RAM nor disk).
enum ArrayKind { Weights = 0, Grads = 1, State0 = 2, State1 = 3, Bf16 = 4 };
constexpr int kArrayKinds = 5;

int64_t elementBytes(int kind) { return kind == Bf16 ? 2 : 4; }

std::string errnoText() { return std::strerror(errno); }

/// This boot of the machine (/proc/sys/kernel/random/boot_id): a page cache
/// that holds a store's unwritten pages belongs to one boot. The tests
/// stand in another boot with GIGA_DEBUG_BOOT_ID.
std::string bootId() {
  if (const char *id = std::getenv("GIGA_DEBUG_BOOT_ID"))
    return id;
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

/// Stops the compiler from moving stores to the mapped arrays and the
/// journal across it. A process that is killed has executed its stores in
/// program order as far as the page cache sees them, so this is all the
/// ordering a journal needs against kill -9 (a machine that goes down is
/// flush()'s business).
void journalFence() { std::atomic_signal_fence(std::memory_order_seq_cst); }

/// The first page of a persistent store's update.journal; the old values of
/// the chunk being updated follow it.
struct JournalHeader {
  char magic[8];
  uint32_t version;
  uint32_t phase;
  int64_t step;
  double learningRate;
  float clip;
  uint32_t undoValid; // the undo area holds the old values of the undo range
  // Everything before (nextTensor, nextBegin) is updated.
  int64_t nextTensor, nextBegin;
  int64_t undoTensor, undoBegin, undoCount;
  uint32_t activeSlot; // the JournalSlot that says what the store holds
};

/// What a persistent store holds, in one of update.journal's two slots: the
/// active one is current; a change is written into the other, which then
/// becomes active, so a kill leaves one or the other whole, and no change
/// needs a new disk block (a store on a full disk keeps working).
struct JournalSlot {
  uint64_t checksum;  // fnv1a64 of the bytes after it, through the text
  uint32_t state;     // SlotState
  uint32_t length;    // of text
  int64_t step;       // the last completed update
  char dirtyBoot[40]; // the boot it changed in since its last flush, or ""
  // Then `length` bytes of JSON: the commit of `step`.
};
enum SlotState : uint32_t { Initializing = 1, Ready = 2 };
constexpr int64_t kSlotBytes = int64_t(64) << 10;
constexpr char kJournalMagic[8] = {'G', 'I', 'G', 'A', 'J', 'R', 'N', 'L'};
enum JournalPhase : uint32_t { Idle = 0, Updating = 1, Applied = 2 };
// 768 KiB of old values with AdamW: small against any disk, and chunks
// large enough that journaling them costs nothing measurable.
constexpr int64_t kMaxJournalChunkElements = int64_t(1) << 16;
constexpr int64_t kJournalBytes =
    kPage + 2 * kSlotBytes + 3 * kMaxJournalChunkElements * 4;

std::string bytesText(int64_t bytes) {
  char text[64];
  if (bytes >= (int64_t(1) << 30))
    std::snprintf(text, sizeof text, "%.2f GiB", bytes / double(1 << 30));
  else if (bytes >= (int64_t(1) << 20))
    std::snprintf(text, sizeof text, "%.2f MiB", bytes / double(1 << 20));
  else
    std::snprintf(text, sizeof text, "%lld bytes", (long long)bytes);
  return text;
}

bool hostIsLittleEndian() {
  uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

// --- initialization: a counter-based generator --------------------------
//
// Element i of a tensor is a function of (seed, full name, i) only, so the
// values do not depend on other tensors, on chunking, or on threads.
// splitmix64's finalizer hashes the counter; Box-Muller turns each pair of
// uniforms (counters 2k, 2k+1) into elements 2k (cos) and 2k+1 (sin).

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t tensorKey(uint64_t seed, const std::string &name) {
  return mix64(mix64(seed + 0x9E3779B97F4A7C15ull) ^ fnv1a64(name));
}

uint64_t counterHash(uint64_t key, uint64_t counter) {
  return mix64(key + (counter + 1) * 0x9E3779B97F4A7C15ull);
}

/// Standard normal values for elements [begin, begin + count).
void fillNormal(float *out, uint64_t key, int64_t begin, int64_t count,
                double std) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  constexpr double kTwoPow53 = 1.0 / 9007199254740992.0;
  int64_t end = begin + count;
  int64_t i = begin;
  while (i < end) {
    uint64_t pair = uint64_t(i) / 2;
    double u1 = double((counterHash(key, 2 * pair) >> 11) + 1) * kTwoPow53;
    double u2 = double(counterHash(key, 2 * pair + 1) >> 11) * kTwoPow53;
    double radius = std::sqrt(-2.0 * std::log(u1));
    double angle = kTwoPi * u2;
    if (i % 2 == 0) {
      out[i - begin] = static_cast<float>(std * radius * std::cos(angle));
      ++i;
    }
    if (i < end && i / 2 == int64_t(pair)) {
      out[i - begin] = static_cast<float>(std * radius * std::sin(angle));
      ++i;
    }
  }
}

} // namespace

// --- the store -------------------------------------------------------------

struct WeightStore::Impl {
  struct Tensor {
    std::string name;
    int32_t param = 0;
    int64_t layer = 0;
    int64_t elements = 0;
    int64_t offset = 0; // bytes into every array, page-aligned
  };

  struct Array {
    float *base = nullptr;
    int64_t bytes = 0;
    int fd = -1;
    std::string path;
  };

  std::vector<artifact::Parameter> params;
  artifact::Optimizer optimizer;
  bool adamw = true;
  std::vector<Tensor> tensors;
  std::vector<size_t> firstTensor; // per param
  int64_t arrayBytes = 0;
  int arrayCount = 0; // fp32 arrays: Weights up to State1
  bool bf16Copies = false;
  Array arrays[kArrayKinds];
  comm::Communicator *comm = nullptr; // never null
  std::vector<float> shardOfSum;      // accumulateGrad's, with several systems
  // Per tensor, the sum of squares of its gradient (this system's shard) as
  // it stands, kept by every write to the gradients so that the norm needs
  // no pass of its own over them.
  std::vector<double> gradSquares;

  // Disk store.
  std::string directory;
  int lockFd = -1;
  std::string lockPath;
  int64_t budget = 0;
  int64_t chunkElements = std::numeric_limits<int64_t>::max();
  bool dropping = false; // a directory and a budget: manage residency
  // Whether the files' system zeroes a range without writing it
  // (FALLOC_FL_ZERO_RANGE: ext4, xfs; not tmpfs); until a zeroing says no.
  bool zeroesRanges = true;

  // A persistent store (StoreOptions::persistent): store.json says what the
  // files hold, update.journal how far an update got.
  bool persistent = false;
  bool reopenOnly = false;
  bool reopened = false;
  bool keepFiles = false; // a persistent store that opened, or was reopened
  bool dirty = false; // changed since the last flush, and the journal says so
  int64_t committedStep = 0;
  nlohmann::json committed;
  std::string layout; // the arrays' layout, which store.json records
  int journalFd = -1;
  JournalHeader *journal = nullptr;
  // GIGA_DEBUG_KILL_IN_UPDATE=N: SIGKILL right after the N-th journaled
  // chunk's update, before the journal marks it done, for the crash tests.
  int64_t killCountdown = 0;

  // Resident whole-tensor views (weights() and grad()), least recent last.
  std::mutex viewMutex;
  std::list<std::pair<int, size_t>> views; // (kind, tensor)
  std::map<std::pair<int, size_t>, std::list<std::pair<int, size_t>>::iterator>
      viewIndex;
  int64_t viewBytes = 0;
  int64_t viewBudget = 0;

  Impl(const artifact::Artifact &artifact, const StoreOptions &options);
  ~Impl();

  const Tensor &tensor(int32_t param, int64_t layer) const;
  float *at(int kind, const Tensor &t) const {
    return reinterpret_cast<float *>(
        reinterpret_cast<char *>(arrays[kind].base) + t.offset);
  }
  uint16_t *bf16At(const Tensor &t) const {
    return reinterpret_cast<uint16_t *>(
        reinterpret_cast<char *>(arrays[Bf16].base) + t.offset);
  }
  bool sharded() const { return comm->size() > 1; }
  bool onDisk() const { return !directory.empty(); }
  /// The elements of `t` whose gradients and optimizer state this system
  /// keeps: all of them on one system.
  comm::Shard shard(const Tensor &t) const { return comm->shard(t.elements); }
  /// Gives back the pages of t's `kind` array that hold only other systems'
  /// shards: gathered for a kernel (gatherWeights) or, on rank 0, for a
  /// checkpoint.
  void releaseOthersShards(int kind, const Tensor &t);
  /// Rounds t's weights into its bf16 copy, if the store keeps one.
  void refreshBf16(const Tensor &t);

  void mapArrays();
  /// Unmaps the arrays and removes the store's lock, and its files unless
  /// keepFiles (a persistent store that opened).
  void unmapArrays();

  std::string file(const char *name) const { return directory + "/" + name; }
  JournalSlot *slot(uint32_t index) const {
    return reinterpret_cast<JournalSlot *>(reinterpret_cast<char *>(journal) +
                                           kPage + index * kSlotBytes);
  }
  char *undoArea() const {
    return reinterpret_cast<char *>(journal) + kPage + 2 * kSlotBytes;
  }
  /// fnv1a64 of slot `s` after its checksum, through its text.
  static uint64_t slotChecksum(const JournalSlot *s);
  /// Whether slot `index` is whole (its checksum holds).
  bool slotIsWhole(uint32_t index) const;
  /// Slot `index`'s commit JSON (null if it is not JSON).
  nlohmann::json slotCommit(uint32_t index) const;
  /// msync of the journal's first `bytes`.
  void syncJournal(int64_t bytes);
  /// Writes (state, step, commit, the dirty mark) into the slot that is not
  /// active and returns it; activate() makes it the store's.
  uint32_t stageSlot(SlotState state, int64_t step,
                     const nlohmann::json &commit);
  void activate(uint32_t index);
  /// stageSlot and activate of the store's current committedStep/committed.
  void recordState(SlotState state);
  void markDirty();
  /// Before initialize or load overwrite a persistent store.
  void beginRewrite();
  void endRewrite();
  /// Opens (or creates) update.journal; reads what its active slot says
  /// into reopened, committedStep, committed and dirty, or throws if the
  /// directory holds a store that must not be replaced.
  void openJournal();
  /// Finishes an update that the journal says a killed process left.
  void recover();
  /// The update of every tensor from (first, firstBegin) on: each chunk of
  /// this system's shard, journaled in a persistent store.
  void updateFrom(size_t first, int64_t firstBegin, int64_t step, double lr,
                  float clip);
  void updateChunk(const Tensor &t, int64_t begin, int64_t count, int64_t step,
                   double lr, float clip);
  /// Writes `values` (this system's `range` of t) as t's gradient, which
  /// is zero, with pwrite; returns its sum of squares.
  double writeGrad(const Tensor &t, comm::Shard range, const float *values);
  /// Whether the update leaves the gradients for one zeroArray after it
  /// (a file system that zeroes without writing), rather than zeroing each
  /// chunk right behind its update, while it is in cache.
  bool zeroesGradsAfterUpdate() const { return onDisk() && zeroesRanges; }
  /// The arrays a journaled chunk saves: the weights and optimizer state.
  std::vector<int> undoneArrays() const {
    return adamw ? std::vector<int>{Weights, State0, State1}
                 : std::vector<int>{Weights, State0};
  }
  /// The page-aligned (offset, bytes) of array `kind` that this system
  /// writes: every weight, its shard of the rest.
  std::vector<std::pair<int64_t, int64_t>> writtenRanges(int kind) const;
  /// Whether the store has an array of `kind`.
  bool maps(int kind) const {
    return kind < arrayCount || (kind == Bf16 && bf16Copies);
  }
  /// Reserves the disk blocks of writtenRanges in every store file.
  void allocateOnDisk();
  void drop(int kind, int64_t offset, int64_t bytes);
  void dropAllViews();
  void touchView(int kind, size_t index);
  void zeroArray(int kind);

  /// Calls f(begin, count) over `range` of `t` in chunks (of at most
  /// `chunk` elements, chunkElements if 0) and, when residency is managed,
  /// drops what they covered of every array in `kinds`.
  template <typename F>
  void forRange(const Tensor &t, comm::Shard range,
                std::initializer_list<int> kinds, F f, int64_t chunk = 0) {
    chunk = chunk > 0 ? chunk : chunkElements;
    const int64_t end = range.begin + range.count;
    // Drops go a budget's chunk at a time, however small f's calls are:
    // each madvise flushes the TLB of every core running a thread of ours.
    int64_t kept = range.begin;
    for (int64_t begin = range.begin, count; begin < end; begin += count) {
      count = std::min(chunk, end - begin);
      f(begin, count);
      const int64_t done = begin + count;
      if (dropping && (done - kept >= chunkElements || done == end)) {
        for (int kind : kinds)
          drop(kind, t.offset + kept * elementBytes(kind),
               (done - kept) * elementBytes(kind));
        kept = done;
      }
    }
  }
  template <typename F>
  void forChunks(const Tensor &t, std::initializer_list<int> kinds, F f) {
    forRange(t, {0, t.elements}, kinds, f);
  }

  /// Fills every weight (and the optimizer state if `withOptimizer`), each
  /// system its own shard, through read(name, firstElement, out, count);
  /// zeroes the rest and refreshes the bf16 copies: load and loadWeights.
  template <typename Read> void fill(bool withOptimizer, Read read);
};

WeightStore::Impl::Impl(const artifact::Artifact &artifact,
                        const StoreOptions &options)
    : params(artifact.params), optimizer(artifact.optimizer),
      bf16Copies(options.bf16Copies),
      comm(options.communicator ? options.communicator
                                : &comm::singleProcess()),
      directory(options.directory), budget(options.memoryBudget) {
  if (!hostIsLittleEndian())
    throw StoreError("the store and its safetensors checkpoints are "
                     "little-endian and this host is not");
  if (optimizer.kind == "adamw")
    adamw = true;
  else if (optimizer.kind == "sgd")
    adamw = false;
  else
    throw StoreError("unknown optimizer '" + optimizer.kind +
                     "' in the artifact; the store runs adamw or sgd");
  arrayCount = storeArrays(optimizer);
  if (budget < 0)
    throw StoreError("the store's memory budget must be >= 0 (0: no limit)");

  std::set<std::string> names;
  int64_t largest = 0;
  for (size_t p = 0; p < params.size(); ++p) {
    const artifact::Parameter &param = params[p];
    if (param.init != "normal" && param.init != "zeros" && param.init != "ones")
      throw StoreError("parameter " + param.name + " has init '" + param.init +
                       "'; the store knows normal, zeros and ones");
    if (param.layers < 1)
      throw StoreError("parameter " + param.name + " has " +
                       std::to_string(param.layers) + " layers");
    for (int64_t dim : param.shape)
      if (dim < 0)
        throw StoreError("parameter " + param.name + " has a negative dim in " +
                         artifact::formatShape(param.shape));
    firstTensor.push_back(tensors.size());
    for (int64_t layer = 0; layer < param.layers; ++layer) {
      Tensor t;
      t.name = param.fullName(layer);
      t.param = int32_t(p);
      t.layer = layer;
      t.elements = param.elements();
      t.offset = arrayBytes;
      if (!names.insert(t.name).second)
        throw StoreError("the artifact names two tensors " + t.name);
      arrayBytes += tensorBytes(t.elements);
      largest = std::max(largest, tensorBytes(t.elements));
      tensors.push_back(std::move(t));
    }
  }
  gradSquares.assign(tensors.size(), 0.0); // a new array reads as zeros

  if (sharded() && bf16Copies)
    throw StoreError("the store keeps bf16 copies of whole weights, and with "
                     "several systems each holds only a shard of them; "
                     "run with one system");
  if (sharded()) {
    int64_t largestShard = 0;
    for (const Tensor &t : tensors)
      largestShard = std::max(largestShard, shard(t).count);
    shardOfSum.resize(size_t(largestShard));
  }

  if (!directory.empty() && budget > 0) {
    // Chunks of bulk work are a small fraction of the budget; whole-tensor
    // views get the rest.
    chunkElements = chunkBytesFor(budget) / 4;
    viewBudget = budget - storeChunkReserve(budget);
    if (viewBudget < largest)
      throw StoreError(
          "the store's memory budget (" + bytesText(budget) +
          ") is too small: the largest tensor needs " + bytesText(largest) +
          " resident while a kernel reads it, plus " +
          bytesText(storeChunkReserve(budget)) +
          " for streaming work; raise --memory-budget to at least " +
          bytesText(largest + storeChunkReserve(budget)));
    // A store whose written pages fit in the views' share stays resident:
    // dropping them and faulting them back every step costs time
    // (docs/store.md) and frees nothing the budget needs.
    int64_t touched = 0;
    for (int kind = 0; kind < kArrayKinds; ++kind)
      if (maps(kind))
        for (auto range : writtenRanges(kind))
          touched += range.second;
    dropping = touched > viewBudget;
  }
  if (options.persistent) {
    if (directory.empty())
      throw StoreError("a persistent store needs a directory");
    if (sharded())
      throw StoreError("a persistent store holds one system's arrays; with "
                       "several systems the store is scratch and "
                       "checkpoints are files");
    persistent = true;
    reopenOnly = options.reopenOnly;
    std::ostringstream key;
    key << optimizer.kind << ' ' << arrayBytes;
    for (const Tensor &t : tensors)
      key << ' ' << t.name << ':' << t.elements << '@' << t.offset;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  (unsigned long long)fnv1a64(key.str()));
    layout = hex;
    if (const char *kill = std::getenv("GIGA_DEBUG_KILL_IN_UPDATE"))
      killCountdown = std::atoll(kill);
  }
  try {
    mapArrays();
  } catch (...) {
    unmapArrays(); // a store that failed to open leaves no file behind
    throw;
  }
}

std::vector<std::pair<int64_t, int64_t>>
WeightStore::Impl::writtenRanges(int kind) const {
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const Tensor &t : tensors) {
    comm::Shard range = kind == Weights ? comm::Shard{0, t.elements} : shard(t);
    if (range.count == 0)
      continue;
    int64_t bytes = elementBytes(kind);
    int64_t begin = (t.offset + range.begin * bytes) / kPage * kPage;
    int64_t end = t.offset + roundUpToPage((range.begin + range.count) * bytes);
    ranges.push_back({begin, end - begin});
  }
  return ranges;
}

void WeightStore::Impl::allocateOnDisk() {
  // A sparse file's first write into a full filesystem is a SIGBUS in
  // whichever kernel touches the page, so every byte the store will write
  // gets its disk now: all the weights (gathered whole for the kernels) and
  // this system's shard of the other arrays. A full disk is one error here.
  std::vector<std::pair<int, std::pair<int64_t, int64_t>>> ranges;
  int64_t needed = 0;
  for (int kind = 0; kind < kArrayKinds; ++kind)
    if (arrays[kind].fd >= 0)
      for (auto range : writtenRanges(kind)) {
        ranges.push_back({kind, range});
        needed += range.second;
      }
  std::error_code ignored;
  const auto space = std::filesystem::space(directory, ignored);
  for (auto [kind, range] : ranges) {
    int error = ::posix_fallocate(arrays[kind].fd, off_t(range.first),
                                  off_t(range.second));
    if (error == EOPNOTSUPP || error == EINVAL)
      return; // a filesystem that cannot reserve blocks: sparse it stays
    if (error != 0)
      throw StoreError("the store needs " + bytesText(needed) + " of disk in " +
                       directory +
                       " and cannot reserve them: " + std::strerror(error) +
                       " (" + bytesText(int64_t(space.available)) +
                       " were free); free space there or give --store a "
                       "directory on a larger disk");
  }
}

void WeightStore::Impl::mapArrays() {
  static const char *const fileNames[kArrayKinds] = {
      "weights.f32", "grads.f32", "state0.f32", "state1.f32", "weights.bf16"};
  if (!directory.empty()) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error)
      throw StoreError("cannot create the store directory " + directory + ": " +
                       error.message());
    lockPath = directory + "/store.lock";
    lockFd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lockFd < 0)
      throw StoreError("cannot create " + lockPath + ": " + errnoText() +
                       "; is the store directory writable?");
    if (::flock(lockFd, LOCK_EX | LOCK_NB) != 0) {
      ::close(lockFd);
      lockFd = -1;
      throw StoreError("the store directory " + directory +
                       " is in use by another process; give each run its "
                       "own --store directory");
    }
  }
  // A persistent store reopens the state its journal holds if store.json
  // says it is this model's; anything else in the directory is replaced,
  // but never another model's trained state.
  if (persistent)
    openJournal();
  for (int kind = 0; kind < kArrayKinds; ++kind) {
    if (!maps(kind))
      continue;
    Array &array = arrays[kind];
    array.bytes = arrayBytes;
    if (arrayBytes == 0)
      continue;
    if (directory.empty()) {
      void *memory = ::mmap(nullptr, size_t(arrayBytes), PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (memory == MAP_FAILED)
        throw StoreError("cannot allocate " + bytesText(arrayBytes) +
                         " of RAM for the store (" + errnoText() +
                         "); use --store DIR to keep it on disk");
      array.base = static_cast<float *>(memory);
      continue;
    }
    array.path = directory + "/" + fileNames[kind];
    array.fd =
        ::open(array.path.c_str(),
               O_RDWR | O_CREAT | (reopened ? 0 : O_TRUNC) | O_CLOEXEC, 0644);
    if (array.fd < 0)
      throw StoreError("cannot " + std::string(reopened ? "open" : "create") +
                       " store file " + array.path + ": " + errnoText());
    struct stat info;
    if (reopened &&
        (::fstat(array.fd, &info) != 0 || int64_t(info.st_size) != arrayBytes))
      throw StoreError("store file " + array.path + " is not the " +
                       bytesText(arrayBytes) +
                       " that store.json describes (damaged or cut short); "
                       "remove " +
                       directory + " and start the run again");
    if (!reopened && ::ftruncate(array.fd, off_t(arrayBytes)) != 0)
      throw StoreError("cannot size store file " + array.path + " to " +
                       bytesText(arrayBytes) + ": " + errnoText());
    void *memory = ::mmap(nullptr, size_t(arrayBytes), PROT_READ | PROT_WRITE,
                          MAP_SHARED, array.fd, 0);
    if (memory == MAP_FAILED)
      throw StoreError("cannot map store file " + array.path + ": " +
                       errnoText());
    array.base = static_cast<float *>(memory);
  }
  if (!directory.empty())
    allocateOnDisk();
  if (persistent) {
    if (reopened) {
      recover();
      zeroArray(Grads); // a killed step's partial sums
    } else {
      committedStep = 0;
      committed = nullptr;
      dirty = true;
      recordState(Initializing); // until initialize or load fill it
    }
    keepFiles = true;
  }
}

uint64_t WeightStore::Impl::slotChecksum(const JournalSlot *s) {
  const char *from = reinterpret_cast<const char *>(s) + sizeof s->checksum;
  return fnv1a64(std::string_view(from, sizeof(JournalSlot) -
                                            sizeof s->checksum + s->length));
}

bool WeightStore::Impl::slotIsWhole(uint32_t index) const {
  const JournalSlot *s = slot(index);
  return s->length <= kSlotBytes - sizeof(JournalSlot) &&
         s->checksum == slotChecksum(s);
}

nlohmann::json WeightStore::Impl::slotCommit(uint32_t index) const {
  const JournalSlot *s = slot(index);
  return nlohmann::json::parse(
      std::string_view(reinterpret_cast<const char *>(s) + sizeof(JournalSlot),
                       s->length),
      nullptr, false);
}

void WeightStore::Impl::syncJournal(int64_t bytes) {
  if (::msync(journal, size_t(bytes), MS_SYNC) != 0)
    throw StoreError("cannot write " + file("update.journal") +
                     " to disk: " + errnoText());
}

uint32_t WeightStore::Impl::stageSlot(SlotState state, int64_t step,
                                      const nlohmann::json &commit) {
  const std::string text = commit.dump();
  if (int64_t(text.size()) > kSlotBytes - int64_t(sizeof(JournalSlot)))
    throw StoreError("the state to record with step " + std::to_string(step) +
                     " is " + bytesText(int64_t(text.size())) +
                     ", more than the store's journal holds (" +
                     bytesText(kSlotBytes - int64_t(sizeof(JournalSlot))) +
                     ")");
  const uint32_t index = 1 - journal->activeSlot;
  JournalSlot *s = slot(index);
  s->state = state;
  s->length = uint32_t(text.size());
  s->step = step;
  std::memset(s->dirtyBoot, 0, sizeof s->dirtyBoot);
  if (dirty)
    std::strncpy(s->dirtyBoot, bootId().c_str(), sizeof s->dirtyBoot - 1);
  char *to = reinterpret_cast<char *>(s) + sizeof(JournalSlot);
  std::memcpy(to, text.data(), text.size());
  s->checksum = slotChecksum(s);
  return index;
}

void WeightStore::Impl::activate(uint32_t index) {
  journalFence();
  journal->activeSlot = index;
  journalFence();
}

void WeightStore::Impl::recordState(SlotState state) {
  activate(stageSlot(state, committedStep, committed));
}

void WeightStore::Impl::markDirty() {
  if (dirty)
    return;
  dirty = true;
  recordState(Ready);
  // On disk before any weight changes: a machine that goes down later must
  // find the mark, whichever pages the kernel had written back.
  syncJournal(kPage + 2 * kSlotBytes);
}

void WeightStore::Impl::beginRewrite() {
  if (!persistent)
    return;
  journal->phase = Idle;
  committedStep = 0;
  committed = nullptr;
  dirty = true;
  recordState(Initializing);
}

void WeightStore::Impl::endRewrite() {
  if (persistent)
    recordState(Ready);
}

void WeightStore::Impl::openJournal() {
  const std::string manifestPath = file("store.json");
  nlohmann::json manifest;
  {
    std::ifstream in(manifestPath);
    if (in)
      manifest = nlohmann::json::parse(in, nullptr, false);
  }
  const std::string path = file("update.journal");
  keepFiles = manifest.is_object(); // a store was here: never unlink it
  journalFd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (journalFd < 0)
    throw StoreError("cannot open " + path + ": " + errnoText());
  struct stat info;
  if (::fstat(journalFd, &info) != 0)
    throw StoreError("cannot read " + path + ": " + errnoText());
  const bool sized = int64_t(info.st_size) == kJournalBytes;
  if (!sized && ::ftruncate(journalFd, off_t(kJournalBytes)) != 0)
    throw StoreError("cannot size " + path + ": " + errnoText());
  if (int error = sized ? 0 : ::posix_fallocate(journalFd, 0, kJournalBytes);
      error != 0 && error != EOPNOTSUPP && error != EINVAL)
    throw StoreError("the store's journal needs " + bytesText(kJournalBytes) +
                     " of disk in " + directory +
                     " and cannot reserve them: " + std::strerror(error) +
                     "; free space there or give --store a directory on a "
                     "larger disk");
  void *memory = ::mmap(nullptr, size_t(kJournalBytes), PROT_READ | PROT_WRITE,
                        MAP_SHARED, journalFd, 0);
  if (memory == MAP_FAILED)
    throw StoreError("cannot map " + path + ": " + errnoText());
  journal = static_cast<JournalHeader *>(memory);

  const bool valid = sized &&
                     std::memcmp(journal->magic, kJournalMagic, 8) == 0 &&
                     journal->version == 1 && journal->activeSlot < 2 &&
                     slotIsWhole(journal->activeSlot);
  const JournalSlot *active = valid ? slot(journal->activeSlot) : nullptr;
  const bool trained = active && active->state == Ready && active->step > 0;
  const bool ours = manifest.is_object() &&
                    manifest.value("format", "") == "giga-store" &&
                    manifest.value("layout", "") == layout;
  if (trained && !ours)
    throw StoreError(
        "the store directory " + directory +
        " holds the state of another model (step " +
        std::to_string(active->step) +
        "; its store.json describes other arrays); give this run another "
        "--store directory, or remove " +
        directory + " to start afresh");
  if (ours && active && active->state == Ready) {
    const std::string changedIn(active->dirtyBoot);
    if (!changedIn.empty() && changedIn != bootId() && active->step > 0)
      throw StoreError(
          "the store in " + directory + " was being written after step " +
          std::to_string(active->step) +
          " when the machine went down (it has restarted since), and what "
          "the disk kept of it may mix two steps; it cannot be resumed. "
          "Start the run again without --resume (remove " +
          directory +
          "), or from a checkpoint exported earlier (gigarun --init)");
    reopened = true;
    committedStep = active->step;
    committed = slotCommit(journal->activeSlot);
    dirty = !changedIn.empty();
    return;
  }
  if (reopenOnly)
    throw StoreError("the store in " + directory +
                     " holds no trained step of this model (never updated, "
                     "or another model's)");
  // A new store: its layout, once; the journal from nothing.
  keepFiles = false;
  std::memset(journal, 0, kPage + 2 * kSlotBytes);
  std::memcpy(journal->magic, kJournalMagic, 8);
  journal->version = 1;
  try {
    writeFileAtomically(manifestPath, nlohmann::json{{"format", "giga-store"},
                                                     {"version", 1},
                                                     {"layout", layout}}
                                              .dump() +
                                          "\n");
  } catch (const FileError &error) {
    throw StoreError(error.what());
  }
}

void WeightStore::Impl::recover() {
  if (journal->phase == Idle)
    return;
  const uint32_t pending = 1 - journal->activeSlot;
  if (!slotIsWhole(pending) || slot(pending)->step != journal->step ||
      journal->nextTensor < 0 || size_t(journal->nextTensor) > tensors.size())
    throw StoreError("the store in " + directory +
                     " was stopped during the update of step " +
                     std::to_string(journal->step) +
                     " and its journal does not describe it (damaged?); the "
                     "update cannot be completed. Remove " +
                     directory + " and start the run again");
  if (journal->phase == Updating) {
    size_t nextTensor = size_t(journal->nextTensor);
    int64_t nextBegin = journal->nextBegin;
    // An undo copy of a chunk the progress mark has not passed: the chunk
    // may be half updated, so it gets its old values back first.
    if (journal->undoValid &&
        std::make_pair(journal->undoTensor, journal->undoBegin) >=
            std::make_pair(journal->nextTensor, journal->nextBegin)) {
      const Tensor &t = tensors[size_t(journal->undoTensor)];
      const char *undo = undoArea();
      for (int kind : undoneArrays()) {
        std::memcpy(at(kind, t) + journal->undoBegin, undo,
                    size_t(journal->undoCount) * 4);
        undo += kMaxJournalChunkElements * 4;
      }
      nextTensor = size_t(journal->undoTensor);
      nextBegin = journal->undoBegin;
    }
    journalFence();
    journal->undoValid = 0;
    updateFrom(nextTensor, nextBegin, journal->step, journal->learningRate,
               journal->clip);
  }
  committedStep = journal->step;
  committed = slotCommit(pending);
  activate(pending);
  journal->phase = Idle;
}

WeightStore::Impl::~Impl() { unmapArrays(); }

void WeightStore::Impl::unmapArrays() {
  for (Array &array : arrays) {
    if (array.base)
      ::munmap(array.base, size_t(array.bytes));
    if (array.fd >= 0) {
      // Scratch state: the checkpoint is the durable copy. Unlinking drops
      // dirty pages without writing them back.
      ::close(array.fd);
      if (!keepFiles)
        ::unlink(array.path.c_str());
    }
  }
  if (journal)
    ::munmap(journal, size_t(kJournalBytes));
  if (journalFd >= 0)
    ::close(journalFd);
  if (persistent && !keepFiles)
    for (const char *name : {"update.journal", "store.json"})
      ::unlink(file(name).c_str());
  journal = nullptr;
  journalFd = -1;
  if (lockFd >= 0) {
    ::unlink(lockPath.c_str());
    ::close(lockFd);
  }
  for (Array &array : arrays)
    array = Array();
  lockFd = -1;
}

const WeightStore::Impl::Tensor &
WeightStore::Impl::tensor(int32_t param, int64_t layer) const {
  if (param < 0 || size_t(param) >= params.size())
    throw StoreError("the store has no parameter " + std::to_string(param) +
                     " (it has " + std::to_string(params.size()) + ")");
  if (layer < 0 || layer >= params[param].layers)
    throw StoreError("parameter " + params[param].name + " has no layer " +
                     std::to_string(layer) + " (it has " +
                     std::to_string(params[param].layers) + ")");
  return tensors[firstTensor[param] + size_t(layer)];
}

void WeightStore::Impl::drop(int kind, int64_t offset, int64_t bytes) {
  if (bytes <= 0 || !arrays[kind].base)
    return;
  // Tensors start on pages and own their last page's padding, so rounding
  // the end up never touches a neighbour. A shard's range may start inside
  // a page: the files keep every byte, so rounding down only drops pages
  // from the resident set.
  int64_t start = offset / kPage * kPage;
  char *begin = reinterpret_cast<char *>(arrays[kind].base) + start;
  ::madvise(begin, size_t(roundUpToPage(bytes + offset - start)),
            MADV_DONTNEED);
}

void WeightStore::Impl::dropAllViews() {
  if (!dropping)
    return;
  std::lock_guard<std::mutex> lock(viewMutex);
  for (const auto &view : views)
    drop(view.first, tensors[view.second].offset,
         tensors[view.second].elements * elementBytes(view.first));
  views.clear();
  viewIndex.clear();
  viewBytes = 0;
}

void WeightStore::Impl::touchView(int kind, size_t index) {
  if (!dropping)
    return;
  std::lock_guard<std::mutex> lock(viewMutex);
  std::pair<int, size_t> key(kind, index);
  auto found = viewIndex.find(key);
  if (found != viewIndex.end()) {
    views.splice(views.begin(), views, found->second);
    return;
  }
  views.push_front(key);
  viewIndex[key] = views.begin();
  viewBytes += roundUpToPage(tensors[index].elements * elementBytes(kind));
  while (viewBytes > viewBudget && views.size() > 1) {
    std::pair<int, size_t> oldest = views.back();
    const Tensor &t = tensors[oldest.second];
    int64_t bytes = t.elements * elementBytes(oldest.first);
    drop(oldest.first, t.offset, bytes);
    viewBytes -= roundUpToPage(bytes);
    viewIndex.erase(oldest);
    views.pop_back();
  }
}

void WeightStore::Impl::zeroArray(int kind) {
  Array &array = arrays[kind];
  if (!array.base)
    return;
  if (kind == Grads)
    std::fill(gradSquares.begin(), gradSquares.end(), 0.0);
  if (array.fd < 0) {
    // Private anonymous memory reads as zeros after MADV_DONTNEED, and the
    // pages are freed meanwhile.
    if (::madvise(array.base, size_t(array.bytes), MADV_DONTNEED) == 0)
      return;
  } else if (::fallocate(array.fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                         0, off_t(array.bytes)) == 0) {
    // Reads as zeros, in the mapping too, and keeps the blocks reserved (a
    // punched hole would make the next write fault on a full disk).
    return;
  } else {
    zeroesRanges = false;
  }
  for (const Tensor &t : tensors)
    forChunks(t, {kind}, [&](int64_t begin, int64_t count) {
      std::memset(at(kind, t) + begin, 0, size_t(count) * 4);
    });
}

void WeightStore::Impl::releaseOthersShards(int kind, const Tensor &t) {
  comm::Shard mine = shard(t);
  // Only whole pages outside the shard: MADV_DONTNEED frees them in RAM
  // (they read as zeros after) and drops them from the resident set of a
  // file, whose blocks stay reserved for the next gather.
  int64_t before = mine.begin * 4 / kPage * kPage;
  int64_t after = roundUpToPage((mine.begin + mine.count) * 4);
  int64_t end = tensorBytes(t.elements);
  auto release = [&](int64_t from, int64_t bytes) {
    if (bytes > 0)
      ::madvise(reinterpret_cast<char *>(arrays[kind].base) + t.offset + from,
                size_t(bytes), MADV_DONTNEED);
  };
  release(0, before);
  release(after, end - after);
}

void WeightStore::Impl::refreshBf16(const Tensor &t) {
  if (!bf16Copies)
    return;
  const float *w = at(Weights, t);
  uint16_t *copy = bf16At(t);
  forChunks(t, {Weights, Bf16}, [&](int64_t begin, int64_t count) {
    kernels::toBf16(copy + begin, w + begin, count);
  });
}

// --- public API ------------------------------------------------------------

WeightStore::WeightStore(const artifact::Artifact &artifact,
                         const StoreOptions &options)
    : impl(std::make_unique<Impl>(artifact, options)) {}

WeightStore::~WeightStore() = default;

void WeightStore::initialize(uint64_t seed) {
  Impl &s = *impl;
  s.dropAllViews();
  s.beginRewrite();
  // Values depend only on (seed, name, index), so chunks can be filled in
  // any order: a few threads share them (at most 8, the chunk reserve of a
  // budgeted store).
  struct Work {
    const Impl::Tensor *tensor;
    int64_t begin, count;
  };
  std::vector<Work> work;
  for (const Impl::Tensor &t : s.tensors) {
    // With several systems, each fills its shard (a value depends only on
    // its index, so the shards make the one-system tensor).
    const comm::Shard mine = s.shard(t);
    const int64_t end = mine.begin + mine.count;
    int64_t step = s.dropping ? s.chunkElements : int64_t(1) << 20;
    for (int64_t begin = mine.begin; begin < end; begin += step)
      work.push_back({&t, begin, std::min(step, end - begin)});
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < work.size(); i = next++) {
      const Work &w = work[i];
      const artifact::Parameter &param = s.params[w.tensor->param];
      float *out = s.at(Weights, *w.tensor) + w.begin;
      if (param.init == "normal")
        fillNormal(out, tensorKey(seed, w.tensor->name), w.begin, w.count,
                   param.std);
      else
        std::fill(out, out + w.count, param.init == "ones" ? 1.0f : 0.0f);
      if (s.dropping)
        s.drop(Weights, w.tensor->offset + w.begin * 4, w.count * 4);
    }
  };
  size_t threads = std::min<size_t>(
      {size_t(std::max(1u, std::thread::hardware_concurrency())), 8,
       work.size()});
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i)
    pool.emplace_back(worker);
  worker();
  for (std::thread &thread : pool)
    thread.join();
  for (int kind = Grads; kind < s.arrayCount; ++kind)
    s.zeroArray(kind);
  for (const Impl::Tensor &t : s.tensors)
    s.refreshBf16(t);
  s.endRewrite();
}

float *WeightStore::weights(int32_t param, int64_t layer) {
  const Impl::Tensor &t = impl->tensor(param, layer);
  impl->touchView(Weights, impl->firstTensor[param] + size_t(layer));
  return impl->at(Weights, t);
}

const uint16_t *WeightStore::weightsBf16(int32_t param, int64_t layer) {
  const Impl::Tensor &t = impl->tensor(param, layer);
  if (!impl->bf16Copies)
    return nullptr;
  impl->touchView(Bf16, impl->firstTensor[param] + size_t(layer));
  return impl->bf16At(t);
}

bool WeightStore::onDisk() const { return !impl->directory.empty(); }

void WeightStore::gatherWeights(int32_t param, int64_t layer) {
  Impl &s = *impl;
  const Impl::Tensor &t = s.tensor(param, layer);
  if (s.sharded())
    s.comm->allGather(s.at(Weights, t), t.elements);
}

void WeightStore::releaseWeights(int32_t param, int64_t layer) {
  Impl &s = *impl;
  if (s.sharded())
    s.releaseOthersShards(Weights, s.tensor(param, layer));
}

void WeightStore::prefetch(int32_t param, int64_t layer) {
  const Impl::Tensor &t = impl->tensor(param, layer);
  if (impl->directory.empty() || t.elements == 0)
    return;
  // Starts reading into the page cache; adds nothing to the resident set
  // until weights() touches the pages.
  ::madvise(impl->at(Weights, t), size_t(roundUpToPage(t.elements * 4)),
            MADV_WILLNEED);
  if (impl->bf16Copies)
    ::madvise(impl->bf16At(t), size_t(roundUpToPage(t.elements * 2)),
              MADV_WILLNEED);
}

void WeightStore::accumulateGrad(int32_t param, int64_t layer,
                                 const float *grad) {
  Impl &s = *impl;
  const Impl::Tensor &t = s.tensor(param, layer);
  float *g = s.at(Grads, t);
  const comm::Shard mine = s.shard(t);
  const float *sum = grad;
  if (s.sharded()) {
    sum = s.shardOfSum.data() - mine.begin;
    s.comm->reduceScatterSum(grad, s.shardOfSum.data(), t.elements);
  }
  const size_t index = s.firstTensor[param] + size_t(layer);
  double squares = 0.0;
  if (s.zeroesGradsAfterUpdate() && s.gradSquares[index] == 0.0) {
    // A gradient zeroed by FALLOC_FL_ZERO_RANGE is written, not added to:
    // its pages are gone, and through the mapping the kernel would fill
    // each with zeros only for it to be overwritten. (A sum of squares is
    // 0 only if every element is: the smallest float's square is a
    // double.) Where the zeroing wrote the pages (tmpfs), they are mapped
    // and adding through the mapping is faster.
    squares = s.writeGrad(t, mine, sum);
  } else {
    s.forRange(t, mine, {Grads}, [&](int64_t begin, int64_t count) {
      squares += kernels::accumulateSumOfSquares(g + begin, sum + begin, count);
    });
  }
  s.gradSquares[index] = squares;
}

double WeightStore::Impl::writeGrad(const Tensor &t, comm::Shard range,
                                    const float *values) {
  const int64_t piece = std::min(chunkElements, kMaxWriteElements);
  // Per thread: accumulateGrad may run on several, for different tensors.
  static thread_local std::vector<float> staging;
  staging.resize(size_t(piece));
  float *staged = staging.data();
  const Array &grads = arrays[Grads];
  double squares = 0.0;
  // No array to drop: the written pages are not mapped.
  forRange(
      t, range, {},
      [&](int64_t begin, int64_t count) {
        // Added to zeros, as the mapped path adds: the same bits (-0
        // becomes 0) and the same sum.
        std::fill_n(staged, count, 0.0f);
        squares +=
            kernels::accumulateSumOfSquares(staged, values + begin, count);
        if (!writeFullyAt(grads.fd, staged, size_t(count) * 4,
                          uint64_t(t.offset + begin * 4)))
          throw StoreError("cannot write the gradient of " + t.name + " to " +
                           grads.path + ": " + errnoText());
      },
      piece);
  return squares;
}

const float *WeightStore::grad(int32_t param, int64_t layer) {
  const Impl::Tensor &t = impl->tensor(param, layer);
  impl->touchView(Grads, impl->firstTensor[param] + size_t(layer));
  return impl->at(Grads, t);
}

void WeightStore::zeroGrads() {
  impl->dropAllViews();
  impl->zeroArray(Grads);
}

UpdateStats WeightStore::applyUpdate(int64_t step, double gradScale) {
  return applyUpdate(step, gradScale, {});
}

UpdateStats WeightStore::applyUpdate(
    int64_t step, double gradScale,
    const std::function<nlohmann::json(const UpdateStats &)> &commit) {
  Impl &s = *impl;
  if (step < 1)
    throw StoreError("optimizer steps count from 1, got step " +
                     std::to_string(step));
  s.dropAllViews();
  UpdateStats stats;
  stats.learningRate = s.optimizer.learningRateAt(step);

  // Pass 1, with more than one micro-batch or system: scale the accumulated
  // gradients (materialized, as PyTorch's loss / accumulation). Their
  // global norm in double, from each tensor's sum of squares.
  const float scale = static_cast<float>(gradScale);
  double sumOfSquares = 0.0;
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    const Impl::Tensor &t = s.tensors[i];
    if (scale != 1.0f) {
      float *g = s.at(Grads, t);
      s.gradSquares[i] = 0.0;
      s.forRange(t, s.shard(t), {Grads}, [&](int64_t begin, int64_t count) {
        kernels::scale(g + begin, scale, count);
        s.gradSquares[i] += kernels::sumOfSquares(g + begin, count);
      });
    }
    sumOfSquares += s.gradSquares[i];
  }
  stats.gradNorm = std::sqrt(s.comm->sum(sumOfSquares));
  float clip = 1.0f;
  if (s.optimizer.maxGradientNorm > 0.0)
    clip = kernels::clipCoefficient(stats.gradNorm,
                                    float(s.optimizer.maxGradientNorm));
  stats.clipScale = clip;

  // Pass 2: the optimizer, fused with the clip, journaled in a persistent
  // store; then the gradients are zeroed.
  nlohmann::json pending;
  uint32_t pendingSlot = 0;
  if (s.persistent) {
    pending = commit ? commit(stats) : nlohmann::json();
    s.markDirty();
    pendingSlot = s.stageSlot(Ready, step, pending);
    JournalHeader &j = *s.journal;
    j.step = step;
    j.learningRate = stats.learningRate;
    j.clip = clip;
    j.nextTensor = 0;
    j.nextBegin = 0;
    j.undoValid = 0;
    journalFence();
    j.phase = Updating;
    journalFence();
  }
  s.updateFrom(0, 0, step, stats.learningRate, clip);
  if (s.persistent) {
    journalFence();
    s.journal->phase = Applied;
  }
  if (s.zeroesGradsAfterUpdate())
    s.zeroArray(Grads);
  else
    std::fill(s.gradSquares.begin(), s.gradSquares.end(), 0.0);
  if (s.persistent) {
    s.committedStep = step;
    s.committed = std::move(pending);
    s.activate(pendingSlot);
    s.journal->phase = Idle;
  }
  return stats;
}

void WeightStore::Impl::updateFrom(size_t first, int64_t firstBegin,
                                   int64_t step, double lr, float clip) {
  // A persistent store journals each chunk, whose old values the undo area
  // must hold.
  const int64_t chunk =
      persistent ? std::min(chunkElements, kMaxJournalChunkElements) : 0;
  for (size_t i = first; i < tensors.size(); ++i) {
    const Tensor &t = tensors[i];
    comm::Shard range = shard(t);
    if (i == first && firstBegin > range.begin) {
      range.count -= firstBegin - range.begin;
      range.begin = firstBegin;
    }
    forRange(
        t, range, {Weights, Grads, State0, State1},
        [&](int64_t begin, int64_t count) {
          auto zeroBehind = [&] {
            if (!zeroesGradsAfterUpdate())
              std::memset(at(Grads, t) + begin, 0, size_t(count) * 4);
          };
          if (!persistent) {
            updateChunk(t, begin, count, step, lr, clip);
            zeroBehind();
            return;
          }
          // The chunk's old values first, so that a kill in the middle of
          // its update can be undone and the update redone (recover).
          char *undo = undoArea();
          for (int kind : undoneArrays()) {
            std::memcpy(undo, at(kind, t) + begin, size_t(count) * 4);
            undo += kMaxJournalChunkElements * 4;
          }
          journal->undoTensor = int64_t(i);
          journal->undoBegin = begin;
          journal->undoCount = count;
          journalFence();
          journal->undoValid = 1;
          journalFence();
          updateChunk(t, begin, count, step, lr, clip);
          journalFence();
          if (killCountdown > 0 && --killCountdown == 0)
            ::raise(SIGKILL);
          journal->nextTensor = int64_t(i);
          journal->nextBegin = begin + count;
          journalFence();
          journal->undoValid = 0;
          journalFence();
          // Only now: until the chunk is marked done, a recovery redoes it
          // from its gradients.
          zeroBehind();
        },
        chunk);
    refreshBf16(t);
  }
}

void WeightStore::Impl::updateChunk(const Tensor &t, int64_t begin,
                                    int64_t count, int64_t step, double lr,
                                    float clip) {
  const artifact::Parameter &param = params[t.param];
  float *w = at(Weights, t) + begin;
  float *g = at(Grads, t) + begin;
  float *m = at(State0, t) + begin;
  if (adamw) {
    kernels::AdamWConfig config;
    config.lr = lr;
    config.beta1 = optimizer.beta1;
    config.beta2 = optimizer.beta2;
    config.eps = optimizer.epsilon;
    config.weightDecay = param.weightDecay;
    config.gradScale = clip;
    kernels::adamwUpdate(w, g, m, at(State1, t) + begin, count, config, step,
                         param.weightDecay != 0.0);
  } else {
    kernels::SgdConfig config;
    config.lr = lr;
    config.momentum = optimizer.momentum;
    config.weightDecay = param.weightDecay;
    config.gradScale = clip;
    kernels::sgdUpdate(w, g, m, count, config);
  }
}

int64_t WeightStore::committedStep() const { return impl->committedStep; }
const nlohmann::json &WeightStore::committed() const { return impl->committed; }
bool WeightStore::reopened() const { return impl->reopened; }

void WeightStore::flush() {
  Impl &s = *impl;
  if (!s.persistent)
    return;
  for (const Impl::Array &array : s.arrays)
    if (array.fd >= 0 &&
        (::msync(array.base, size_t(array.bytes), MS_SYNC) != 0 ||
         ::fsync(array.fd) != 0))
      throw StoreError("cannot write store file " + array.path +
                       " to disk: " + errnoText());
  s.dirty = false;
  s.recordState(Ready);
  s.syncJournal(kJournalBytes);
}

// --- the layout, for the trainer -------------------------------------------

int storeArrays(const artifact::Optimizer &optimizer) {
  return optimizer.kind == "adamw" ? 4 : 3;
}

StoreSize storeSize(const artifact::Artifact &artifact) {
  StoreSize size;
  int64_t arrayBytes = 0;
  for (const artifact::Parameter &param : artifact.params) {
    int64_t bytes = tensorBytes(param.elements());
    size.largestTensorBytes = std::max(size.largestTensorBytes, bytes);
    arrayBytes += bytes * param.layers;
  }
  size.bytes = arrayBytes * storeArrays(artifact.optimizer);
  if (artifact.systems > 1) {
    // A system's shard of every array, and whole the weights of the kernel
    // invocation that streams in the most.
    int64_t gathered = 0;
    for (const artifact::Kernel &kernel : artifact.kernels) {
      int64_t bytes = 0;
      for (const artifact::StreamIn &in : kernel.streamIn)
        bytes += tensorBytes(artifact.params[in.param].elements());
      gathered = std::max(gathered, bytes);
    }
    size.bytes = size.bytes / artifact.systems + gathered;
  }
  return size;
}

int64_t storeChunkReserve(int64_t budget) { return 8 * chunkBytesFor(budget); }

// --- checkpoints -------------------------------------------------------------

namespace {

/// A tensor of a checkpoint: one array of one (parameter, layer).
struct CheckpointTensor {
  std::string name;
  int32_t param = 0;
  int64_t layer = 0;
  int kind = Weights;
};

/// The tensors of a checkpoint in file order: every weight under its full
/// name, then with the optimizer state "adam.m.<name>" and "adam.v.<name>"
/// (AdamW) or "sgd.momentum.<name>" (SGD).
std::vector<CheckpointTensor>
checkpointTensors(const std::vector<artifact::Parameter> &params, bool adamw,
                  bool withOptimizer) {
  std::vector<CheckpointTensor> all;
  for (size_t p = 0; p < params.size(); ++p)
    for (int64_t layer = 0; layer < params[p].layers; ++layer)
      all.push_back({params[p].fullName(layer), int32_t(p), layer, Weights});
  const size_t weights = all.size();
  if (!withOptimizer)
    return all;
  for (int kind = State0; kind < (adamw ? 4 : 3); ++kind)
    for (size_t i = 0; i < weights; ++i) {
      CheckpointTensor state = all[i];
      state.name = (!adamw           ? "sgd.momentum."
                    : kind == State0 ? "adam.m."
                                     : "adam.v.") +
                   all[i].name;
      state.kind = kind;
      all.push_back(std::move(state));
    }
  return all;
}

/// Checks the entry of `wanted` in `file`: present, F32, the parameter's
/// shape and byte length.
void checkTensor(const SafetensorsFile &file, const CheckpointTensor &wanted,
                 const artifact::Parameter &param, bool adamw) {
  const std::string where = "checkpoint " + file.path();
  const SafetensorsEntry *entry = file.find(wanted.name);
  if (!entry && wanted.kind == Weights)
    throw StoreError(where + " has no tensor " + wanted.name +
                     "; it was written for another model");
  if (!entry)
    throw StoreError(where + " has no tensor " + wanted.name +
                     "; it holds no " + (adamw ? "AdamW" : "SGD") +
                     " state (saved with another optimizer?); load it "
                     "without the optimizer state to start the "
                     "optimizer afresh");
  if (entry->dtype != "F32")
    throw StoreError(where + ": tensor " + wanted.name + " has dtype " +
                     entry->dtype + ", but the store holds F32");
  if (entry->shape != param.shape)
    throw StoreError(where + ": tensor " + wanted.name + " has shape " +
                     artifact::formatShape(entry->shape) +
                     ", but the model's is " +
                     artifact::formatShape(param.shape) +
                     "; it was written for another model");
  uint64_t bytes = uint64_t(param.elements()) * 4;
  if (entry->end - entry->begin != bytes)
    throw StoreError(where + ": tensor " + wanted.name + " has data_offsets [" +
                     std::to_string(entry->begin) + ", " +
                     std::to_string(entry->end) + "], but shape " +
                     artifact::formatShape(entry->shape) + " in F32 is " +
                     std::to_string(bytes) + " bytes");
}

/// checkCheckpoint for a parameter table.
void checkTensors(const std::vector<artifact::Parameter> &params, bool adamw,
                  const SafetensorsFile &file, bool withOptimizer) {
  std::vector<CheckpointTensor> wanted =
      checkpointTensors(params, adamw, withOptimizer);
  std::set<std::string> names;
  for (const CheckpointTensor &w : wanted) {
    checkTensor(file, w, params[w.param], adamw);
    names.insert(w.name);
  }
  for (const auto &[name, entry] : file.tensors()) {
    if (names.count(name) || (isOptimizerState(name) && !withOptimizer))
      continue;
    throw StoreError("checkpoint " + file.path() + " has tensor " + name +
                     ", which the model does not have; it was written for "
                     "another model");
  }
}

} // namespace

bool isOptimizerState(const std::string &name) {
  return name.rfind("adam.", 0) == 0 || name.rfind("sgd.", 0) == 0;
}

void checkCheckpoint(const artifact::Artifact &artifact,
                     const SafetensorsFile &file, bool withOptimizer) {
  checkTensors(artifact.params, artifact.optimizer.kind == "adamw", file,
               withOptimizer);
}

CheckpointWeights::CheckpointWeights(const artifact::Artifact &artifact,
                                     SafetensorsFile checked)
    : file(std::move(checked)) {
  checkCheckpoint(artifact, file, /*withOptimizer=*/false);
}

void CheckpointWeights::read(const std::string &name, int64_t offset,
                             float *out, int64_t count) const {
  file.read(name, uint64_t(offset) * 4, out, size_t(count) * 4);
}

nlohmann::json checkpointMetadata(const SafetensorsFile &file) {
  auto giga = file.metadata().find("giga");
  if (giga == file.metadata().end())
    return nlohmann::json::object();
  try {
    return nlohmann::json::parse(giga->second);
  } catch (const nlohmann::json::exception &error) {
    throw StoreError("checkpoint " + file.path() +
                     ": __metadata__.giga is not valid JSON (" + error.what() +
                     ")");
  }
}

void WeightStore::save(const std::string &path,
                       const nlohmann::json &metadata) {
  Impl &s = *impl;
  s.dropAllViews();
  std::string giga;
  try {
    giga = metadata.dump();
  } catch (const nlohmann::json::exception &error) {
    throw StoreError("cannot write checkpoint " + path +
                     ": the metadata cannot be encoded (" + error.what() + ")");
  }
  std::vector<CheckpointTensor> entries =
      checkpointTensors(s.params, s.adamw, /*withOptimizer=*/true);
  std::vector<SafetensorsTensor> tensors;
  for (const CheckpointTensor &entry : entries)
    tensors.push_back({entry.name, "F32", s.params[entry.param].shape});
  // Rank 0 writes the file; with several systems the others send it their
  // shards, a tensor at a time.
  const bool writes = s.comm->rank() == 0;
  std::optional<SafetensorsWriter> writer;
  if (writes)
    writer.emplace(path, tensors,
                   std::map<std::string, std::string>{{"giga", giga}});
  // Stream every tensor from the store; a disk store drops each chunk once
  // written, so a checkpoint never needs the model in memory.
  for (const CheckpointTensor &entry : entries) {
    const Impl::Tensor &t = s.tensor(entry.param, entry.layer);
    float *data = s.at(entry.kind, t);
    if (s.sharded())
      s.comm->gatherToRoot(data, t.elements);
    if (!writes)
      continue;
    s.forChunks(t, {entry.kind}, [&](int64_t begin, int64_t count) {
      writer->write(data + begin, size_t(count) * 4);
    });
    if (s.sharded())
      s.releaseOthersShards(entry.kind, t);
  }
  if (writes)
    writer->commit();
}

nlohmann::json WeightStore::load(const std::string &path, bool withOptimizer) {
  return load(SafetensorsFile(path), withOptimizer);
}

template <typename Read>
void WeightStore::Impl::fill(bool withOptimizer, Read read) {
  dropAllViews();
  beginRewrite();
  for (const CheckpointTensor &w :
       checkpointTensors(params, adamw, withOptimizer)) {
    const Tensor &t = tensor(w.param, w.layer);
    float *data = at(w.kind, t);
    forRange(t, shard(t), {w.kind}, [&](int64_t begin, int64_t count) {
      read(w.name, begin, data + begin, count);
    });
  }
  zeroArray(Grads);
  if (!withOptimizer)
    for (int kind = State0; kind < arrayCount; ++kind)
      zeroArray(kind);
  for (const Tensor &t : tensors)
    refreshBf16(t);
  endRewrite();
}

nlohmann::json WeightStore::load(const SafetensorsFile &file,
                                 bool withOptimizer) {
  Impl &s = *impl;
  // Everything is checked before the first byte of data is read, so a
  // rejected checkpoint leaves the store unchanged.
  nlohmann::json metadata = checkpointMetadata(file);
  checkTensors(s.params, s.adamw, file, withOptimizer);
  s.fill(withOptimizer, [&](const std::string &name, int64_t begin, float *out,
                            int64_t count) {
    file.read(name, uint64_t(begin) * 4, out, size_t(count) * 4);
  });
  return metadata;
}

void WeightStore::loadWeights(const WeightSource &source) {
  impl->fill(/*withOptimizer=*/false,
             [&](const std::string &name, int64_t begin, float *out,
                 int64_t count) { source.read(name, begin, out, count); });
}

} // namespace giga::store
