#include "control-plane/store/change_feed.h"

#include <atomic>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "common/log.h"

namespace braid::store {

struct ChangeFeed::State {
  std::mutex queueMutex;
  std::deque<ChangeEvent> pending;
  int64_t nextSequence = 1;

  // Held by the one thread delivering; `deliverer` names it so that calls made from inside a
  // listener (re-entrant deliver, unsubscribing) do not wait on themselves.
  std::mutex deliveryMutex;
  std::atomic<std::thread::id> deliverer;

  std::mutex subscribersMutex;
  std::map<uint64_t, std::shared_ptr<ChangeListener>> subscribers;
  uint64_t nextSubscriberId = 1;
};

namespace {

class FeedSubscription : public Subscription {
 public:
  FeedSubscription(std::weak_ptr<ChangeFeed::State> state, uint64_t id)
      : state_(std::move(state)), id_(id) {}

  ~FeedSubscription() override {
    auto state = state_.lock();
    if (!state) return;
    {
      std::lock_guard lock(state->subscribersMutex);
      state->subscribers.erase(id_);
    }
    // Once erased no new call can start; a call already running holds deliveryMutex.
    if (state->deliverer.load() != std::this_thread::get_id()) {
      std::lock_guard wait(state->deliveryMutex);
    }
  }

 private:
  std::weak_ptr<ChangeFeed::State> state_;
  uint64_t id_;
};

}  // namespace

ChangeFeed::ChangeFeed() : state_(std::make_shared<State>()) {}
ChangeFeed::~ChangeFeed() = default;

void ChangeFeed::record(ChangeEvent::Op op, const Key& key, int64_t version) {
  std::lock_guard lock(state_->queueMutex);
  state_->pending.push_back(ChangeEvent{op, key, version, state_->nextSequence++});
}

void ChangeFeed::deliver() {
  State& s = *state_;
  if (s.deliverer.load() == std::this_thread::get_id()) return;  // the outer loop delivers it
  std::lock_guard delivering(s.deliveryMutex);
  s.deliverer.store(std::this_thread::get_id());
  struct Reset {
    State& s;
    ~Reset() { s.deliverer.store(std::thread::id()); }
  } reset{s};

  for (;;) {
    ChangeEvent event;
    {
      std::lock_guard lock(s.queueMutex);
      if (s.pending.empty()) return;
      event = std::move(s.pending.front());
      s.pending.pop_front();
    }
    // Look each listener up afresh so one unsubscribed by an earlier listener is not called.
    uint64_t after = 0;
    for (;;) {
      std::shared_ptr<ChangeListener> listener;
      {
        std::lock_guard lock(s.subscribersMutex);
        auto it = s.subscribers.upper_bound(after);
        if (it == s.subscribers.end()) break;
        after = it->first;
        listener = it->second;
      }
      // The write is committed whatever a listener does; one that throws must not stop the rest.
      try {
        (*listener)(event);
      } catch (const std::exception& e) {
        log::error("store change listener threw", {{"error", e.what()}});
      } catch (...) {
        log::error("store change listener threw a non-exception");
      }
    }
  }
}

std::unique_ptr<Subscription> ChangeFeed::subscribe(ChangeListener listener) {
  std::lock_guard lock(state_->subscribersMutex);
  uint64_t id = state_->nextSubscriberId++;
  state_->subscribers.emplace(id, std::make_shared<ChangeListener>(std::move(listener)));
  return std::make_unique<FeedSubscription>(state_, id);
}

}  // namespace braid::store
