#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "dataplane/network/unique_fd.h"

namespace braid::dataplane::network {

// A kernel pipe used to move bytes between two sockets with splice(), without copying them
// through user space.
class Pipe {
 public:
  Pipe(UniqueFd readEnd, UniqueFd writeEnd, size_t capacity)
      : read_(std::move(readEnd)), write_(std::move(writeEnd)), capacity_(capacity) {}

  int readFd() const { return read_.get(); }
  int writeFd() const { return write_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  UniqueFd read_;
  UniqueFd write_;
  size_t capacity_;
};

// The pipes of one worker: at most `maxInUse` handed out at a time (each costs two file
// descriptors and up to `pipeSize` bytes of kernel memory), empty ones kept for reuse. Loop thread
// only.
class PipePool {
 public:
  explicit PipePool(size_t maxInUse, size_t pipeSize = 256 * 1024);

  // nullptr when the limit is reached or the system refuses a pipe.
  std::unique_ptr<Pipe> acquire();
  // Takes a pipe back; one still holding bytes is closed rather than reused.
  void release(std::unique_ptr<Pipe> pipe, bool empty);
  size_t inUse() const { return inUse_; }

 private:
  size_t maxInUse_;
  size_t pipeSize_;
  size_t inUse_ = 0;
  std::vector<std::unique_ptr<Pipe>> idle_;
};

}  // namespace braid::dataplane::network
