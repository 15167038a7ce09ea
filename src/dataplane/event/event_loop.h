#pragma once

#include <functional>
#include <mutex>
#include <vector>

struct event;
struct event_base;

namespace braid::dataplane::event {

// One libevent event_base with a thread-safe task queue. The loop runs on one thread (run());
// other threads hand it work with post(). libevent's own threading (evthread) stays off, so event
// operations on the loop thread take no locks; cross-thread wake-ups go through an eventfd.
class EventLoop {
 public:
  EventLoop();  // throws std::runtime_error when libevent or the eventfd cannot be set up
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() const { return base_; }

  // Dispatches events until stop(); tasks posted before stop() run first.
  void run();
  // Thread-safe.
  void stop();
  // Thread-safe: runs `task` on the loop thread, in posting order.
  void post(std::function<void()> task);

 private:
  static void onWake(int fd, short what, void* arg);
  void runTasks();

  event_base* base_ = nullptr;
  int wakeFd_ = -1;
  struct event* wakeEvent_ = nullptr;
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
};

}  // namespace braid::dataplane::event
