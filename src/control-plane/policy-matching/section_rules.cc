#include "control-plane/policy-matching/section_rules.h"

#include <algorithm>
#include <set>

namespace braid::policy_matching {
namespace {

const Json* specArray(const PolicyInput& p, const char* key) {
  auto it = p.spec.find(key);
  return it != p.spec.end() && it->is_array() ? &*it : nullptr;
}

struct Entry {
  PeerTarget target;
  Json conf;
};

// A route entry (MeshHTTPRoute, MeshTCPRoute) carries `rules` instead of `default`.
Json entryConf(const Json& entry) {
  if (auto it = entry.find("default"); it != entry.end()) return *it;
  if (auto it = entry.find("rules"); it != entry.end()) return Json{{"rules", *it}};
  return Json::object();
}

void appendEntries(const PolicyInput& p, const char* section, std::vector<Entry>& out) {
  const Json* items = specArray(p, section);
  if (!items) return;
  for (const Json& item : *items) {
    if (!item.is_object()) continue;
    auto ref = item.find("targetRef");
    if (ref == item.end()) continue;
    if (auto target = parsePeerTarget(*ref)) out.push_back({*target, entryConf(item)});
  }
}

bool selects(const MatchedPolicy& m, size_t inbound) {
  const auto& in = m.selection.inbounds;
  return std::binary_search(in.begin(), in.end(), inbound);
}

class TargetList {
 public:
  void add(const PeerTarget& t) {
    if (seen_.insert(t.key()).second) targets_.push_back(t);
  }
  std::vector<PeerTarget> leastSpecificFirst() {
    std::stable_sort(targets_.begin(), targets_.end(),
                     [](const PeerTarget& a, const PeerTarget& b) { return a.rank() < b.rank(); });
    return targets_;
  }

 private:
  std::set<std::string> seen_;
  std::vector<PeerTarget> targets_;
};

// The merged conf of the entries that cover `target`, or null when none does.
Json mergeFor(const PeerTarget& target, const std::vector<Entry>& entries, MergeStyle style) {
  std::vector<RankedConf> confs;
  for (const Entry& e : entries) {
    if (e.target.covers(target)) confs.push_back({e.target.rank(), &e.conf});
  }
  return confs.empty() ? Json() : mergeRanked(std::move(confs), style);
}

// Absent and empty `matches` both mean all traffic.
Json matchesKey(const Json& rule) {
  auto it = rule.find("matches");
  if (it == rule.end() || (it->is_array() && it->empty())) return Json();
  return *it;
}

}  // namespace

std::vector<ToConf> mergeTo(const std::vector<MatchedPolicy>& matched, const DataplaneView& dp,
                            MergeStyle style) {
  std::vector<Entry> entries;
  for (const MatchedPolicy& m : matched) appendEntries(*m.policy, "to", entries);

  TargetList targets;
  for (const Entry& e : entries) {
    if (e.target.kind == "Mesh") targets.add(e.target);
  }
  for (const std::string& service : dp.outboundServices) {
    targets.add(PeerTarget{"MeshService", service, {}});
  }
  for (const Entry& e : entries) targets.add(e.target);

  std::vector<ToConf> out;
  for (const PeerTarget& t : targets.leastSpecificFirst()) {
    Json conf = mergeFor(t, entries, style);
    if (!conf.is_null()) out.push_back({t, std::move(conf)});
  }
  return out;
}

std::vector<FromConf> mergeFrom(const std::vector<MatchedPolicy>& matched, const DataplaneView& dp,
                                MergeStyle style) {
  std::vector<FromConf> out;
  for (size_t i = 0; i < dp.inbounds.size(); ++i) {
    std::vector<Entry> entries;
    for (const MatchedPolicy& m : matched) {
      if (selects(m, i)) appendEntries(*m.policy, "from", entries);
    }
    TargetList targets;
    for (const Entry& e : entries) targets.add(e.target);
    for (const PeerTarget& t : targets.leastSpecificFirst()) {
      // Every target here is some entry's own, so at least that entry covers it.
      out.push_back({i, dp.inbounds[i].label(), t, mergeFor(t, entries, style)});
    }
  }
  return out;
}

std::vector<InboundRuleConf> mergeInboundRules(const std::vector<MatchedPolicy>& matched,
                                               const DataplaneView& dp, MergeStyle style) {
  static const Json kEmpty = Json::object();
  std::vector<InboundRuleConf> out;
  for (size_t i = 0; i < dp.inbounds.size(); ++i) {
    std::vector<const Json*> rules;
    for (const MatchedPolicy& m : matched) {
      if (!selects(m, i)) continue;
      if (const Json* items = specArray(*m.policy, "rules")) {
        for (const Json& rule : *items) {
          if (rule.is_object()) rules.push_back(&rule);
        }
      }
    }
    // Groups: all traffic first, then each distinct matches list in order of appearance.
    std::vector<Json> groups;
    for (const Json* rule : rules) {
      if (matchesKey(*rule).is_null()) {
        groups.emplace_back();
        break;
      }
    }
    for (const Json* rule : rules) {
      Json key = matchesKey(*rule);
      if (!key.is_null() && std::find(groups.begin(), groups.end(), key) == groups.end()) {
        groups.push_back(std::move(key));
      }
    }
    for (const Json& group : groups) {
      std::vector<RankedConf> confs;
      for (const Json* rule : rules) {
        Json key = matchesKey(*rule);
        if (!key.is_null() && key != group) continue;
        auto def = rule->find("default");
        confs.push_back({key.is_null() ? 0 : 1, def == rule->end() ? &kEmpty : &*def});
      }
      out.push_back({i, dp.inbounds[i].label(), group, mergeRanked(std::move(confs), style)});
    }
  }
  return out;
}

Json mergeDefaults(const std::vector<MatchedPolicy>& matched, MergeStyle style) {
  Json acc = Json::object();
  for (const MatchedPolicy& m : matched) {
    auto it = m.policy->spec.find("default");
    if (it != m.policy->spec.end() && !it->is_null()) mergeConf(acc, *it, style);
  }
  return acc;
}

}  // namespace braid::policy_matching
