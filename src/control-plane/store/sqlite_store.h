#pragma once

// The embedded SQLite store, the default: one file in WAL mode, one connection guarded by a mutex,
// prepared statements, every write in a BEGIN IMMEDIATE transaction (so two stores on one file,
// even in two processes, cannot both win a version race). The schema is created or migrated when
// the store opens.

#include <string>

#include "control-plane/store/store.h"

namespace braid::store {

// Opens (creating the file and its parent directories) and migrates. The schema version the file
// has is recorded in its schema_version table; a file newer than this build is refused.
OpenResult openSqliteStore(const std::string& path);

// The schema version this build writes.
int sqliteSchemaVersion();

}  // namespace braid::store
