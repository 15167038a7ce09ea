#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

struct event;
struct event_base;

namespace braid::dataplane::event {

// Work an event callback schedules for the end of the current loop iteration, after every event
// that was ready has been handled (see EventLoop::defer). A Deferred must cancel itself (or be
// run) before it is destroyed.
class Deferred {
 public:
  virtual void runDeferred() = 0;

 protected:
  virtual ~Deferred() = default;

 private:
  friend class EventLoop;
  bool queued_ = false;
  size_t slot_ = 0;
};

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

  // Loop thread only. Runs `work` once at the end of this loop iteration, before the loop waits
  // again; deferring work already queued does nothing. A proxy forwards this way: every socket
  // read in one iteration first, then every write, so that one wake-up of the peer carries all
  // that is ready rather than one wake-up per read.
  void defer(Deferred& work);
  void cancel(Deferred& work);

 private:
  static void onWake(int fd, short what, void* arg);
  void runTasks();
  void runDeferredWork();

  event_base* base_ = nullptr;
  int wakeFd_ = -1;
  struct event* wakeEvent_ = nullptr;
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
  std::vector<Deferred*> deferred_;  // null where cancelled
  bool stopping_ = false;            // loop thread only
};

}  // namespace braid::dataplane::event
