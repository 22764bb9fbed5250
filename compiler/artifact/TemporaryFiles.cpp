#include "compiler/artifact/TemporaryFiles.h"

#include "fathom/runtime/Error.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace fathom::artifact {
namespace {

// Fixed storage the signal handler reads without allocating. A writer claims a slot, fills in
// its path, then marks it live; the handler removes the live ones.
constexpr size_t kSlots = 16;
struct Slot {
  std::atomic<bool> claimed{false};
  std::atomic<bool> live{false};
  char path[PATH_MAX] = {};
};
std::array<Slot, kSlots> slots;
std::atomic<unsigned> counter{0};

void removeAndDie(int signal) {
  bool removed = false;
  for (Slot& slot : slots)
    if (slot.live.load(std::memory_order_acquire))
      removed = ::unlink(slot.path) == 0 || removed;
  static const char note[] = "fathom: interrupted; the unfinished artifact was removed\n";
  if (removed) {
    [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, note, sizeof note - 1);
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

int claimSlot() {
  for (size_t i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (slots[i].claimed.compare_exchange_strong(expected, true))
      return int(i);
  }
  return -1;
}

// Makes `path` the slot's live path (the handler removes it from now on).
void publish(int slot, const std::string& path) {
  if (slot < 0 || path.size() >= PATH_MAX)
    return;
  slots[size_t(slot)].live.store(false, std::memory_order_release);
  std::memcpy(slots[size_t(slot)].path, path.c_str(), path.size() + 1);
  slots[size_t(slot)].live.store(true, std::memory_order_release);
}

} // namespace

void removeTemporaryFilesOnInterrupt() {
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction action {};
    action.sa_handler = removeAndDie;
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, nullptr);
  }
}

TemporaryFile::TemporaryFile(const std::string& finalPath) : finalPath_(finalPath) {
  // The path is published to the handler before the file exists, so that no signal can arrive
  // between the two: a name taken already (a stale file of a dead process with our pid) is only
  // ever removed, never written.
  slot_ = claimSlot();
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    path_ = finalPath + ".partial." + std::to_string(::getpid()) + "." +
            std::to_string(counter.fetch_add(1));
    publish(slot_, path_);
    fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt > 1000)) {
      const int error = errno;
      release();
      throw Error(path_ + ": cannot create artifact: " + std::strerror(error));
    }
  }
  stream_ = ::fdopen(fd, "wb");
  if (!stream_) {
    const int error = errno;
    ::close(fd);
    ::unlink(path_.c_str());
    release();
    throw Error(path_ + ": cannot create artifact: " + std::strerror(error));
  }
}

TemporaryFile::~TemporaryFile() {
  if (stream_)
    std::fclose(stream_);
  if (!committed_)
    ::unlink(path_.c_str());
  release();
}

void TemporaryFile::release() {
  if (slot_ < 0)
    return;
  slots[size_t(slot_)].live.store(false, std::memory_order_release);
  slots[size_t(slot_)].claimed.store(false, std::memory_order_release);
  slot_ = -1;
}

void TemporaryFile::commit() {
  const bool flushed = std::fflush(stream_) == 0 && ::fsync(::fileno(stream_)) == 0;
  const int error = errno;
  const bool closed = std::fclose(stream_) == 0;
  stream_ = nullptr;
  if (!flushed || !closed)
    throw Error(path_ + ": cannot finish artifact: " + std::strerror(flushed ? errno : error));
  if (std::rename(path_.c_str(), finalPath_.c_str()) != 0)
    throw Error(finalPath_ +
                ": cannot move the finished artifact into place: " + std::strerror(errno));
  committed_ = true;
}

} // namespace fathom::artifact
