#include "dataplane/event/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "dataplane/event/timer.h"

namespace braid::dataplane::event {
namespace {

using namespace std::chrono_literals;

TEST(EventLoopTest, RunsPostedTasksInOrderOnTheLoopThread) {
  EventLoop loop;
  std::thread thread([&] { loop.run(); });
  std::vector<int> order;
  std::promise<std::thread::id> ran;
  for (int i = 0; i < 100; ++i) loop.post([&order, i] { order.push_back(i); });
  loop.post([&] { ran.set_value(std::this_thread::get_id()); });
  EXPECT_EQ(ran.get_future().get(), thread.get_id());
  loop.stop();
  thread.join();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
}

TEST(EventLoopTest, TasksPostedFromManyThreadsAllRun) {
  EventLoop loop;
  std::thread thread([&] { loop.run(); });
  std::atomic<int> count{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < 500; ++i) loop.post([&] { ++count; });
    });
  }
  for (auto& poster : posters) poster.join();
  loop.stop();  // runs after every task posted before it
  thread.join();
  EXPECT_EQ(count.load(), 2000);
}

TEST(EventLoopTest, TimerFiresAndCanRearmItself) {
  EventLoop loop;
  int fired = 0;
  std::unique_ptr<Timer> timer;
  timer = std::make_unique<Timer>(loop.base(), [&] {
    if (++fired < 3) {
      timer->schedule(10ms);
    } else {
      loop.stop();
    }
  });
  timer->schedule(10ms);
  auto began = std::chrono::steady_clock::now();
  loop.run();
  EXPECT_EQ(fired, 3);
  EXPECT_GE(std::chrono::steady_clock::now() - began, 25ms);
}

TEST(EventLoopTest, CancelledTimerDoesNotFire) {
  EventLoop loop;
  bool fired = false;
  Timer timer(loop.base(), [&] { fired = true; });
  timer.schedule(10ms);
  timer.cancel();
  Timer stopper(loop.base(), [&] { loop.stop(); });
  stopper.schedule(50ms);
  loop.run();
  EXPECT_FALSE(fired);
}

}  // namespace
}  // namespace braid::dataplane::event
