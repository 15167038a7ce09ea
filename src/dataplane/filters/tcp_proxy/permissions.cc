#include "dataplane/filters/tcp_proxy/permissions.h"

namespace braid::dataplane::tcp_proxy {

namespace {

bool matches(const PermissionRule& rule, const std::string& caller) {
  switch (rule.match) {
    case PermissionRule::Match::kAny:
      return true;
    case PermissionRule::Match::kExact:
      return !caller.empty() && caller == rule.value;
    case PermissionRule::Match::kPrefix:
      return !caller.empty() && caller.starts_with(rule.value);
  }
  return false;
}

}  // namespace

PermissionDecision evaluatePermissions(const std::vector<PermissionRule>& rules,
                                       const std::string& caller) {
  for (const auto& rule : rules) {
    if (matches(rule, caller)) return {rule.action, &rule};
  }
  return {};
}

}  // namespace braid::dataplane::tcp_proxy
