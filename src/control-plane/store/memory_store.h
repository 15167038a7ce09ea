#pragma once

// The in-memory store: for tests and throwaway control planes; nothing survives the process.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "control-plane/store/change_feed.h"
#include "control-plane/store/store.h"

namespace braid::store {

class MemoryStore : public Store {
 public:
  GetResult get(const Key& key) override;
  ListResult list(const ListOptions& options) override;
  PutResult put(const Key& key, const std::string& content,
                std::optional<int64_t> expectedVersion) override;
  DeleteResult remove(const Key& key, std::optional<int64_t> expectedVersion) override;
  std::unique_ptr<Subscription> subscribe(ChangeListener listener) override;
  std::string describe() const override { return "memory"; }

 private:
  // Ordered by type, mesh, name: a list is one range of the map, already in the promised order.
  using MapKey = std::tuple<std::string, std::string, std::string>;

  std::mutex mutex_;
  std::map<MapKey, Record> records_;
  ChangeFeed feed_;
};

}  // namespace braid::store
