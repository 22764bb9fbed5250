#pragma once
// Temporary files that must not outlive the process: an artifact being written goes to a
// temporary name of its own (so that concurrent compiles to one output never share one, and a
// stale temporary of a killed run is never in the way) and is renamed into place when complete.
// SIGINT, SIGTERM and SIGHUP remove every registered temporary, then end the process as the
// signal would have; an existing artifact under the final name is never touched.
#include <cstdio>
#include <string>

namespace fathom::artifact {

// Installs the handlers (once per process; tools call it first thing in main).
void removeTemporaryFilesOnInterrupt();

// A file created exclusively as `<final>.partial.<pid>.<n>`, registered for removal on a signal.
class TemporaryFile {
public:
  // Creates the file (mode 0666 less the umask, like a plain fopen); throws fathom::Error.
  explicit TemporaryFile(const std::string& finalPath);
  ~TemporaryFile(); // removes the file unless committed
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  const std::string& path() const { return path_; }
  std::FILE* stream() const { return stream_; }
  // Flushes the file to disk, closes it and renames it to the final path (atomic on one file
  // system); throws fathom::Error.
  void commit();

private:
  void release(); // frees the signal handler's slot

  std::string path_, finalPath_;
  std::FILE* stream_ = nullptr;
  int slot_ = -1;
  bool committed_ = false;
};

} // namespace fathom::artifact
