// Edge cases of the legacy proxy types that the corpus does not pin down one by one: each case
// is a document and the exact errors it must produce ("" = accepted).
#include <gtest/gtest.h>

#include "common/yaml_json.h"
#include "control-plane/resources/resource.h"

namespace braid {
namespace {

struct Case {
  const char* name;
  const char* yaml;
  const char* errors;
};

std::string errorsOf(const char* yaml) {
  auto docs = parseYaml(yaml);
  if (!docs.error.empty() || docs.documents.size() != 1) return "bad test YAML: " + docs.error;
  return parseResource(docs.documents[0]).errors.toString();
}

class LegacyTypes : public ::testing::TestWithParam<Case> {};

TEST_P(LegacyTypes, ReportsExactlyTheseErrors) {
  EXPECT_EQ(errorsOf(GetParam().yaml), GetParam().errors);
}

const Case kCases[] = {
    {"AnotherServiceAddressIsEnoughButAnEqualPairLoops",
     "type: Dataplane\nmesh: m\nname: dp\nnetworking:\n  address: 10.0.0.1\n  inbound:\n"
     "  - {port: 8080, serviceAddress: 10.0.0.2, tags: {braid.io/service: a}}\n"
     "  - {port: 8081, address: 10.0.0.7, servicePort: 8081, serviceAddress: 10.0.0.7,"
     " tags: {braid.io/service: a}}\n",
     "networking.inbound[1]: serviceAddress:servicePort must differ from address:port (both are "
     "10.0.0.7:8081); set servicePort to the port the application listens on"},
    {"TransparentProxyDoesNotExcuseAnExplicitLoop",
     "type: Dataplane\nmesh: m\nname: dp\nnetworking:\n  address: 10.0.0.1\n"
     "  transparentProxying: {}\n  inbound:\n"
     "  - {port: 8080, tags: {braid.io/service: a}}\n"
     "  - {port: 8081, servicePort: 8081, tags: {braid.io/service: a}}\n",
     "networking.inbound[1]: serviceAddress:servicePort must differ from address:port (both are "
     "10.0.0.1:8081); set servicePort to the port the application listens on"},
    {"IPv6LoopIsPrintedWithBrackets",
     "type: Dataplane\nmesh: m\nname: dp\nnetworking:\n  address: 'fd00::1'\n  inbound:\n"
     "  - {port: 8080, serviceAddress: 'fd00:0::1', tags: {braid.io/service: a}}\n",
     "networking.inbound[0]: serviceAddress:servicePort must differ from address:port (both are "
     "[fd00::1]:8080); set servicePort to the port the application listens on"},
    {"AdminPortClashesWithAWildcardInboundButNotAnotherAddress",
     "type: Dataplane\nmesh: m\nname: dp\nnetworking:\n  address: 10.0.0.1\n  inbound:\n"
     "  - {port: 9901, servicePort: 80, tags: {braid.io/service: a}}\n"
     "  - {port: 9901, address: 0.0.0.0, servicePort: 81, tags: {braid.io/service: a}}\n"
     "  outbound:\n  - {port: 9901, address: 127.0.0.2, tags: {braid.io/service: b}}\n"
     "  admin: {port: 9901}\n",
     "networking.admin.port: must differ from the port of networking.inbound[1], which also "
     "listens on 127.0.0.1"},
    {"ServiceTagWithEmptyValue",
     "type: Dataplane\nmesh: m\nname: dp\nnetworking:\n  address: 10.0.0.1\n  inbound:\n"
     "  - {port: 8080, servicePort: 80, tags: {braid.io/service: ''}}\n",
     "networking.inbound[0].tags.braid.io/service: tag value must be non-empty"},
    {"NegativeProbeDurationAndHugeThreshold",
     "type: Dataplane\nmesh: m\nname: dp\nnetworking:\n  address: 10.0.0.1\n  inbound:\n"
     "  - port: 8080\n    servicePort: 80\n    tags: {braid.io/service: a}\n"
     "    serviceProbe: {timeout: -1s, healthyThreshold: 4294967296}\n",
     "networking.inbound[0].serviceProbe.timeout: must be greater than 0\n"
     "networking.inbound[0].serviceProbe.healthyThreshold: must be <= 4294967295"},
    {"ExternalServiceIPv6AndIpHosts",
     "type: ExternalService\nmesh: m\nname: es\ntags: {braid.io/service: es}\n"
     "networking: {address: '[::1]:443'}\n",
     ""},
    {"ExternalServiceBareIPv6NeedsBrackets",
     "type: ExternalService\nmesh: m\nname: es\ntags: {braid.io/service: es}\n"
     "networking: {address: '::1:443'}\n",
     "networking.address: must be host:port (an IPv6 host in brackets: [::1]:443)"},
    {"ExternalServiceTextPort",
     "type: ExternalService\nmesh: m\nname: es\ntags: {braid.io/service: es}\n"
     "networking: {address: 'example.com:https'}\n",
     "networking.address: port must be a number between 1 and 65535"},
    {"ExternalServiceServiceEqualToIpHost",
     "type: ExternalService\nmesh: m\nname: es\ntags: {braid.io/service: 10.0.0.1}\n"
     "networking: {address: '10.0.0.1:80'}\n",
     "tags.braid.io/service: must differ from the host of networking.address"},
    {"ExternalServiceClientKeyWithoutCert",
     "type: ExternalService\nmesh: m\nname: es\ntags: {braid.io/service: es}\n"
     "networking: {address: 'a.example:80', tls: {clientKey: {file: /k.pem}}}\n",
     "networking.tls.clientCert: must be defined when clientKey is set"},
    {"ZoneIngressAdvertisedBothIsFine",
     "type: ZoneIngress\nname: zi\n"
     "networking: {port: 10001, advertisedAddress: 'fd00::5', advertisedPort: 30001}\n",
     ""},
    {"ZoneIngressAdvertisedAddressWildcard",
     "type: ZoneIngress\nname: zi\n"
     "networking: {port: 10001, advertisedAddress: 0.0.0.0, advertisedPort: 30001}\n",
     "networking.advertisedAddress: must not be 0.0.0.0 or ::"},
    {"ZoneEgressAdminPortDiffers",
     "type: ZoneEgress\nname: ze\nnetworking: {port: 10002, admin: {port: 9901}}\n", ""},
};

INSTANTIATE_TEST_SUITE_P(Cases, LegacyTypes, ::testing::ValuesIn(kCases),
                         [](const auto& c) { return std::string(c.param.name); });

}  // namespace
}  // namespace braid
