// MeshLoadBalancingStrategy (POLICY_FIELDS.md §8): how a proxy spreads requests over the endpoints
// of the services in `to`: the balancing algorithm, hash policies and locality awareness.
#include <cstdint>

#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/policy_values.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using schema::member;
using schema::opt;
using schema::req;
using schema::S;

// Envoy's own defaults, used to compare a ring size that is set with one that is not.
constexpr int64_t kDefaultMinRingSize = 1024;
constexpr int64_t kMaxRingSize = 8000000;
constexpr int64_t kMaxTableSize = 5000011;

bool has(const Json& obj, const char* key) {
  auto* m = member(obj, key);
  return m && !m->is_null();
}

bool isPrime(int64_t n) {
  if (n < 2) return false;
  for (int64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

S hashPolicy() {
  S named = S::object({req("name", S::string().notEmpty())});
  S cookie = S::object({
                           req("name", S::string().notEmpty()),
                           opt("ttl", policies::nonNegativeDuration()),
                           opt("path", S::string()),
                       })
                 .check([](const Json& v, const std::string& path, FieldErrors& errors) {
                   auto* p = member(v, "path");
                   if (p && p->is_string() && p->get<std::string>().rfind('/', 0) != 0) {
                     errors.add(joinPath(path, "path"), "must start with '/'");
                   }
                 });
  return S::object({
                       req("type", S::enumOf({"Header", "Cookie", "Connection", "SourceIP",
                                              "QueryParameter", "FilterState"})),
                       opt("terminal", S::boolean()),
                       opt("header", named),
                       opt("cookie", cookie),
                       opt("connection", S::object({opt("sourceIP", S::boolean())})),
                       opt("queryParameter", named),
                       opt("filterState", S::object({req("key", S::string().notEmpty())})),
                   })
      .check(policies::typedUnion({{"Header", "header"},
                                   {"Cookie", "cookie"},
                                   {"Connection", "connection"},
                                   {"SourceIP", "connection"},
                                   {"QueryParameter", "queryParameter"},
                                   {"FilterState", "filterState"}},
                                  true));
}

// Envoy refuses a ring whose minimum exceeds its maximum, defaults included.
void checkRingSizes(const Json& ring, const std::string& path, FieldErrors& errors) {
  bool minSet = has(ring, "minRingSize"), maxSet = has(ring, "maxRingSize");
  int64_t lo = minSet ? ring.at("minRingSize").get<int64_t>() : kDefaultMinRingSize;
  int64_t hi = maxSet ? ring.at("maxRingSize").get<int64_t>() : kMaxRingSize;
  bool inRange = lo >= 1 && lo <= kMaxRingSize && hi >= 1 && hi <= kMaxRingSize;
  if (inRange && lo > hi) {
    errors.add(minSet ? joinPath(path, "minRingSize") : joinPath(path, "maxRingSize"),
               "minRingSize (" + std::to_string(lo) + (minSet ? "" : " by default") +
                   ") must not be greater than maxRingSize (" + std::to_string(hi) + ")");
  }
}

S loadBalancer() {
  S ringSize = S::integer().min(1).max(kMaxRingSize);
  S leastRequest = S::object({
      opt("choiceCount", S::u32().min(2)),
      opt("activeRequestBias", S::percent().numberRange(0, std::nullopt)),
  });
  S ringHash = S::object({
                             opt("hashFunction", S::enumOf({"XXHash", "MurmurHash2"})),
                             opt("minRingSize", ringSize),
                             opt("maxRingSize", ringSize),
                             opt("hashPolicies", S::array(hashPolicy())),
                         })
                   .check(checkRingSizes);
  S tableSize = S::integer()
                    .min(1)
                    .max(kMaxTableSize)
                    .check([](const Json& v, const std::string& path, FieldErrors& errors) {
                      auto n = v.get<int64_t>();
                      if (n >= 1 && n <= kMaxTableSize && !isPrime(n))
                        errors.add(path, "must be a prime number");
                    });
  S maglev = S::object({opt("tableSize", tableSize), opt("hashPolicies", S::array(hashPolicy()))});
  return S::object({
                       req("type", S::enumOf({"RoundRobin", "LeastRequest", "RingHash", "Random",
                                              "Maglev"})),
                       opt("roundRobin", S::object({})),
                       opt("leastRequest", leastRequest),
                       opt("ringHash", ringHash),
                       opt("random", S::object({})),
                       opt("maglev", maglev),
                   })
      .check(policies::typedUnion({{"RoundRobin", "roundRobin"},
                                   {"LeastRequest", "leastRequest"},
                                   {"RingHash", "ringHash"},
                                   {"Random", "random"},
                                   {"Maglev", "maglev"}},
                                  false));
}

// A failover percentage of 0 would never fail over; negatives are left to the range check.
void checkPositivePercentage(const Json& v, const std::string& path, FieldErrors& errors) {
  auto d = policies::percentNumber(v);
  if (d && *d == 0) errors.add(path, "must be greater than 0");
}

S failoverTo() {
  return S::object({
                       req("type", S::enumOf({"None", "Only", "Any", "AnyExcept"})),
                       opt("zones", S::array(S::string().notEmpty())),
                   })
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        const auto type = v.at("type").get<std::string>();
        auto* zones = member(v, "zones");
        std::string zonesPath = joinPath(path, "zones");
        if (type == "Only" || type == "AnyExcept") {
          if (!zones || zones->is_null()) {
            errors.add(zonesPath, "must be defined when type is " + type);
          } else if (zones->is_array() && zones->empty()) {
            errors.add(zonesPath, "must not be empty when type is " + type);
          }
        } else if ((type == "Any" || type == "None") && zones && zones->is_array() &&
                   !zones->empty()) {
          errors.add(zonesPath, "must be empty when type is " + type);
        }
      });
}

S localityAwareness() {
  S affinityTag = S::object({req("key", S::string().notEmpty()), opt("weight", S::u32().min(1))});
  S affinityTags =
      S::array(affinityTag).check([](const Json& v, const std::string& path, FieldErrors& errors) {
        size_t weighted = 0;
        for (const auto& t : v) weighted += has(t, "weight");
        if (weighted != 0 && weighted != v.size()) {
          errors.add(path, "either every tag or none must have a weight");
        }
      });
  S failover = S::object({
      opt("from", S::object({req("zones", S::array(S::string().notEmpty()).notEmpty())})),
      req("to", failoverTo()),
  });
  S threshold = S::object({req("percentage", S::percent().check(checkPositivePercentage))});
  return S::object({
      opt("disabled", S::boolean()),
      opt("localZone", S::object({opt("affinityTags", affinityTags)})),
      opt("crossZone",
          S::object({opt("failover", S::array(failover)), opt("failoverThreshold", threshold)})),
  });
}

// The deprecated per-algorithm hash policies and the newer `default.hashPolicies` conflict.
void checkHashPolicyPlacement(const Json& conf, const std::string& path, FieldErrors& errors) {
  if (!has(conf, "hashPolicies")) return;
  auto* lb = member(conf, "loadBalancer");
  if (!lb) return;
  for (const char* algorithm : {"ringHash", "maglev"}) {
    auto* a = member(*lb, algorithm);
    if (a && has(*a, "hashPolicies")) {
      errors.add(joinPath(joinPath(joinPath(path, "loadBalancer"), algorithm), "hashPolicies"),
                 "is deprecated and must not be set together with default.hashPolicies");
    }
  }
}

S conf() {
  return S::object({
                       opt("loadBalancer", loadBalancer()),
                       opt("localityAwareness", localityAwareness()),
                       opt("hashPolicies", S::array(hashPolicy())),
                   })
      .check(checkHashPolicyPlacement);
}

// Services selected by labels or sectionName are real MeshService objects, whose cross-zone
// traffic goes through MeshMultiZoneService instead of failover rules.
void checkCrossZoneTarget(const Json& to, const std::string& path, FieldErrors& errors) {
  const Json& ref = to.at("targetRef");
  if (ref.at("kind") != rules::kMeshService || !(has(ref, "labels") || has(ref, "sectionName"))) {
    return;
  }
  auto* la = member(to.at("default"), "localityAwareness");
  if (la && has(*la, "crossZone")) {
    errors.add(joinPath(path, "default.localityAwareness.crossZone"),
               "must not be set when targetRef selects a MeshService by labels or sectionName");
  }
}

S spec() {
  const std::vector<std::string> topKinds = {
      rules::kMesh,        rules::kMeshSubset,        "MeshGateway",
      rules::kMeshService, rules::kMeshServiceSubset, rules::kDataplane};
  const std::vector<std::string> toKinds = {rules::kMesh, rules::kMeshService,
                                            "MeshMultiZoneService", "MeshHTTPRoute"};
  S to = policies::targetedItem(rules::targetRef(toKinds, rules::RefPosition::kTo), conf())
             .check(checkCrossZoneTarget);
  return S::object({
      opt("targetRef", policies::topTargetRef(topKinds, false)),
      // A strategy with no destination would configure nothing.
      req("to", S::array(to).notEmpty()),
  });
}

}  // namespace

const ResourceType& meshLoadBalancingStrategyType() {
  static const ResourceType kType{
      .name = "MeshLoadBalancingStrategy",
      .plural = "meshloadbalancingstrategies",
      .singular = "meshloadbalancingstrategy",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
