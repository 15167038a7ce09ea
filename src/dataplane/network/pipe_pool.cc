#include "dataplane/network/pipe_pool.h"

#include <fcntl.h>
#include <unistd.h>

namespace braid::dataplane::network {
namespace {

// Idle pipes kept for the next bulk transfer.
constexpr size_t kMaxIdle = 16;

}  // namespace

PipePool::PipePool(size_t maxInUse, size_t pipeSize) : maxInUse_(maxInUse), pipeSize_(pipeSize) {}

std::unique_ptr<Pipe> PipePool::acquire() {
  if (inUse_ >= maxInUse_) return nullptr;
  std::unique_ptr<Pipe> pipe;
  if (!idle_.empty()) {
    pipe = std::move(idle_.back());
    idle_.pop_back();
  } else {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return nullptr;
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    // A bigger pipe holds more of a bulk transfer per splice; when the per-user pipe budget
    // refuses it, the default size still works.
    ::fcntl(writeEnd.get(), F_SETPIPE_SZ, static_cast<int>(pipeSize_));
    int capacity = ::fcntl(writeEnd.get(), F_GETPIPE_SZ);
    if (capacity <= 0) return nullptr;
    pipe = std::make_unique<Pipe>(std::move(readEnd), std::move(writeEnd),
                                  static_cast<size_t>(capacity));
  }
  ++inUse_;
  return pipe;
}

void PipePool::release(std::unique_ptr<Pipe> pipe, bool empty) {
  if (!pipe) return;
  --inUse_;
  if (empty && idle_.size() < kMaxIdle) idle_.push_back(std::move(pipe));
}

}  // namespace braid::dataplane::network
