#include "dataplane/event/event_loop.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

namespace braid::dataplane::event {

EventLoop::EventLoop() {
  event_config* config = event_config_new();
  if (config == nullptr) throw std::runtime_error("event_config_new failed");
  // One thread per base: no locks. The changelist folds an enable and a disable of the same
  // event within one loop iteration into no epoll_ctl at all.
  event_config_set_flag(config, EVENT_BASE_FLAG_NOLOCK);
  event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  base_ = event_base_new_with_config(config);
  event_config_free(config);
  if (base_ == nullptr) throw std::runtime_error("event_base_new failed");
  wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakeFd_ < 0) {
    event_base_free(base_);
    throw std::runtime_error("eventfd failed");
  }
  wakeEvent_ = event_new(base_, wakeFd_, EV_READ | EV_PERSIST, &EventLoop::onWake, this);
  if (wakeEvent_ == nullptr || event_add(wakeEvent_, nullptr) != 0) {
    if (wakeEvent_ != nullptr) event_free(wakeEvent_);
    ::close(wakeFd_);
    event_base_free(base_);
    throw std::runtime_error("cannot register the loop's wake-up event");
  }
}

EventLoop::~EventLoop() {
  event_free(wakeEvent_);
  ::close(wakeFd_);
  event_base_free(base_);
}

void EventLoop::run() { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); }

void EventLoop::stop() {
  post([this] { event_base_loopbreak(base_); });
}

void EventLoop::post(std::function<void()> task) {
  bool wasEmpty;
  {
    std::lock_guard lock(mutex_);
    wasEmpty = tasks_.empty();
    tasks_.push_back(std::move(task));
  }
  // One wake-up per batch: the loop drains the whole queue when it wakes.
  if (wasEmpty) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakeFd_, &one, sizeof(one));
  }
}

void EventLoop::onWake(int fd, short, void* arg) {
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(fd, &count, sizeof(count));
  static_cast<EventLoop*>(arg)->runTasks();
}

void EventLoop::runTasks() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(tasks_);
  }
  for (auto& task : batch) task();
}

}  // namespace braid::dataplane::event
