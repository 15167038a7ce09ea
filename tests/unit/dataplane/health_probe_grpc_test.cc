// The gRPC health-checking messages a probe sends and reads (upstream/health_probe_grpc.h),
// against bytes written out by hand from the protobuf encoding rules.

#include "dataplane/upstream/health_probe_grpc.h"

#include <gtest/gtest.h>

#include <string>

namespace braid::dataplane::upstream {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(GrpcHealthMessages, RequestIsOneFramedMessageWithTheServiceName) {
  EXPECT_EQ(encodeGrpcHealthRequest("echo"), bytes({0, 0, 0, 0, 6, 0x0a, 4}) + "echo");
  // No service: an empty message (proto3 leaves an empty string out).
  EXPECT_EQ(encodeGrpcHealthRequest(""), bytes({0, 0, 0, 0, 0}));
  // A name of 200 bytes: a two-byte varint length (0xc8 0x01), 203 bytes of message.
  std::string name(200, 'n');
  EXPECT_EQ(encodeGrpcHealthRequest(name), bytes({0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01}) + name);
}

TEST(GrpcHealthMessages, ResponseStatus) {
  EXPECT_EQ(decodeGrpcHealthResponse(bytes({0, 0, 0, 0, 2, 0x08, 1})), kGrpcHealthServing);
  EXPECT_EQ(decodeGrpcHealthResponse(bytes({0, 0, 0, 0, 2, 0x08, 2})), kGrpcHealthNotServing);
  // An empty message: status UNKNOWN (the default).
  EXPECT_EQ(decodeGrpcHealthResponse(bytes({0, 0, 0, 0, 0})), kGrpcHealthUnknown);
  // Unknown fields are skipped (a string field 2, a fixed32 field 3), the last status wins.
  EXPECT_EQ(decodeGrpcHealthResponse(
                bytes({0, 0, 0, 0, 13, 0x08, 2, 0x12, 2, 'h', 'i', 0x1d, 1, 2, 3, 4, 0x08, 1})),
            kGrpcHealthServing);
}

TEST(GrpcHealthMessages, MalformedResponsesAreRefused) {
  EXPECT_FALSE(decodeGrpcHealthResponse(""));
  EXPECT_FALSE(decodeGrpcHealthResponse(bytes({0, 0, 0, 0})));                   // short prefix
  EXPECT_FALSE(decodeGrpcHealthResponse(bytes({0, 0, 0, 0, 3, 0x08, 1})));       // truncated
  EXPECT_FALSE(decodeGrpcHealthResponse(bytes({0, 0, 0, 0, 2, 0x08, 1, 0})));    // trailing byte
  EXPECT_FALSE(decodeGrpcHealthResponse(bytes({1, 0, 0, 0, 2, 0x08, 1})));       // compressed
  EXPECT_FALSE(decodeGrpcHealthResponse(bytes({0, 0, 0, 0, 2, 0x08, 0x81})));    // cut varint
  EXPECT_FALSE(decodeGrpcHealthResponse(bytes({0, 0, 0, 0, 3, 0x12, 5, 'x'})));  // long length
  EXPECT_FALSE(decodeGrpcHealthResponse(bytes({0, 0, 0, 0, 2, 0x0b, 0})));       // wire type 3
}

}  // namespace
}  // namespace braid::dataplane::upstream
