#include "control-plane/store/memory_store.h"

#include "common/clock.h"
#include "control-plane/store/preconditions.h"

namespace braid::store {

GetResult MemoryStore::get(const Key& key) {
  std::lock_guard lock(mutex_);
  GetResult result;
  auto it = records_.find(MapKey{key.type, key.mesh, key.name});
  if (it != records_.end()) result.record = it->second;
  return result;
}

ListResult MemoryStore::list(const ListOptions& options) {
  Page page = normalizePage(options);
  ListResult result;
  std::lock_guard lock(mutex_);
  auto it = records_.lower_bound(MapKey{options.type, options.mesh.value_or(""), ""});
  for (; it != records_.end(); ++it) {
    const Key& k = it->second.key;
    if (k.type != options.type || (options.mesh && k.mesh != *options.mesh)) break;
    int64_t index = result.total++;
    if (index >= page.offset && (page.limit < 0 || index < page.offset + page.limit)) {
      result.records.push_back(it->second);
    }
  }
  return result;
}

PutResult MemoryStore::put(const Key& key, const std::string& content,
                           std::optional<int64_t> expectedVersion) {
  PutResult result;
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = records_.try_emplace(MapKey{key.type, key.mesh, key.name});
    Record& record = it->second;
    result.error = checkExpectedVersion(key, inserted ? 0 : record.version, expectedVersion);
    if (result.error || (!inserted && record.content == content)) {
      if (inserted) {
        records_.erase(it);
      } else {
        result.record = record;
      }
      return result;
    }
    std::string now = nowRfc3339();
    if (inserted) {
      record.key = key;
      record.creationTime = now;
    }
    record.content = content;
    record.version++;
    record.modificationTime = now;
    result.record = record;
    result.created = inserted;
    result.changed = true;
    feed_.record(inserted ? ChangeEvent::Op::kCreate : ChangeEvent::Op::kUpdate, key,
                 record.version);
  }
  feed_.deliver();
  return result;
}

DeleteResult MemoryStore::remove(const Key& key, std::optional<int64_t> expectedVersion) {
  DeleteResult result;
  {
    std::lock_guard lock(mutex_);
    auto it = records_.find(MapKey{key.type, key.mesh, key.name});
    if (it == records_.end()) {
      result.error = notFound(key);
      return result;
    }
    int64_t version = it->second.version;
    result.error = checkExpectedVersion(key, version, expectedVersion);
    if (result.error) return result;
    records_.erase(it);
    feed_.record(ChangeEvent::Op::kDelete, key, version);
  }
  feed_.deliver();
  return result;
}

std::unique_ptr<Subscription> MemoryStore::subscribe(ChangeListener listener) {
  return feed_.subscribe(std::move(listener));
}

}  // namespace braid::store
