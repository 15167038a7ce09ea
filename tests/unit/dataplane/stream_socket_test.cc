// StreamSocket and PipePool on real loopback TCP connections, without an event loop running.

#include "dataplane/network/stream_socket.h"

#include <event2/buffer.h>
#include <gtest/gtest.h>

#include "dataplane/event/event_loop.h"
#include "dataplane/network/pipe_pool.h"
#include "test_support.h"

namespace braid::dataplane::network {
namespace {

using namespace test_support;  // NOLINT: the test helpers

class NoHandler final : public StreamSocket::Handler {
 public:
  void onReadable(StreamSocket&) override {}
  void onWritable(StreamSocket&) override {}
};

// A connected pair of TCP sockets: `proxySide` non-blocking (for StreamSocket), `peer` blocking.
struct TcpPair {
  UniqueFd proxySide;
  int peer = -1;

  TcpPair() {
    int listener = listenOn(0, 4);
    peer = connectTo(boundPort(listener));
    int accepted = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
    proxySide.reset(accepted);
    close(listener);
  }
  ~TcpPair() { close(peer); }
};

TEST(StreamSocketTest, ReadsIntoAnotherBufferAndFlushes) {
  event::EventLoop loop;
  NoHandler handler;
  TcpPair a, b;
  StreamSocket from(loop.base(), std::move(a.proxySide), handler);
  StreamSocket to(loop.base(), std::move(b.proxySide), handler);
  size_t count = 0;
  EXPECT_EQ(from.readInto(to.output(), 1024, count), StreamSocket::Io::kWouldBlock);
  ASSERT_TRUE(sendAll(a.peer, "hello"));
  ASSERT_TRUE(
      waitFor([&] { return from.readInto(to.output(), 1024, count) == StreamSocket::Io::kOk; }));
  EXPECT_EQ(count, 5u);
  EXPECT_EQ(to.outputLength(), 5u);
  EXPECT_EQ(to.flush(count), StreamSocket::Io::kOk);
  EXPECT_EQ(count, 5u);
  EXPECT_FALSE(to.writePending());
  EXPECT_EQ(readExactly(b.peer, 5), "hello");
  // EOF marks the socket read-closed.
  shutdown(a.peer, SHUT_WR);
  ASSERT_TRUE(
      waitFor([&] { return from.readInto(to.output(), 1024, count) == StreamSocket::Io::kEof; }));
  EXPECT_TRUE(from.readClosed());
  EXPECT_TRUE(to.shutdownWrite());
  EXPECT_EQ(readToEof(b.peer), "");
}

TEST(StreamSocketTest, SplicedBytesFollowTheBufferedOnes) {
  event::EventLoop loop;
  NoHandler handler;
  TcpPair a, b;
  StreamSocket from(loop.base(), std::move(a.proxySide), handler);
  StreamSocket to(loop.base(), std::move(b.proxySide), handler);
  PipePool pool(1);
  evbuffer_add(to.output(), "first ", 6);
  to.attachOutputPipe(pool.acquire());
  ASSERT_TRUE(to.hasOutputPipe());
  ASSERT_TRUE(sendAll(a.peer, "second"));
  size_t count = 0;
  ASSERT_TRUE(waitFor([&] { return from.spliceInto(to, count) == StreamSocket::Io::kOk; }));
  EXPECT_EQ(count, 6u);
  EXPECT_EQ(to.outputLength(), 12u);
  EXPECT_EQ(to.flush(count), StreamSocket::Io::kOk);
  EXPECT_EQ(count, 12u);
  EXPECT_EQ(readExactly(b.peer, 12), "first second");
  bool empty = false;
  auto pipe = to.detachOutputPipe(empty);
  EXPECT_TRUE(empty);
  pool.release(std::move(pipe), empty);
  EXPECT_EQ(pool.inUse(), 0u);
}

TEST(StreamSocketTest, SpliceReportsAFullPipe) {
  event::EventLoop loop;
  NoHandler handler;
  TcpPair a, b;
  StreamSocket from(loop.base(), std::move(a.proxySide), handler);
  StreamSocket to(loop.base(), std::move(b.proxySide), handler);
  PipePool pool(1, 64 * 1024);
  to.attachOutputPipe(pool.acquire());
  // More than the pipe holds, never flushed.
  std::thread writer([&] { sendAll(a.peer, pattern(1 << 20)); });
  size_t total = 0, count = 0;
  StreamSocket::Io io = StreamSocket::Io::kWouldBlock;
  ASSERT_TRUE(waitFor([&] {
    io = from.spliceInto(to, count);
    total += count;
    return io == StreamSocket::Io::kOutputFull;
  }));
  EXPECT_GT(total, 0u);
  EXPECT_LE(total, 64u * 1024);
  EXPECT_EQ(to.outputLength(), total);
  // Draining the pipe makes room again.
  EXPECT_EQ(to.flush(count), StreamSocket::Io::kOk);
  EXPECT_EQ(count, total);
  EXPECT_EQ(readExactly(b.peer, total), pattern(1 << 20).substr(0, total));
  shutdown(a.peer, SHUT_RDWR);
  writer.join();
}

TEST(PipePoolTest, LendsUpToItsLimitAndReusesEmptyPipes) {
  PipePool pool(2);
  auto first = pool.acquire();
  auto second = pool.acquire();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(pool.acquire(), nullptr);
  EXPECT_EQ(pool.inUse(), 2u);
  EXPECT_GE(first->capacity(), 64u * 1024);
  int reusedFd = first->readFd();
  pool.release(std::move(first), true);
  auto again = pool.acquire();
  EXPECT_EQ(again->readFd(), reusedFd);
  // A pipe with bytes left in it is closed, not lent again.
  pool.release(std::move(second), false);
  EXPECT_EQ(pool.inUse(), 1u);
  auto fresh = pool.acquire();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(pool.inUse(), 2u);
}

}  // namespace
}  // namespace braid::dataplane::network
