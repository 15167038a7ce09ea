#pragma once

// The Postgres store, through libpq: one connection guarded by a mutex, prepared statements with
// parameters only (no SQL is ever built from input), optimistic writes (a conditional UPDATE or
// INSERT … ON CONFLICT DO NOTHING whose affected-row count decides who won), and a fresh
// connection when the old one was lost. The schema is created or migrated when the store opens.

#include <string>

#include "control-plane/store/store.h"

namespace braid::store {

// `uri` is a libpq connection URI ("postgres://user@host:5432/db", "postgresql:///db?host=/tmp").
OpenResult openPostgresStore(const std::string& uri);

// The schema version this build writes.
int postgresSchemaVersion();

}  // namespace braid::store
