#include "control-plane/store/sqlite_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "control-plane/store/change_feed.h"
#include "control-plane/store/preconditions.h"

namespace braid::store {
namespace {

// Migration N (counting from 1) takes the schema from version N-1 to N. Only ever append: a file
// records the version it reached and gets the rest of the list on its next open.
const std::vector<const char*> kMigrations = {
    // 1: the resources. The primary key is the (type, mesh, name) index every get and list uses.
    R"sql(
      CREATE TABLE resources (
        type TEXT NOT NULL,
        mesh TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        content TEXT NOT NULL,
        creation_time TEXT NOT NULL,
        modification_time TEXT NOT NULL,
        PRIMARY KEY (type, mesh, name)
      );
    )sql",
};

// How long a writer waits for another connection's write transaction (another store on the file).
constexpr int kBusyTimeoutMs = 10000;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// One use of a prepared statement: binds, steps, and resets it when the use ends (which also ends
// the read it had open, so a COMMIT after it has no statement in progress).
class Use {
 public:
  explicit Use(const Stmt& stmt) : stmt_(stmt.get()) {}
  ~Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  // The value must outlive this Use (SQLITE_STATIC: no copy).
  Use& text(int index, const std::string& value) {
    keep(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                           SQLITE_STATIC));
    return *this;
  }
  Use& integer(int index, int64_t value) {
    keep(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code (a failed bind's included).
  int step() { return bindRc_ != SQLITE_OK ? bindRc_ : sqlite3_step(stmt_); }

  std::string text(int column) const {
    const unsigned char* p = sqlite3_column_text(stmt_, column);
    int n = sqlite3_column_bytes(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : "";
  }
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  void keep(int rc) {
    if (bindRc_ == SQLITE_OK) bindRc_ = rc;
  }
  sqlite3_stmt* stmt_;
  int bindRc_ = SQLITE_OK;
};

class SqliteStore : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}

  // Opens the file, sets it up and prepares every statement; returns why it could not.
  std::string open();

  GetResult get(const Key& key) override;
  ListResult list(const ListOptions& options) override;
  PutResult put(const Key& key, const std::string& content,
                std::optional<int64_t> expectedVersion) override;
  DeleteResult remove(const Key& key, std::optional<int64_t> expectedVersion) override;
  std::unique_ptr<Subscription> subscribe(ChangeListener listener) override {
    return feed_.subscribe(std::move(listener));
  }
  std::string describe() const override { return "sqlite:" + path_; }

 private:
  std::string lastError() const { return sqlite3_errmsg(db_.get()); }
  Error failure(const std::string& what) const { return unavailable(what + ": " + lastError()); }
  bool exec(const char* sql, std::string& error);
  bool prepare(Stmt& stmt, const char* sql, std::string& error);
  std::string migrate();
  // Reads the record under `key`; the caller holds mutex_.
  std::optional<Record> readLocked(const Key& key, Error& error);
  // Ends a failed transaction, if SQLite has not already ended it.
  void rollbackLocked();

  std::string path_;
  Db db_;  // declared before the statements: they are finalized first
  std::mutex mutex_;
  Stmt begin_, beginImmediate_, commit_, rollback_;
  Stmt get_, insert_, update_, delete_;
  Stmt countAll_, countMesh_, listAll_, listMesh_;
  ChangeFeed feed_;
};

bool SqliteStore::exec(const char* sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  error = message ? message : lastError();
  sqlite3_free(message);
  return false;
}

bool SqliteStore::prepare(Stmt& stmt, const char* sql, std::string& error) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
      SQLITE_OK) {
    error = "preparing \"" + std::string(sql) + "\": " + lastError();
    return false;
  }
  stmt.reset(raw);
  return true;
}

std::string SqliteStore::open() {
  std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return "cannot create " + parent.string() + ": " + ec.message();
  }
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path_.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK) {
    return "cannot open " + path_ + ": " + (raw ? lastError() : sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);
  sqlite3_extended_result_codes(db_.get(), 1);

  std::string error;
  // WAL: readers never block the writer; synchronous=NORMAL: a commit appends to the WAL without
  // an fsync (durable across a process crash, possibly not across power loss), which is what
  // makes thousands of writes per second possible.
  Stmt journal;
  if (!prepare(journal, "PRAGMA journal_mode=WAL", error)) return error;
  {
    Use use(journal);
    if (use.step() != SQLITE_ROW) return "setting WAL mode on " + path_ + ": " + lastError();
    if (use.text(0) != "wal") {
      log::warn("SQLite store is not in WAL mode", {{"path", path_}, {"mode", use.text(0)}});
    }
  }
  journal.reset();
  if (!exec("PRAGMA synchronous=NORMAL", error)) return error;
  if (error = migrate(); !error.empty()) return path_ + ": " + error;

  const std::pair<Stmt*, const char*> statements[] = {
      {&begin_, "BEGIN"},
      {&beginImmediate_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&get_,
       "SELECT version, content, creation_time, modification_time FROM resources "
       "WHERE type = ?1 AND mesh = ?2 AND name = ?3"},
      {&insert_,
       "INSERT INTO resources (type, mesh, name, version, content, creation_time, "
       "modification_time) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)"},
      {&update_,
       "UPDATE resources SET version = version + 1, content = ?4, modification_time = ?5 "
       "WHERE type = ?1 AND mesh = ?2 AND name = ?3 AND version = ?6"},
      {&delete_, "DELETE FROM resources WHERE type = ?1 AND mesh = ?2 AND name = ?3"},
      {&countAll_, "SELECT COUNT(*) FROM resources WHERE type = ?1"},
      {&countMesh_, "SELECT COUNT(*) FROM resources WHERE type = ?1 AND mesh = ?2"},
      {&listAll_,
       "SELECT mesh, name, version, content, creation_time, modification_time FROM resources "
       "WHERE type = ?1 ORDER BY mesh, name LIMIT ?2 OFFSET ?3"},
      {&listMesh_,
       "SELECT mesh, name, version, content, creation_time, modification_time FROM resources "
       "WHERE type = ?1 AND mesh = ?2 ORDER BY name LIMIT ?3 OFFSET ?4"},
  };
  for (const auto& [stmt, sql] : statements) {
    if (!prepare(*stmt, sql, error)) return error;
  }
  return "";
}

std::string SqliteStore::migrate() {
  std::string error;
  // IMMEDIATE: two processes opening one new file migrate one after the other.
  if (!exec("BEGIN IMMEDIATE", error)) return "starting the migration: " + error;
  auto fail = [&](std::string message) {
    exec("ROLLBACK", error);
    return message;
  };
  if (!exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", error)) {
    return fail(error);
  }
  int64_t current = 0;
  {
    Stmt select;
    if (!prepare(select, "SELECT version FROM schema_version", error)) return fail(error);
    Use use(select);
    int rc = use.step();
    if (rc == SQLITE_ROW) {
      current = use.integer(0);
    } else if (rc != SQLITE_DONE) {
      return fail("reading the schema version: " + lastError());
    }
  }
  const auto latest = static_cast<int64_t>(kMigrations.size());
  if (current > latest) {
    return fail("the database has schema version " + std::to_string(current) +
                ", newer than this braid-cp supports (" + std::to_string(latest) + ")");
  }
  for (int64_t v = current; v < latest; ++v) {
    if (!exec(kMigrations[static_cast<size_t>(v)], error)) {
      return fail("migrating to schema version " + std::to_string(v + 1) + ": " + error);
    }
  }
  if (current != latest) {
    std::string set = "DELETE FROM schema_version; INSERT INTO schema_version VALUES (" +
                      std::to_string(latest) + ");";
    if (!exec(set.c_str(), error)) return fail("recording the schema version: " + error);
  }
  if (!exec("COMMIT", error)) return fail("committing the migration: " + error);
  if (current != latest) {
    log::info("SQLite schema migrated",
              {{"path", path_}, {"from", std::to_string(current)}, {"to", std::to_string(latest)}});
  }
  return "";
}

std::optional<Record> SqliteStore::readLocked(const Key& key, Error& error) {
  Use use(get_);
  int rc = use.text(1, key.type).text(2, key.mesh).text(3, key.name).step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) {
    error = failure("reading " + describeKey(key));
    return std::nullopt;
  }
  return Record{key, use.text(1), use.integer(0), use.text(2), use.text(3)};
}

void SqliteStore::rollbackLocked() {
  if (!sqlite3_get_autocommit(db_.get())) Use(rollback_).step();
}

GetResult SqliteStore::get(const Key& key) {
  GetResult result;
  std::lock_guard lock(mutex_);
  result.record = readLocked(key, result.error);
  return result;
}

ListResult SqliteStore::list(const ListOptions& options) {
  Page page = normalizePage(options);
  ListResult result;
  std::lock_guard lock(mutex_);
  // One read transaction: the total and the page come from the same snapshot.
  if (Use(begin_).step() != SQLITE_DONE) {
    result.error = failure("starting a read");
    return result;
  }
  auto fail = [&](const std::string& what) {
    result.error = failure(what);
    result.records.clear();
    rollbackLocked();
    return result;
  };
  {
    Use count(options.mesh ? countMesh_ : countAll_);
    count.text(1, options.type);
    if (options.mesh) count.text(2, *options.mesh);
    if (count.step() != SQLITE_ROW) return fail("counting " + options.type);
    result.total = count.integer(0);
  }
  {
    Use rows(options.mesh ? listMesh_ : listAll_);
    rows.text(1, options.type);
    if (options.mesh) {
      rows.text(2, *options.mesh).integer(3, page.limit).integer(4, page.offset);
    } else {
      rows.integer(2, page.limit).integer(3, page.offset);
    }
    if (page.limit >= 0) result.records.reserve(static_cast<size_t>(page.limit));
    int rc;
    while ((rc = rows.step()) == SQLITE_ROW) {
      result.records.push_back(Record{Key{options.type, rows.text(0), rows.text(1)}, rows.text(3),
                                      rows.integer(2), rows.text(4), rows.text(5)});
    }
    if (rc != SQLITE_DONE) return fail("listing " + options.type);
  }
  if (Use(commit_).step() != SQLITE_DONE) return fail("ending a read");
  return result;
}

PutResult SqliteStore::put(const Key& key, const std::string& content,
                           std::optional<int64_t> expectedVersion) {
  PutResult result;
  {
    std::lock_guard lock(mutex_);
    // IMMEDIATE takes the write lock before the read, so the version checked is the version
    // replaced, whoever else writes to the file.
    if (Use(beginImmediate_).step() != SQLITE_DONE) {
      result.error = failure("starting a write");
      return result;
    }
    std::optional<Record> current = readLocked(key, result.error);
    if (!result.error) {
      result.error = checkExpectedVersion(key, current ? current->version : 0, expectedVersion);
    }
    if (result.error || (current && current->content == content)) {
      rollbackLocked();
      if (current) result.record = std::move(*current);
      return result;
    }
    std::string now = nowRfc3339();
    Record record = current ? *current : Record{key, "", 0, now, ""};
    record.content = content;
    record.version++;
    record.modificationTime = now;
    int rc;
    if (current) {
      rc = Use(update_)
               .text(1, key.type)
               .text(2, key.mesh)
               .text(3, key.name)
               .text(4, content)
               .text(5, now)
               .integer(6, current->version)
               .step();
    } else {
      rc = Use(insert_)
               .text(1, key.type)
               .text(2, key.mesh)
               .text(3, key.name)
               .text(4, content)
               .text(5, now)
               .step();
    }
    if (rc != SQLITE_DONE || sqlite3_changes(db_.get()) != 1) {
      result.error = failure("writing " + describeKey(key));
      rollbackLocked();
      return result;
    }
    if (Use(commit_).step() != SQLITE_DONE) {
      result.error = failure("committing " + describeKey(key));
      rollbackLocked();
      return result;
    }
    result.created = !current;
    result.changed = true;
    feed_.record(current ? ChangeEvent::Op::kUpdate : ChangeEvent::Op::kCreate, key,
                 record.version);
    result.record = std::move(record);
  }
  feed_.deliver();
  return result;
}

DeleteResult SqliteStore::remove(const Key& key, std::optional<int64_t> expectedVersion) {
  DeleteResult result;
  {
    std::lock_guard lock(mutex_);
    if (Use(beginImmediate_).step() != SQLITE_DONE) {
      result.error = failure("starting a write");
      return result;
    }
    std::optional<Record> current = readLocked(key, result.error);
    if (!result.error && !current) result.error = notFound(key);
    if (!result.error) result.error = checkExpectedVersion(key, current->version, expectedVersion);
    if (result.error) {
      rollbackLocked();
      return result;
    }
    int rc = Use(delete_).text(1, key.type).text(2, key.mesh).text(3, key.name).step();
    if (rc != SQLITE_DONE || sqlite3_changes(db_.get()) != 1) {
      result.error = failure("deleting " + describeKey(key));
      rollbackLocked();
      return result;
    }
    if (Use(commit_).step() != SQLITE_DONE) {
      result.error = failure("committing the deletion of " + describeKey(key));
      rollbackLocked();
      return result;
    }
    feed_.record(ChangeEvent::Op::kDelete, key, current->version);
  }
  feed_.deliver();
  return result;
}

}  // namespace

OpenResult openSqliteStore(const std::string& path) {
  if (path.empty()) return {nullptr, "sqlite: needs a file path (sqlite:PATH)"};
  auto store = std::make_unique<SqliteStore>(path);
  if (std::string error = store->open(); !error.empty()) return {nullptr, error};
  return {std::move(store), ""};
}

int sqliteSchemaVersion() { return static_cast<int>(kMigrations.size()); }

}  // namespace braid::store
