// One conformance suite for every store: memory, SQLite (a temp file) and Postgres (the server
// named by BRAID_TEST_POSTGRES_URI, as tests/support/postgres starts it; each test gets its own
// schema). Without that variable the Postgres tests fail when CI or BRAID_REQUIRE_POSTGRES=1 is
// set, and are skipped (saying why) otherwise.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "control-plane/store/postgres_store.h"
#include "control-plane/store/sqlite_store.h"
#include "control-plane/store/store.h"

namespace braid::store {
namespace {

using Op = ChangeEvent::Op;
using Clock = std::chrono::steady_clock;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// Postgres is not optional where the tests are meant to be complete.
bool postgresRequired() { return !env("CI").empty() || env("BRAID_REQUIRE_POSTGRES") == "1"; }

constexpr const char* kNoPostgres =
    "BRAID_TEST_POSTGRES_URI is unset, so the Postgres store is not tested. Start a server with "
    "`eval \"$(tests/support/postgres start)\"` (scripts/test does).";

std::string randomSuffix() {
  std::random_device rd;
  std::mt19937_64 gen(rd() ^ static_cast<uint64_t>(getpid()));
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

std::string errorText(const Error& e) {
  static const char* names[] = {"none", "not found", "conflict", "unavailable"};
  return std::string(names[static_cast<int>(e.code)]) + ": " + e.message;
}

::testing::AssertionResult ok(const Error& e) {
  if (!e) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << errorText(e);
}

// "2026-11-21T21:38:41.123Z": a date, "T", a time, optional fraction, "Z" or an offset.
bool isRfc3339(const std::string& t) {
  auto digits = [&](size_t from, size_t n) {
    if (from + n > t.size()) return false;
    return std::all_of(t.begin() + static_cast<long>(from), t.begin() + static_cast<long>(from + n),
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  if (t.size() < 20 || !digits(0, 4) || t[4] != '-' || !digits(5, 2) || t[7] != '-' ||
      !digits(8, 2) || t[10] != 'T' || !digits(11, 2) || t[13] != ':' || !digits(14, 2) ||
      t[16] != ':' || !digits(17, 2)) {
    return false;
  }
  size_t i = 19;
  if (t[i] == '.') {
    size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i < t.size() && t[i] == 'Z') return i + 1 == t.size();
  return i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && digits(i + 1, 2) && t[i + 3] == ':' &&
         digits(i + 4, 2);
}

void expectSameRecord(const Record& got, const Record& want) {
  EXPECT_EQ(got.key, want.key);
  EXPECT_EQ(got.content, want.content);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.creationTime, want.creationTime);
  EXPECT_EQ(got.modificationTime, want.modificationTime);
}

// A side connection to the test Postgres, for setting up schemas and poking at the database.
class PgAdmin {
 public:
  explicit PgAdmin(const std::string& uri) : conn_(PQconnectdb(uri.c_str())) {}
  ~PgAdmin() { PQfinish(conn_); }
  PgAdmin(const PgAdmin&) = delete;
  PgAdmin& operator=(const PgAdmin&) = delete;

  std::string error() const {
    return PQstatus(conn_) == CONNECTION_OK ? "" : PQerrorMessage(conn_);
  }
  // Runs SQL the test wrote itself; returns the first value of the first row, or "".
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string out;
    auto status = PQresultStatus(r);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(r);
    if (status == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    PQclear(r);
    return out;
  }

 private:
  PGconn* conn_;
};

// `uri` with one more query parameter.
std::string withParam(const std::string& uri, const std::string& param) {
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + param;
}

// Where one test's store lives: memory, a fresh SQLite file, or a fresh Postgres schema.
class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string& backend = GetParam();
    if (backend == "memory") {
      spec_ = "memory";
    } else if (backend == "sqlite") {
      char dirTemplate[] = "/tmp/braid-store-test-XXXXXX";
      ASSERT_NE(mkdtemp(dirTemplate), nullptr);
      dir_ = dirTemplate;
      sqlitePath_ = dir_ + "/nested/dir/braid.db";  // the store creates the parent directories
      spec_ = "sqlite:" + sqlitePath_;
    } else {
      std::string uri = env("BRAID_TEST_POSTGRES_URI");
      if (uri.empty()) {
        if (postgresRequired()) FAIL() << kNoPostgres << " CI/BRAID_REQUIRE_POSTGRES demand it.";
        GTEST_SKIP() << kNoPostgres;
      }
      pgAdmin_ = std::make_unique<PgAdmin>(uri);
      ASSERT_EQ(pgAdmin_->error(), "") << "cannot reach the test Postgres at " << uri;
      schema_ = "braid_test_" + randomSuffix();
      pgAdmin_->exec("CREATE SCHEMA " + schema_);
      pgAdmin_->exec("SET search_path TO " + schema_);
      spec_ = withParam(uri, "options=-csearch_path%3D" + schema_);
    }
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    store_.reset();
    if (!schema_.empty()) pgAdmin_->exec("DROP SCHEMA " + schema_ + " CASCADE");
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  bool persistent() const { return GetParam() != "memory"; }

  // Another store over this test's data (a new, empty one for memory).
  std::unique_ptr<Store> open() {
    OpenResult r = openStore(spec_);
    EXPECT_NE(r.store, nullptr) << spec_ << ": " << r.error;
    EXPECT_EQ(r.error, "");
    return std::move(r.store);
  }

  // Runs SQL on the database under a persistent store; returns the first value it selects.
  std::string rawSql(const std::string& sql) {
    if (pgAdmin_) return pgAdmin_->exec(sql);
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(sqlitePath_.c_str(), &db), SQLITE_OK);
    std::string out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    int rc = sqlite3_step(stmt);
    EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db);
    if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  PutResult put(const Key& key, const std::string& content,
                std::optional<int64_t> expected = std::nullopt) {
    return store_->put(key, content, expected);
  }

  std::string spec_;
  std::string dir_;
  std::string sqlitePath_;
  std::string schema_;
  std::unique_ptr<PgAdmin> pgAdmin_;
  std::unique_ptr<Store> store_;
};

Key timeout(const std::string& name, const std::string& mesh = "default") {
  return Key{"MeshTimeout", mesh, name};
}

TEST_P(StoreConformance, CreateGetUpdateDelete) {
  Key key = timeout("t1");
  PutResult created = put(key, R"({"a":1})");
  ASSERT_TRUE(ok(created.error));
  EXPECT_TRUE(created.created);
  EXPECT_TRUE(created.changed);
  EXPECT_EQ(created.record.key, key);
  EXPECT_EQ(created.record.content, R"({"a":1})");
  EXPECT_EQ(created.record.version, 1);
  EXPECT_TRUE(isRfc3339(created.record.creationTime)) << created.record.creationTime;
  EXPECT_FALSE(isRfc3339("2026-11-21 21:38:41Z"));  // the checker itself can say no
  EXPECT_FALSE(isRfc3339("2026-11-21T21:38:41.Z"));
  EXPECT_EQ(created.record.modificationTime, created.record.creationTime);

  GetResult got = store_->get(key);
  ASSERT_TRUE(ok(got.error));
  ASSERT_TRUE(got.record.has_value());
  expectSameRecord(*got.record, created.record);

  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a later modificationTime
  PutResult updated = put(key, R"({"a":2})");
  ASSERT_TRUE(ok(updated.error));
  EXPECT_FALSE(updated.created);
  EXPECT_TRUE(updated.changed);
  EXPECT_EQ(updated.record.version, 2);
  EXPECT_EQ(updated.record.content, R"({"a":2})");
  EXPECT_EQ(updated.record.creationTime, created.record.creationTime);
  EXPECT_TRUE(isRfc3339(updated.record.modificationTime));
  EXPECT_GT(updated.record.modificationTime, created.record.modificationTime);
  got = store_->get(key);
  ASSERT_TRUE(got.record.has_value());
  expectSameRecord(*got.record, updated.record);

  EXPECT_TRUE(ok(store_->remove(key, std::nullopt).error));
  got = store_->get(key);
  EXPECT_TRUE(ok(got.error));
  EXPECT_FALSE(got.record.has_value());
  EXPECT_EQ(store_->remove(key, std::nullopt).error.code, ErrorCode::kNotFound);

  // Created again, it starts over.
  PutResult again = put(key, R"({"a":3})");
  ASSERT_TRUE(ok(again.error));
  EXPECT_TRUE(again.created);
  EXPECT_EQ(again.record.version, 1);
}

TEST_P(StoreConformance, MissingRecords) {
  Key key = timeout("absent");
  GetResult got = store_->get(key);
  EXPECT_TRUE(ok(got.error));  // absence is not an error for get
  EXPECT_FALSE(got.record.has_value());
  DeleteResult removed = store_->remove(key, std::nullopt);
  EXPECT_EQ(removed.error.code, ErrorCode::kNotFound);
  EXPECT_NE(removed.error.message.find("absent"), std::string::npos) << removed.error.message;
  EXPECT_EQ(store_->remove(key, 1).error.code, ErrorCode::kNotFound);
  // Updating a version of something that does not exist is a conflict, and creates nothing.
  EXPECT_EQ(put(key, "{}", 3).error.code, ErrorCode::kConflict);
  EXPECT_FALSE(store_->get(key).record.has_value());
}

TEST_P(StoreConformance, ExpectedVersions) {
  Key key = timeout("v");
  PutResult first = put(key, R"({"v":1})", 0);  // 0: must not exist yet
  ASSERT_TRUE(ok(first.error));
  EXPECT_EQ(first.record.version, 1);

  PutResult exists = put(key, R"({"v":"dup"})", 0);
  EXPECT_EQ(exists.error.code, ErrorCode::kConflict);
  EXPECT_NE(exists.error.message.find("already exists"), std::string::npos);

  EXPECT_EQ(put(key, R"({"v":"x"})", 5).error.code, ErrorCode::kConflict);  // not at 5

  PutResult second = put(key, R"({"v":2})", 1);
  ASSERT_TRUE(ok(second.error));
  EXPECT_EQ(second.record.version, 2);

  PutResult stale = put(key, R"({"v":"stale"})", 1);  // someone else got version 2 first
  EXPECT_EQ(stale.error.code, ErrorCode::kConflict);
  EXPECT_FALSE(stale.changed);

  GetResult got = store_->get(key);
  ASSERT_TRUE(got.record.has_value());
  EXPECT_EQ(got.record->version, 2);
  EXPECT_EQ(got.record->content, R"({"v":2})");  // no failed write left a trace

  EXPECT_EQ(store_->remove(key, 1).error.code, ErrorCode::kConflict);
  EXPECT_EQ(store_->remove(key, 0).error.code, ErrorCode::kConflict);
  EXPECT_TRUE(store_->get(key).record.has_value());
  EXPECT_TRUE(ok(store_->remove(key, 2).error));
  EXPECT_FALSE(store_->get(key).record.has_value());
}

TEST_P(StoreConformance, IdenticalPutIsANoOp) {
  Key key = timeout("same");
  PutResult first = put(key, R"({"x":true})");
  ASSERT_TRUE(ok(first.error));
  int events = 0;
  auto sub = store_->subscribe([&](const ChangeEvent&) { ++events; });

  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (std::optional<int64_t> expected : {std::optional<int64_t>(), std::optional<int64_t>(1)}) {
    PutResult same = put(key, R"({"x":true})", expected);
    ASSERT_TRUE(ok(same.error));
    EXPECT_FALSE(same.created);
    EXPECT_FALSE(same.changed);
    expectSameRecord(same.record, first.record);  // same version, same modificationTime
  }
  // A failed precondition is still a conflict, identical content or not.
  EXPECT_EQ(put(key, R"({"x":true})", 0).error.code, ErrorCode::kConflict);
  EXPECT_EQ(put(key, R"({"x":true})", 7).error.code, ErrorCode::kConflict);
  EXPECT_EQ(events, 0);

  GetResult got = store_->get(key);
  ASSERT_TRUE(got.record.has_value());
  expectSameRecord(*got.record, first.record);

  // Different content is a change (even one byte).
  PutResult changed = put(key, R"({"x":false})");
  EXPECT_TRUE(changed.changed);
  EXPECT_EQ(changed.record.version, 2);
  EXPECT_EQ(events, 1);
}

TEST_P(StoreConformance, TypeMeshAndNameTogetherAreTheKey) {
  const Key keys[] = {timeout("n", "a"), timeout("n", "b"), Key{"MeshRetry", "a", "n"},
                      Key{"Mesh", "", "n"}, timeout("n2", "a")};
  for (size_t i = 0; i < std::size(keys); ++i) {
    ASSERT_TRUE(ok(put(keys[i], "{\"i\":" + std::to_string(i) + "}").error));
  }
  ASSERT_TRUE(ok(put(keys[0], R"({"i":"changed"})").error));
  for (size_t i = 0; i < std::size(keys); ++i) {
    GetResult got = store_->get(keys[i]);
    ASSERT_TRUE(got.record.has_value()) << i;
    EXPECT_EQ(got.record->key, keys[i]);
    EXPECT_EQ(got.record->version, i == 0 ? 2 : 1) << i;
    EXPECT_EQ(got.record->content,
              i == 0 ? R"({"i":"changed"})" : "{\"i\":" + std::to_string(i) + "}");
  }
  ASSERT_TRUE(ok(store_->remove(keys[1], std::nullopt).error));
  EXPECT_TRUE(store_->get(keys[0]).record.has_value());
  EXPECT_TRUE(store_->get(keys[2]).record.has_value());
  EXPECT_FALSE(store_->get(keys[1]).record.has_value());
}

std::vector<std::pair<std::string, std::string>> meshesAndNames(const ListResult& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Record& rec : r.records) out.emplace_back(rec.key.mesh, rec.key.name);
  return out;
}

TEST_P(StoreConformance, ListOrderPagingTotalAndMeshFilter) {
  // Byte order: "B" < "a" < "a-1" < "b"; "m1" < "m10" < "m2".
  const std::vector<std::string> meshes = {"m2", "m1", "m10"};
  const std::vector<std::string> names = {"b", "a", "c", "a-1", "B", "zz", "a0"};
  std::vector<std::pair<std::string, std::string>> all;
  for (const auto& mesh : meshes) {
    for (const auto& name : names) {
      ASSERT_TRUE(ok(put(timeout(name, mesh), "{\"n\":\"" + mesh + "/" + name + "\"}").error));
      all.emplace_back(mesh, name);
    }
  }
  ASSERT_TRUE(ok(put(Key{"MeshRetry", "m1", "other-type"}, "{}").error));
  ASSERT_TRUE(ok(put(timeout("b", "m1"), R"({"n":"updated"})").error));
  std::sort(all.begin(), all.end());

  ListResult full = store_->list(ListOptions{"MeshTimeout", std::nullopt, 0, -1});
  ASSERT_TRUE(ok(full.error));
  EXPECT_EQ(full.total, static_cast<int64_t>(all.size()));
  EXPECT_EQ(meshesAndNames(full), all);
  for (const Record& rec : full.records) {
    GetResult got = store_->get(rec.key);
    ASSERT_TRUE(got.record.has_value());
    expectSameRecord(rec, *got.record);
  }

  ListResult m1 = store_->list(ListOptions{"MeshTimeout", "m1", 0, -1});
  ASSERT_TRUE(ok(m1.error));
  std::vector<std::pair<std::string, std::string>> wantM1;
  std::copy_if(all.begin(), all.end(), std::back_inserter(wantM1),
               [](const auto& p) { return p.first == "m1"; });
  EXPECT_EQ(meshesAndNames(m1), wantM1);
  EXPECT_EQ(m1.total, static_cast<int64_t>(names.size()));
  ASSERT_EQ(m1.records.size(), names.size());
  EXPECT_EQ(m1.records[0].key.name, "B");
  EXPECT_EQ(m1.records[4].key.name, "b");
  EXPECT_EQ(m1.records[4].version, 2);
  EXPECT_EQ(m1.records[4].content, R"({"n":"updated"})");

  // Pages of every size add up to the whole, each with the full total.
  for (std::optional<std::string> mesh :
       {std::optional<std::string>(), std::optional<std::string>("m10")}) {
    ListResult whole = store_->list(ListOptions{"MeshTimeout", mesh, 0, -1});
    for (int64_t size : {1, 2, 3, 5, 7, 100}) {
      std::vector<std::pair<std::string, std::string>> paged;
      for (int64_t offset = 0; offset < whole.total + size; offset += size) {
        ListResult page = store_->list(ListOptions{"MeshTimeout", mesh, offset, size});
        ASSERT_TRUE(ok(page.error));
        EXPECT_EQ(page.total, whole.total);
        EXPECT_LE(static_cast<int64_t>(page.records.size()), size);
        auto got = meshesAndNames(page);
        paged.insert(paged.end(), got.begin(), got.end());
      }
      EXPECT_EQ(paged, meshesAndNames(whole)) << "page size " << size;
    }
  }

  ListResult beyond = store_->list(ListOptions{"MeshTimeout", std::nullopt, 1000, 10});
  EXPECT_TRUE(beyond.records.empty());
  EXPECT_EQ(beyond.total, static_cast<int64_t>(all.size()));
  ListResult none = store_->list(ListOptions{"MeshTimeout", "m2", 0, 0});
  EXPECT_TRUE(none.records.empty());
  EXPECT_EQ(none.total, static_cast<int64_t>(names.size()));
  ListResult negative = store_->list(ListOptions{"MeshTimeout", "m2", -5, 2});
  ASSERT_EQ(negative.records.size(), 2u);
  EXPECT_EQ(negative.records[0].key.name, "B");

  ListResult noMesh = store_->list(ListOptions{"MeshTimeout", "nope", 0, -1});
  EXPECT_TRUE(ok(noMesh.error));
  EXPECT_EQ(noMesh.total, 0);
  EXPECT_TRUE(noMesh.records.empty());
  ListResult noType = store_->list(ListOptions{"MeshGateway", std::nullopt, 0, -1});
  EXPECT_EQ(noType.total, 0);
  ListResult other = store_->list(ListOptions{"MeshRetry", std::nullopt, 0, -1});
  ASSERT_EQ(other.records.size(), 1u);
  EXPECT_EQ(other.records[0].key, (Key{"MeshRetry", "m1", "other-type"}));
}

TEST_P(StoreConformance, ListGlobalTypes) {
  for (const char* name : {"zone-b", "zone-a", "zone-c"}) {
    ASSERT_TRUE(ok(put(Key{"Zone", "", name}, "{}").error));
  }
  for (std::optional<std::string> mesh :
       {std::optional<std::string>(), std::optional<std::string>("")}) {
    ListResult zones = store_->list(ListOptions{"Zone", mesh, 0, -1});
    ASSERT_TRUE(ok(zones.error));
    EXPECT_EQ(zones.total, 3);
    ASSERT_EQ(zones.records.size(), 3u);
    EXPECT_EQ(zones.records[0].key, (Key{"Zone", "", "zone-a"}));
    EXPECT_EQ(zones.records[2].key.name, "zone-c");
  }
}

struct Collector {
  std::mutex mutex;
  std::vector<ChangeEvent> events;
  ChangeListener listener() {
    return [this](const ChangeEvent& e) {
      std::lock_guard lock(mutex);
      events.push_back(e);
    };
  }
  std::vector<ChangeEvent> take() {
    std::lock_guard lock(mutex);
    return std::exchange(events, {});
  }
};

const char* opName(Op op) {
  switch (op) {
    case Op::kCreate:
      return "create";
    case Op::kUpdate:
      return "update";
    case Op::kDelete:
      return "delete";
  }
  return "?";
}

TEST_P(StoreConformance, ChangeFeedDeliversEveryChangeInOrder) {
  Collector seen;
  auto sub = store_->subscribe(seen.listener());
  std::vector<std::tuple<Op, Key, int64_t>> want;
  std::map<std::string, std::pair<int64_t, std::string>> model;  // name -> version, content
  std::mt19937 rng(42);
  for (int step = 0; step < 400; ++step) {
    std::string name = "r";  // (appended: GCC 12 misreports "lit" + std::string&& as overlap)
    name += std::to_string(rng() % 12);
    Key key = timeout(name, rng() % 2 ? "default" : "other");
    std::string modelKey = key.mesh + "/" + name;
    auto it = model.find(modelKey);
    switch (rng() % 6) {
      case 0: {  // delete
        DeleteResult r = store_->remove(key, std::nullopt);
        if (it == model.end()) {
          EXPECT_EQ(r.error.code, ErrorCode::kNotFound);
        } else {
          ASSERT_TRUE(ok(r.error));
          want.emplace_back(Op::kDelete, key, it->second.first);
          model.erase(it);
        }
        break;
      }
      case 1: {  // a stale write: no event
        PutResult r = put(key, "{\"stale\":1}", (it == model.end() ? 0 : it->second.first) + 1);
        EXPECT_EQ(r.error.code, ErrorCode::kConflict);
        break;
      }
      default: {  // a write, sometimes with the content it already has (no event)
        std::string content = "{\"c\":" + std::to_string(rng() % 3) + "}";
        std::optional<int64_t> expected;
        if (rng() % 2) expected = it == model.end() ? 0 : it->second.first;
        PutResult r = put(key, content, expected);
        ASSERT_TRUE(ok(r.error));
        if (it == model.end()) {
          EXPECT_TRUE(r.created);
          want.emplace_back(Op::kCreate, key, 1);
          model[modelKey] = {1, content};
        } else if (it->second.second == content) {
          EXPECT_FALSE(r.changed);
        } else {
          want.emplace_back(Op::kUpdate, key, it->second.first + 1);
          it->second = {it->second.first + 1, content};
        }
        EXPECT_EQ(r.record.version, model[modelKey].first);
      }
    }
  }
  // Every change was delivered before its write returned.
  std::vector<ChangeEvent> got = seen.take();
  ASSERT_EQ(got.size(), want.size());
  ASSERT_GT(want.size(), 150u);  // the sequence above really exercises the feed
  for (size_t i = 0; i < got.size(); ++i) {
    auto [op, key, version] = want[i];
    EXPECT_EQ(opName(got[i].op), std::string(opName(op))) << "event " << i;
    EXPECT_EQ(got[i].key, key) << "event " << i;
    EXPECT_EQ(got[i].version, version) << "event " << i;
    if (i > 0) {
      EXPECT_GT(got[i].sequence, got[i - 1].sequence) << "event " << i;
    }
  }
}

TEST_P(StoreConformance, ChangeFeedFollowsCommitOrderWithConcurrentWriters) {
  Collector seen;
  auto sub = store_->subscribe(seen.listener());
  constexpr int kThreads = 4;
  constexpr int kWrites = 50;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        std::string content = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
        for (const Key& key : {timeout("shared"), timeout("own-" + std::to_string(t))}) {
          PutResult r = store_->put(key, content, std::nullopt);
          if ((r.error || !r.changed) && failures[t].empty()) failures[t] = errorText(r.error);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");

  std::vector<ChangeEvent> got = seen.take();
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kWrites * 2));
  std::map<std::string, int64_t> lastVersion;
  for (size_t i = 0; i < got.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(got[i].sequence, got[i - 1].sequence) << "event " << i;
    }
    // Delivery order is commit order: each record's versions arrive 1, 2, 3, …
    int64_t& last = lastVersion[got[i].key.name];
    EXPECT_EQ(got[i].version, last + 1) << got[i].key.name << " event " << i;
    EXPECT_EQ(got[i].op, last == 0 ? Op::kCreate : Op::kUpdate);
    last = got[i].version;
  }
  EXPECT_EQ(lastVersion["shared"], kThreads * kWrites);
  EXPECT_EQ(lastVersion["own-0"], kWrites);
}

TEST_P(StoreConformance, UnsubscribeStopsDelivery) {
  Collector a, b;
  auto subA = store_->subscribe(a.listener());
  auto subB = store_->subscribe(b.listener());
  ASSERT_TRUE(ok(put(timeout("u"), R"({"n":1})").error));
  EXPECT_EQ(a.take().size(), 1u);
  EXPECT_EQ(b.take().size(), 1u);

  subA.reset();
  ASSERT_TRUE(ok(put(timeout("u"), R"({"n":2})").error));
  EXPECT_TRUE(a.take().empty());
  EXPECT_EQ(b.take().size(), 1u);

  // A listener may end its own subscription from inside the call.
  int selfCalls = 0;
  std::unique_ptr<Subscription> self;
  self = store_->subscribe([&](const ChangeEvent&) {
    ++selfCalls;
    self.reset();
  });
  ASSERT_TRUE(ok(put(timeout("u"), R"({"n":3})").error));
  ASSERT_TRUE(ok(put(timeout("u"), R"({"n":4})").error));
  EXPECT_EQ(selfCalls, 1);
  EXPECT_EQ(self, nullptr);
  EXPECT_EQ(b.take().size(), 2u);

  subB.reset();
  ASSERT_TRUE(ok(store_->remove(timeout("u"), std::nullopt).error));
  EXPECT_TRUE(b.take().empty());

  // A subscription may outlive its store.
  auto late = store_->subscribe(a.listener());
  store_.reset();
  late.reset();
  EXPECT_TRUE(a.take().empty());
}

TEST_P(StoreConformance, AThrowingListenerStopsNothing) {
  auto thrower = store_->subscribe([](const ChangeEvent&) { throw std::runtime_error("boom"); });
  Collector after;
  auto sub = store_->subscribe(after.listener());
  PutResult r = put(timeout("t"), "{}");
  EXPECT_TRUE(ok(r.error));  // the write committed; its result says so
  EXPECT_EQ(after.take().size(), 1u);
  EXPECT_TRUE(store_->get(timeout("t")).record.has_value());
  EXPECT_TRUE(ok(store_->remove(timeout("t"), std::nullopt).error));
  EXPECT_EQ(after.take().size(), 1u);
}

TEST_P(StoreConformance, UnsubscribeWaitsForACallInProgress) {
  std::atomic<bool> inside{false}, release{false}, finished{false};
  auto sub = store_->subscribe([&](const ChangeEvent&) {
    inside = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    finished = true;
  });
  std::thread writer([&] { store_->put(timeout("slow"), "{}", std::nullopt); });
  while (!inside) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release = true;
  });
  sub.reset();  // must not return while the listener still runs
  EXPECT_TRUE(finished);
  writer.join();
  releaser.join();
}

// The stores two racing writers use: the same one, or (when the data is shared) two instances,
// as two control planes on one database would be.
std::vector<Store*> racers(Store* first, Store* second, int round) {
  if (second && round % 2) return {first, second};
  return {first, first};
}

TEST_P(StoreConformance, RacingWritersWithTheSameExpectedVersionOneWins) {
  std::unique_ptr<Store> second = persistent() ? open() : nullptr;
  Key key = timeout("race");
  ASSERT_TRUE(ok(put(key, R"({"round":-1})").error));
  for (int round = 0; round < 100; ++round) {
    GetResult current = store_->get(key);
    ASSERT_TRUE(current.record.has_value());
    int64_t version = current.record->version;
    auto stores = racers(store_.get(), second.get(), round);
    std::latch start(2);
    PutResult results[2];
    std::thread threads[2];
    for (int t = 0; t < 2; ++t) {
      threads[t] = std::thread([&, t] {
        std::string content =
            "{\"round\":" + std::to_string(round) + ",\"writer\":" + std::to_string(t) + "}";
        start.arrive_and_wait();
        results[t] = stores[static_cast<size_t>(t)]->put(key, content, version);
      });
    }
    for (auto& th : threads) th.join();
    int wins = 0, conflicts = 0;
    for (const PutResult& r : results) {
      if (!r.error) {
        ++wins;
        EXPECT_TRUE(r.changed);
        EXPECT_EQ(r.record.version, version + 1);
      } else {
        EXPECT_EQ(r.error.code, ErrorCode::kConflict) << errorText(r.error);
        ++conflicts;
      }
    }
    EXPECT_EQ(wins, 1) << "round " << round;
    EXPECT_EQ(conflicts, 1) << "round " << round;
    EXPECT_EQ(store_->get(key).record->version, version + 1);
  }

  // The same for creation: expectedVersion 0 from two writers at once.
  for (int round = 0; round < 50; ++round) {
    Key fresh = timeout("new-" + std::to_string(round));
    auto stores = racers(store_.get(), second.get(), round);
    std::latch start(2);
    PutResult results[2];
    std::thread threads[2];
    for (int t = 0; t < 2; ++t) {
      threads[t] = std::thread([&, t] {
        start.arrive_and_wait();
        results[t] =
            stores[static_cast<size_t>(t)]->put(fresh, "{\"w\":" + std::to_string(t) + "}", 0);
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_NE(static_cast<bool>(results[0].error), static_cast<bool>(results[1].error))
        << errorText(results[0].error) << " / " << errorText(results[1].error);
    for (const PutResult& r : results) {
      if (r.error) {
        EXPECT_EQ(r.error.code, ErrorCode::kConflict) << errorText(r.error);
      } else {
        EXPECT_TRUE(r.created);
      }
    }
  }
}

int counterOf(const std::string& content) {
  // content is {"n":N}
  return std::stoi(content.substr(5));
}

TEST_P(StoreConformance, ConcurrentIncrementsWithRetriesLoseNothing) {
  std::unique_ptr<Store> second = persistent() ? open() : nullptr;
  Key key = timeout("counter");
  ASSERT_TRUE(ok(put(key, R"({"n":0})", 0).error));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 100;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  std::atomic<int> conflicts{0};
  for (int t = 0; t < kThreads; ++t) {
    Store* store = (second && t % 2) ? second.get() : store_.get();
    threads.emplace_back([&, t, store] {
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          GetResult got = store->get(key);
          if (got.error || !got.record) {
            failures[t] = "get: " + errorText(got.error);
            return;
          }
          std::string next = "{\"n\":" + std::to_string(counterOf(got.record->content) + 1) + "}";
          PutResult r = store->put(key, next, got.record->version);
          if (r.error.code == ErrorCode::kConflict) {
            ++conflicts;
            continue;
          }
          if (r.error) {
            failures[t] = "put: " + errorText(r.error);
            return;
          }
          break;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
  GetResult final = store_->get(key);
  ASSERT_TRUE(final.record.has_value());
  EXPECT_EQ(counterOf(final.record->content), kThreads * kIncrements);
  EXPECT_EQ(final.record->version, 1 + kThreads * kIncrements);
  std::printf("[          ] %s: %d conflicts retried\n", GetParam().c_str(), conflicts.load());
}

TEST_P(StoreConformance, EverythingSurvivesAReopen) {
  if (!persistent()) GTEST_SKIP() << "the memory store keeps nothing across instances";
  ASSERT_TRUE(ok(put(timeout("kept"), R"({"k":1})").error));
  ASSERT_TRUE(ok(put(timeout("kept"), R"({"k":2})").error));
  ASSERT_TRUE(ok(put(Key{"Mesh", "", "default"}, R"({"mtls":null})").error));
  ASSERT_TRUE(ok(put(timeout("gone"), "{}").error));
  ASSERT_TRUE(ok(store_->remove(timeout("gone"), std::nullopt).error));
  Record kept = *store_->get(timeout("kept")).record;
  Record mesh = *store_->get(Key{"Mesh", "", "default"}).record;

  store_.reset();  // a control plane restart
  store_ = open();
  ASSERT_NE(store_, nullptr);
  GetResult got = store_->get(timeout("kept"));
  ASSERT_TRUE(got.record.has_value());
  expectSameRecord(*got.record, kept);
  got = store_->get(Key{"Mesh", "", "default"});
  ASSERT_TRUE(got.record.has_value());
  expectSameRecord(*got.record, mesh);
  EXPECT_FALSE(store_->get(timeout("gone")).record.has_value());
  EXPECT_EQ(store_->list(ListOptions{"MeshTimeout", std::nullopt, 0, -1}).total, 1);

  // Versions go on from where they were.
  EXPECT_EQ(put(timeout("kept"), R"({"k":3})", 2).record.version, 3);
  EXPECT_EQ(put(timeout("kept"), R"({"k":4})", 2).error.code, ErrorCode::kConflict);
}

TEST_P(StoreConformance, SchemaVersionIsRecordedAndANewerOneRefused) {
  if (!persistent()) GTEST_SKIP() << "the memory store has no schema";
  int latest = GetParam() == "sqlite" ? sqliteSchemaVersion() : postgresSchemaVersion();
  EXPECT_EQ(rawSql("SELECT version FROM schema_version"), std::to_string(latest));
  EXPECT_EQ(rawSql("SELECT COUNT(*) FROM schema_version"), "1");
  ASSERT_TRUE(ok(put(timeout("x"), "{}").error));
  store_.reset();

  rawSql("UPDATE schema_version SET version = 999");
  OpenResult refused = openStore(spec_);
  EXPECT_EQ(refused.store, nullptr);
  EXPECT_NE(refused.error.find("schema version 999"), std::string::npos) << refused.error;

  rawSql("UPDATE schema_version SET version = " + std::to_string(latest));
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_TRUE(store_->get(timeout("x")).record.has_value());  // reopening migrated nothing away
}

TEST_P(StoreConformance, TenThousandWritesAndAFullList) {
  constexpr int kCount = 10000;
  auto start = Clock::now();
  for (int i = 0; i < kCount; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "r%05d", i);
    PutResult r = put(timeout(name), "{\"spec\":{\"i\":" + std::to_string(i) + "}}");
    ASSERT_TRUE(ok(r.error)) << i;
  }
  double writeSeconds = std::chrono::duration<double>(Clock::now() - start).count();

  start = Clock::now();
  ListResult all = store_->list(ListOptions{"MeshTimeout", "default", 0, -1});
  double listMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  ASSERT_TRUE(ok(all.error));
  ASSERT_EQ(all.records.size(), static_cast<size_t>(kCount));
  EXPECT_EQ(all.total, kCount);
  EXPECT_TRUE(
      std::is_sorted(all.records.begin(), all.records.end(),
                     [](const Record& a, const Record& b) { return a.key.name < b.key.name; }));

  start = Clock::now();
  ListResult page = store_->list(ListOptions{"MeshTimeout", std::nullopt, 5000, 100});
  double pageMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  ASSERT_EQ(page.records.size(), 100u);
  EXPECT_EQ(page.records[0].key.name, "r05000");
  EXPECT_EQ(page.total, kCount);

  std::printf(
      "[          ] %s: %d puts in %.2f s (%.0f/s); full list %.1f ms; page of 100 %.2f ms\n",
      GetParam().c_str(), kCount, writeSeconds, kCount / writeSeconds, listMs, pageMs);
  // Loose bounds (sanitizer builds, a busy machine) that still catch a quadratic slip.
  EXPECT_LT(listMs, 2000);
  EXPECT_LT(writeSeconds, 60);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance,
                         ::testing::Values("memory", "sqlite", "postgres"),
                         [](const auto& param) { return param.param; });

// ---- Behaviour particular to one backend or to opening.

TEST(OpenStore, RefusesUnknownSpecs) {
  for (const char* spec : {"", "bogus", "mysql://x", "sqlite", "sqlite:"}) {
    OpenResult r = openStore(spec);
    EXPECT_EQ(r.store, nullptr) << spec;
    EXPECT_FALSE(r.error.empty()) << spec;
  }
  EXPECT_NE(openStore("bogus").error.find("memory, sqlite:PATH or postgres://"), std::string::npos);
  OpenResult memory = openStore("memory");
  ASSERT_NE(memory.store, nullptr);
  EXPECT_EQ(memory.store->describe(), "memory");
}

TEST(SqliteStore, IsAWalFileUnderCreatedDirectories) {
  char dirTemplate[] = "/tmp/braid-store-test-XXXXXX";
  ASSERT_NE(mkdtemp(dirTemplate), nullptr);
  std::string path = std::string(dirTemplate) + "/a/b/braid.db";
  {
    OpenResult r = openStore("sqlite:" + path);
    ASSERT_NE(r.store, nullptr) << r.error;
    EXPECT_EQ(r.store->describe(), "sqlite:" + path);
    ASSERT_TRUE(ok(r.store->put(timeout("x"), "{}", std::nullopt).error));
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  OpenResult bad = openStore("sqlite:/proc/braid-cannot-be-here/braid.db");
  EXPECT_EQ(bad.store, nullptr);
  EXPECT_FALSE(bad.error.empty());
  std::filesystem::remove_all(dirTemplate);
}

TEST(PostgresStore, ReportsAServerItCannotReach) {
  OpenResult r = openStore("postgresql://braid@127.0.0.1:1/braid?connect_timeout=5");
  EXPECT_EQ(r.store, nullptr);
  EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
}

TEST(PostgresStore, ReconnectsAfterTheConnectionIsLost) {
  std::string uri = env("BRAID_TEST_POSTGRES_URI");
  if (uri.empty()) {
    if (postgresRequired()) FAIL() << kNoPostgres << " CI/BRAID_REQUIRE_POSTGRES demand it.";
    GTEST_SKIP() << kNoPostgres;
  }
  PgAdmin admin(uri);
  ASSERT_EQ(admin.error(), "");
  std::string schema = "braid_test_" + randomSuffix();
  admin.exec("CREATE SCHEMA " + schema);
  std::string app = "braid_reconnect_" + randomSuffix();
  std::string spec =
      withParam(withParam(uri, "options=-csearch_path%3D" + schema), "application_name=" + app);
  {
    OpenResult r = openStore(spec);
    ASSERT_NE(r.store, nullptr) << r.error;
    Store& store = *r.store;
    EXPECT_EQ(store.describe().rfind("postgres://", 0), 0u) << store.describe();
    ASSERT_TRUE(ok(store.put(timeout("p"), R"({"n":1})", std::nullopt).error));

    auto killStoreConnection = [&] {
      EXPECT_EQ(admin.exec("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE application_name = '" +
                           app + "'"),
                "1");
      // pg_terminate_backend only signals: wait until the backend is gone.
      for (int i = 0; i < 500; ++i) {
        if (admin.exec("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '" + app +
                       "'") == "0") {
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      ADD_FAILURE() << "the store's backend did not go away";
    };

    killStoreConnection();
    GetResult got = store.get(timeout("p"));
    ASSERT_TRUE(ok(got.error));
    ASSERT_TRUE(got.record.has_value());
    EXPECT_EQ(got.record->version, 1);

    killStoreConnection();
    PutResult put = store.put(timeout("p"), R"({"n":2})", 1);
    ASSERT_TRUE(ok(put.error));
    EXPECT_EQ(put.record.version, 2);

    killStoreConnection();
    ListResult list = store.list(ListOptions{"MeshTimeout", std::nullopt, 0, -1});
    ASSERT_TRUE(ok(list.error));
    EXPECT_EQ(list.total, 1);

    killStoreConnection();
    EXPECT_TRUE(ok(store.remove(timeout("p"), 2).error));
    EXPECT_FALSE(store.get(timeout("p")).record.has_value());
  }
  admin.exec("DROP SCHEMA " + schema + " CASCADE");
}

}  // namespace
}  // namespace braid::store
