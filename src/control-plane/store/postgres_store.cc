#include "control-plane/store/postgres_store.h"

#include <libpq-fe.h>

#include <charconv>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "control-plane/store/change_feed.h"
#include "control-plane/store/preconditions.h"

namespace braid::store {
namespace {

// Migration N (counting from 1) takes the schema from version N-1 to N. Only ever append.
const std::vector<const char*> kMigrations = {
    // 1: the resources. COLLATE "C" makes ORDER BY compare bytes, as the other stores do,
    // whatever the database's locale. The primary key is the index every get and list uses.
    R"sql(
      CREATE TABLE resources (
        type TEXT COLLATE "C" NOT NULL,
        mesh TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        version BIGINT NOT NULL,
        content TEXT NOT NULL,
        creation_time TEXT NOT NULL,
        modification_time TEXT NOT NULL,
        PRIMARY KEY (type, mesh, name)
      );
    )sql",
};

// Serializes migrations of control planes starting together on one database ("braid" in ASCII).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(423711680868)";

// A write retries while other writers keep winning the race between its read and its conditional
// statement; past this many rounds it gives up with kConflict.
constexpr int kMaxWriteRounds = 100;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;
struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

struct Statement {
  const char* name;
  const char* sql;
};

const Statement kGet{"braid_get",
                     "SELECT version, content, creation_time, modification_time FROM resources "
                     "WHERE type = $1 AND mesh = $2 AND name = $3"};
const Statement kInsert{"braid_insert",
                        "INSERT INTO resources (type, mesh, name, version, content, "
                        "creation_time, modification_time) VALUES ($1, $2, $3, 1, $4, $5, $5) "
                        "ON CONFLICT DO NOTHING"};
const Statement kUpdate{"braid_update",
                        "UPDATE resources SET version = version + 1, content = $4, "
                        "modification_time = $5 "
                        "WHERE type = $1 AND mesh = $2 AND name = $3 AND version = $6"};
const Statement kDelete{"braid_delete",
                        "DELETE FROM resources "
                        "WHERE type = $1 AND mesh = $2 AND name = $3 AND version = $4"};
const Statement kCountAll{"braid_count_all", "SELECT COUNT(*) FROM resources WHERE type = $1"};
const Statement kCountMesh{"braid_count_mesh",
                           "SELECT COUNT(*) FROM resources WHERE type = $1 AND mesh = $2"};
const Statement kListAll{"braid_list_all",
                         "SELECT mesh, name, version, content, creation_time, modification_time "
                         "FROM resources WHERE type = $1 ORDER BY mesh, name LIMIT $2 OFFSET $3"};
const Statement kListMesh{"braid_list_mesh",
                          "SELECT mesh, name, version, content, creation_time, modification_time "
                          "FROM resources WHERE type = $1 AND mesh = $2 ORDER BY name "
                          "LIMIT $3 OFFSET $4"};
const Statement* const kStatements[] = {&kGet,      &kInsert,    &kUpdate,  &kDelete,
                                        &kCountAll, &kCountMesh, &kListAll, &kListMesh};

std::string trimmed(const char* message) {
  std::string out = message ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

int64_t toInt64(const char* text) {
  int64_t value = 0;
  std::string_view view(text);
  std::from_chars(view.data(), view.data() + view.size(), value);
  return value;
}

// What one statement did. `lost`: it failed because the connection is gone.
struct Outcome {
  PgResult result;
  Error error;
  bool lost = false;

  int rows() const { return PQntuples(result.get()); }
  const char* value(int row, int column) const { return PQgetvalue(result.get(), row, column); }
  int64_t affected() const { return toInt64(PQcmdTuples(result.get())); }
};

class PostgresStore : public Store {
 public:
  explicit PostgresStore(std::string uri) : uri_(std::move(uri)) {}

  // Connects, migrates and prepares; returns why it could not.
  std::string open();

  GetResult get(const Key& key) override;
  ListResult list(const ListOptions& options) override;
  PutResult put(const Key& key, const std::string& content,
                std::optional<int64_t> expectedVersion) override;
  DeleteResult remove(const Key& key, std::optional<int64_t> expectedVersion) override;
  std::unique_ptr<Subscription> subscribe(ChangeListener listener) override {
    return feed_.subscribe(std::move(listener));
  }
  std::string describe() const override { return description_; }

 private:
  // Every *Locked method runs with mutex_ held.
  std::string connectLocked();
  std::string migrateLocked();
  // A healthy connection, made anew if the last one was lost.
  Error ensureConnectedLocked();
  Outcome runLocked(const Statement& statement, const std::vector<const char*>& params,
                    ExecStatusType expected);
  Outcome simpleLocked(const char* sql, ExecStatusType expected);
  // A read is idempotent: when the connection turns out to be lost it runs once more on a new one.
  Outcome readLocked(const Statement& statement, const std::vector<const char*>& params);
  std::optional<Record> getLocked(const Key& key, Error& error);
  ListResult listOnceLocked(const ListOptions& options, bool& lost);
  PutResult putLocked(const Key& key, const std::string& content,
                      std::optional<int64_t> expectedVersion);
  DeleteResult removeLocked(const Key& key, std::optional<int64_t> expectedVersion);
  // The error for a write whose statement failed; a lost connection leaves its outcome unknown.
  Error writeFailedLocked(Outcome& outcome, const Key& key);

  std::string uri_;
  std::string description_;
  std::mutex mutex_;
  Conn conn_;
  ChangeFeed feed_;
};

std::string PostgresStore::open() {
  std::lock_guard lock(mutex_);
  if (std::string error = connectLocked(); !error.empty()) return error;
  std::string host = trimmed(PQhost(conn_.get()));
  description_ =
      "postgres://" + host + ":" + trimmed(PQport(conn_.get())) + "/" + trimmed(PQdb(conn_.get()));
  if (std::string error = migrateLocked(); !error.empty()) return description_ + ": " + error;
  return "";
}

std::string PostgresStore::connectLocked() {
  // Defaults first, then the user's URI (expand_dbname): anything the URI sets wins. Without
  // them an unreachable database would hold every API request for minutes.
  const char* keywords[] = {
      "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "tcp_user_timeout",
      "dbname",          nullptr};
  const char* values[] = {"10", "1", "30", "10", "30000", uri_.c_str(), nullptr};
  conn_.reset(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (!conn_) return "cannot allocate a Postgres connection";
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    std::string error = "cannot connect to Postgres: " + trimmed(PQerrorMessage(conn_.get()));
    conn_.reset();
    return error;
  }
  // "relation already exists, skipping" and the like are not worth stderr.
  PQsetNoticeProcessor(
      conn_.get(),
      [](void*, const char* message) {
        log::debug("postgres notice", {{"msg", trimmed(message)}});
      },
      nullptr);
  if (PQsetClientEncoding(conn_.get(), "UTF8") != 0) {
    std::string error = "setting the client encoding: " + trimmed(PQerrorMessage(conn_.get()));
    conn_.reset();
    return error;
  }
  // Prepared statements belong to a session: every new connection prepares them again. The
  // resources table must exist first, so the very first connection prepares after migrating.
  PgResult exists(PQexec(conn_.get(), "SELECT to_regclass('resources') IS NOT NULL"));
  if (PQresultStatus(exists.get()) == PGRES_TUPLES_OK && PQntuples(exists.get()) == 1 &&
      std::string_view(PQgetvalue(exists.get(), 0, 0)) == "t") {
    for (const Statement* s : kStatements) {
      PgResult prepared(PQprepare(conn_.get(), s->name, s->sql, 0, nullptr));
      if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
        std::string error = "preparing " + std::string(s->name) + ": " +
                            trimmed(PQresultErrorMessage(prepared.get()));
        conn_.reset();
        return error;
      }
    }
  }
  return "";
}

std::string PostgresStore::migrateLocked() {
  auto run = [&](const char* sql, ExecStatusType expected, std::string& error) {
    PgResult r(PQexec(conn_.get(), sql));
    if (PQresultStatus(r.get()) == expected) return r;
    error = trimmed(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get()));
    return PgResult();
  };
  std::string error;
  auto fail = [&](const std::string& message) {
    std::string ignored;
    run("ROLLBACK", PGRES_COMMAND_OK, ignored);
    return message;
  };
  if (!run("BEGIN", PGRES_COMMAND_OK, error)) return "starting the migration: " + error;
  if (!run(kMigrationLock, PGRES_TUPLES_OK, error)) return fail("locking: " + error);
  if (!run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", PGRES_COMMAND_OK,
           error)) {
    return fail(error);
  }
  PgResult versionRow = run("SELECT version FROM schema_version", PGRES_TUPLES_OK, error);
  if (!versionRow) return fail("reading the schema version: " + error);
  int64_t current =
      PQntuples(versionRow.get()) > 0 ? toInt64(PQgetvalue(versionRow.get(), 0, 0)) : 0;
  const auto latest = static_cast<int64_t>(kMigrations.size());
  if (current > latest) {
    return fail("the database has schema version " + std::to_string(current) +
                ", newer than this braid-cp supports (" + std::to_string(latest) + ")");
  }
  for (int64_t v = current; v < latest; ++v) {
    if (!run(kMigrations[static_cast<size_t>(v)], PGRES_COMMAND_OK, error)) {
      return fail("migrating to schema version " + std::to_string(v + 1) + ": " + error);
    }
  }
  if (current != latest) {
    std::string latestText = std::to_string(latest);
    const char* params[] = {latestText.c_str()};
    if (!run("DELETE FROM schema_version", PGRES_COMMAND_OK, error)) return fail(error);
    PgResult inserted(PQexecParams(conn_.get(), "INSERT INTO schema_version VALUES ($1)", 1,
                                   nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(inserted.get()) != PGRES_COMMAND_OK) {
      return fail("recording the schema version: " + trimmed(PQresultErrorMessage(inserted.get())));
    }
  }
  if (!run("COMMIT", PGRES_COMMAND_OK, error)) return fail("committing the migration: " + error);
  if (current != latest) {
    log::info("Postgres schema migrated", {{"database", description_},
                                           {"from", std::to_string(current)},
                                           {"to", std::to_string(latest)}});
  }
  // The first connection could not prepare before the table existed: connect afresh.
  return connectLocked();
}

Error PostgresStore::ensureConnectedLocked() {
  if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) {
    // A transaction left open by a failure part-way through must not swallow the next statement.
    if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) {
      PgResult r(PQexec(conn_.get(), "ROLLBACK"));
    }
    if (PQstatus(conn_.get()) == CONNECTION_OK) return {};
  }
  if (conn_) log::warn("lost the Postgres connection; reconnecting", {{"database", description_}});
  if (std::string error = connectLocked(); !error.empty()) return unavailable(error);
  return {};
}

Outcome PostgresStore::runLocked(const Statement& statement, const std::vector<const char*>& params,
                                 ExecStatusType expected) {
  Outcome out;
  out.result.reset(PQexecPrepared(conn_.get(), statement.name, static_cast<int>(params.size()),
                                  params.data(), nullptr, nullptr, 0));
  if (out.result && PQresultStatus(out.result.get()) == expected) return out;
  out.lost = PQstatus(conn_.get()) != CONNECTION_OK;
  out.error = unavailable(
      std::string("postgres ") + statement.name + ": " +
      trimmed(out.result ? PQresultErrorMessage(out.result.get()) : PQerrorMessage(conn_.get())));
  return out;
}

Outcome PostgresStore::simpleLocked(const char* sql, ExecStatusType expected) {
  Outcome out;
  out.result.reset(PQexec(conn_.get(), sql));
  if (out.result && PQresultStatus(out.result.get()) == expected) return out;
  out.lost = PQstatus(conn_.get()) != CONNECTION_OK;
  out.error = unavailable(
      std::string("postgres ") + sql + ": " +
      trimmed(out.result ? PQresultErrorMessage(out.result.get()) : PQerrorMessage(conn_.get())));
  return out;
}

Outcome PostgresStore::readLocked(const Statement& statement,
                                  const std::vector<const char*>& params) {
  for (int attempt = 0;; ++attempt) {
    if (Error error = ensureConnectedLocked()) return Outcome{nullptr, error, true};
    Outcome out = runLocked(statement, params, PGRES_TUPLES_OK);
    if (!out.lost || attempt == 1) return out;
  }
}

std::optional<Record> PostgresStore::getLocked(const Key& key, Error& error) {
  Outcome out = readLocked(kGet, {key.type.c_str(), key.mesh.c_str(), key.name.c_str()});
  if (out.error) {
    error = out.error;
    return std::nullopt;
  }
  if (out.rows() == 0) return std::nullopt;
  return Record{key, out.value(0, 1), toInt64(out.value(0, 0)), out.value(0, 2), out.value(0, 3)};
}

GetResult PostgresStore::get(const Key& key) {
  GetResult result;
  std::lock_guard lock(mutex_);
  result.record = getLocked(key, result.error);
  return result;
}

ListResult PostgresStore::listOnceLocked(const ListOptions& options, bool& lost) {
  Page page = normalizePage(options);
  ListResult result;
  if (Error error = ensureConnectedLocked()) {
    result.error = error;
    return result;
  }
  auto fail = [&](Outcome& out) {
    lost = out.lost;
    result.error = out.error;
    result.records.clear();
    if (!lost) simpleLocked("ROLLBACK", PGRES_COMMAND_OK);
    return std::move(result);
  };
  // One snapshot for the total and the page.
  Outcome begin = simpleLocked("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK);
  if (begin.error) return fail(begin);

  Outcome count =
      options.mesh
          ? runLocked(kCountMesh, {options.type.c_str(), options.mesh->c_str()}, PGRES_TUPLES_OK)
          : runLocked(kCountAll, {options.type.c_str()}, PGRES_TUPLES_OK);
  if (count.error) return fail(count);
  result.total = toInt64(count.value(0, 0));

  std::string limit = std::to_string(page.limit);
  std::string offset = std::to_string(page.offset);
  const char* limitParam = page.limit < 0 ? nullptr : limit.c_str();  // LIMIT NULL: no limit
  Outcome rows =
      options.mesh
          ? runLocked(kListMesh,
                      {options.type.c_str(), options.mesh->c_str(), limitParam, offset.c_str()},
                      PGRES_TUPLES_OK)
          : runLocked(kListAll, {options.type.c_str(), limitParam, offset.c_str()},
                      PGRES_TUPLES_OK);
  if (rows.error) return fail(rows);
  int n = rows.rows();
  result.records.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    result.records.push_back(Record{Key{options.type, rows.value(i, 0), rows.value(i, 1)},
                                    rows.value(i, 3), toInt64(rows.value(i, 2)), rows.value(i, 4),
                                    rows.value(i, 5)});
  }
  Outcome commit = simpleLocked("COMMIT", PGRES_COMMAND_OK);
  if (commit.error) return fail(commit);
  return result;
}

ListResult PostgresStore::list(const ListOptions& options) {
  std::lock_guard lock(mutex_);
  bool lost = false;
  ListResult result = listOnceLocked(options, lost);
  if (lost) result = listOnceLocked(options, lost);
  return result;
}

Error PostgresStore::writeFailedLocked(Outcome& outcome, const Key& key) {
  if (!outcome.lost) return outcome.error;
  return unavailable("lost the Postgres connection while writing " + describeKey(key) +
                     "; the write may or may not have been applied: " + outcome.error.message);
}

PutResult PostgresStore::putLocked(const Key& key, const std::string& content,
                                   std::optional<int64_t> expectedVersion) {
  PutResult result;
  for (int round = 0; round < kMaxWriteRounds; ++round) {
    std::optional<Record> current = getLocked(key, result.error);
    if (result.error) return result;
    result.error = checkExpectedVersion(key, current ? current->version : 0, expectedVersion);
    if (result.error || (current && current->content == content)) {
      if (current) result.record = std::move(*current);
      return result;
    }
    // The statement below applies only if nobody wrote since the read; if somebody did, the next
    // round reads what they wrote and decides again (a conflict when a version was expected).
    std::string now = nowRfc3339();
    const std::vector<const char*> keyParams = {key.type.c_str(), key.mesh.c_str(),
                                                key.name.c_str(), content.c_str(), now.c_str()};
    std::string versionText;
    Outcome write;
    if (current) {
      versionText = std::to_string(current->version);
      std::vector<const char*> params = keyParams;
      params.push_back(versionText.c_str());
      write = runLocked(kUpdate, params, PGRES_COMMAND_OK);
    } else {
      write = runLocked(kInsert, keyParams, PGRES_COMMAND_OK);
    }
    if (write.error) {
      result.error = writeFailedLocked(write, key);
      return result;
    }
    if (write.affected() != 1) continue;
    result.created = !current;
    result.changed = true;
    result.record = current ? std::move(*current) : Record{key, "", 0, now, ""};
    result.record.content = content;
    result.record.version++;
    result.record.modificationTime = now;
    feed_.record(result.created ? ChangeEvent::Op::kCreate : ChangeEvent::Op::kUpdate, key,
                 result.record.version);
    return result;
  }
  result.error = Error{ErrorCode::kConflict, describeKey(key) +
                                                 " kept changing under the write; gave up after " +
                                                 std::to_string(kMaxWriteRounds) + " attempts"};
  return result;
}

PutResult PostgresStore::put(const Key& key, const std::string& content,
                             std::optional<int64_t> expectedVersion) {
  PutResult result;
  {
    std::lock_guard lock(mutex_);
    result = putLocked(key, content, expectedVersion);
  }
  if (result.changed) feed_.deliver();
  return result;
}

DeleteResult PostgresStore::removeLocked(const Key& key, std::optional<int64_t> expectedVersion) {
  DeleteResult result;
  for (int round = 0; round < kMaxWriteRounds; ++round) {
    std::optional<Record> current = getLocked(key, result.error);
    if (result.error) return result;
    if (!current) {
      result.error = notFound(key);
      return result;
    }
    result.error = checkExpectedVersion(key, current->version, expectedVersion);
    if (result.error) return result;
    std::string versionText = std::to_string(current->version);
    Outcome write = runLocked(
        kDelete, {key.type.c_str(), key.mesh.c_str(), key.name.c_str(), versionText.c_str()},
        PGRES_COMMAND_OK);
    if (write.error) {
      result.error = writeFailedLocked(write, key);
      return result;
    }
    if (write.affected() != 1) continue;  // changed since the read: decide again
    feed_.record(ChangeEvent::Op::kDelete, key, current->version);
    return result;
  }
  result.error = Error{ErrorCode::kConflict, describeKey(key) +
                                                 " kept changing under the delete; gave up after " +
                                                 std::to_string(kMaxWriteRounds) + " attempts"};
  return result;
}

DeleteResult PostgresStore::remove(const Key& key, std::optional<int64_t> expectedVersion) {
  DeleteResult result;
  {
    std::lock_guard lock(mutex_);
    result = removeLocked(key, expectedVersion);
  }
  if (!result.error) feed_.deliver();
  return result;
}

}  // namespace

OpenResult openPostgresStore(const std::string& uri) {
  auto store = std::make_unique<PostgresStore>(uri);
  if (std::string error = store->open(); !error.empty()) return {nullptr, error};
  return {std::move(store), ""};
}

int postgresSchemaVersion() { return static_cast<int>(kMigrations.size()); }

}  // namespace braid::store
