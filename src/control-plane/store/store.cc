#include "control-plane/store/store.h"

#include <memory>
#include <string_view>

#include "control-plane/store/memory_store.h"
#include "control-plane/store/postgres_store.h"
#include "control-plane/store/sqlite_store.h"

namespace braid::store {

OpenResult openStore(const std::string& spec) {
  std::string_view s = spec;
  if (s == "memory") return {std::make_unique<MemoryStore>(), ""};
  if (s.starts_with("sqlite:")) return openSqliteStore(std::string(s.substr(7)));
  if (s.starts_with("postgres://") || s.starts_with("postgresql://")) {
    return openPostgresStore(spec);
  }
  return {nullptr,
          "unknown store \"" + spec + "\": use memory, sqlite:PATH or postgres://… (a libpq URI)"};
}

}  // namespace braid::store
