#pragma once

// The resource store: one interface, three implementations (memory, SQLite, Postgres), one
// conformance suite (tests/unit/control-plane/store/). Stores keep opaque content (canonical
// JSON text); validation happens before a write reaches them.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace braid::store {

struct Key {
  std::string type;  // resource type name, e.g. "MeshTimeout"
  std::string mesh;  // "" for global types
  std::string name;
  bool operator==(const Key&) const = default;
};

struct Record {
  Key key;
  std::string content;           // canonical JSON text of the resource's content
  int64_t version = 0;           // 1 on create, +1 on every change
  std::string creationTime;      // RFC 3339, set on create
  std::string modificationTime;  // RFC 3339, set on every change
};

enum class ErrorCode {
  kNone,
  kNotFound,
  kConflict,     // the expected version did not match (stale update, concurrent writer)
  kUnavailable,  // the backend failed (I/O, connection lost); message says why
};

struct Error {
  ErrorCode code = ErrorCode::kNone;
  std::string message;
  explicit operator bool() const { return code != ErrorCode::kNone; }
};

struct GetResult {
  std::optional<Record> record;
  Error error;
};

struct PutResult {
  Record record;         // as stored after the call
  bool created = false;  // it did not exist before
  bool changed = false;  // false when the content was identical: nothing written, same version
  Error error;
};

struct DeleteResult {
  Error error;
};

struct ListResult {
  std::vector<Record> records;  // ordered by mesh, then name
  int64_t total = 0;            // matching records in all pages
  Error error;
};

struct ListOptions {
  std::string type;
  std::optional<std::string> mesh;  // nullopt = every mesh
  int64_t offset = 0;
  int64_t limit = -1;  // -1 = no limit
};

struct ChangeEvent {
  enum class Op { kCreate, kUpdate, kDelete };
  Op op;
  Key key;
  int64_t version;   // the new version; for deletes, the last version
  int64_t sequence;  // strictly increasing per store instance: delivery order
};

using ChangeListener = std::function<void(const ChangeEvent&)>;

// Unsubscribes when destroyed.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual GetResult get(const Key& key) = 0;
  virtual ListResult list(const ListOptions& options) = 0;

  // Creates or updates. `expectedVersion`: nullopt = unconditional; 0 = must not exist yet;
  // N = must currently be at version N, else kConflict. Identical content is a no-op.
  virtual PutResult put(const Key& key, const std::string& content,
                        std::optional<int64_t> expectedVersion) = 0;

  // Deletes; kNotFound if absent, kConflict if `expectedVersion` is given and differs.
  virtual DeleteResult remove(const Key& key, std::optional<int64_t> expectedVersion) = 0;

  // Listeners get every committed change of this store instance, in commit order, on the
  // writer's thread, after the write is durable. They must not call back into the store's
  // write methods.
  virtual std::unique_ptr<Subscription> subscribe(ChangeListener listener) = 0;

  virtual std::string describe() const = 0;  // "sqlite:/path", "memory", "postgres://host/db"
};

struct OpenResult {
  std::unique_ptr<Store> store;
  std::string error;
};

// Opens "memory", "sqlite:PATH" or "postgres://…" (a libpq URI); creates or migrates the schema.
OpenResult openStore(const std::string& spec);

}  // namespace braid::store
