// Zone (global, read-only): one per zone control plane, written by the global CP when the zone
// connects. Users cannot create or change it, but the CP stores it as a document like any other,
// so it still has a schema: Kuma's single `enabled` switch.
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using schema::opt;
using schema::S;

S zoneBody() { return S::object({opt("enabled", S::boolean())}); }

}  // namespace

const ResourceType& zoneType() {
  static const ResourceType kType{
      .name = "Zone",
      .plural = "zones",
      .singular = "zone",
      .scope = Scope::kGlobal,
      .layout = Layout::kLegacy,
      .readOnly = true,
      .body = zoneBody(),
  };
  return kType;
}

}  // namespace braid
