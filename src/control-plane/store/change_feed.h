#pragma once

// The change feed every store shares: it numbers committed changes and hands them to subscribers
// in commit order.
//
// A store calls record() while it still holds the lock that orders its writes (so sequence numbers
// follow commit order) and deliver() after releasing it (so listeners may read from the store
// without deadlocking). One thread delivers at a time, in sequence order; a writer whose deliver()
// returns knows that its own change, and every earlier one, has reached every listener.

#include <cstdint>
#include <memory>

#include "control-plane/store/store.h"

namespace braid::store {

class ChangeFeed {
 public:
  ChangeFeed();
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Queues a committed change and gives it the next sequence number.
  void record(ChangeEvent::Op op, const Key& key, int64_t version);

  // Delivers every queued change. A listener's own writes (forbidden by the Store contract, but
  // harmless here) are queued and delivered by the same loop rather than deadlocking.
  void deliver();

  // The listener is called on a writer's thread. Destroying the Subscription unsubscribes and
  // waits for a call in progress on another thread to return, so a listener never runs after
  // its Subscription is gone; do not destroy it while holding a lock the listener takes. It may
  // outlive the feed.
  std::unique_ptr<Subscription> subscribe(ChangeListener listener);

  struct State;  // shared with the subscriptions, which may outlive the feed

 private:
  std::shared_ptr<State> state_;
};

}  // namespace braid::store
