#!/usr/bin/python3
"""A gRPC workload for integration tests, without generated code (raw bytes messages). Run it
with /usr/bin/python3: Debian's python3-grpcio is installed for the system interpreter.

  grpc_app.py serve NAME PORT_FILE      service braid.test.Echo on 127.0.0.1 (any port, written to
                                        PORT_FILE): Unary(x) -> "NAME:x"; Stream(n) -> n messages
                                        "NAME:0" … "NAME:n-1"; Unary("sleep:MS") answers after MS ms;
                                        and grpc.health.v1.Health/Check (hand-encoded): SERVING,
                                        NOT_SERVING while the file PORT_FILE.sick exists;
                                        Unary("flaky") fails with UNAVAILABLE every other call
  grpc_app.py call HOST:PORT            calls Unary("ping") and Stream("3") and prints the replies,
                                        one per line; exits non-zero on any gRPC error
  grpc_app.py count HOST:PORT N [K=V]   N Unary calls (with metadata K: V) on one channel; prints
                                        "NAME COUNT" per answering server, "error CODE COUNT" per
                                        failure kind
  grpc_app.py timed HOST:PORT MESSAGE   one Unary(MESSAGE) with a 5 s deadline; prints the reply or
                                        the status code, then the seconds it took
  grpc_app.py flaky HOST:PORT N         N Unary("flaky") calls; prints "ok COUNT" and "error CODE
                                        COUNT" lines
"""
import collections
import os
import sys
import time
from concurrent import futures

import grpc

SERVICE = "braid.test.Echo"


def identity(b):
    return b


def serve(name, port_file):
    flaky = {"calls": 0}

    def unary(request, context):
        if request == b"flaky":
            flaky["calls"] += 1
            if flaky["calls"] % 2 == 1:
                context.abort(grpc.StatusCode.UNAVAILABLE, "flaky: odd call")
        if request.startswith(b"sleep:"):
            time.sleep(int(request[6:]) / 1000.0)
        return name.encode() + b":" + request

    def stream(request, context):
        for i in range(int(request.decode())):
            yield ("%s:%d" % (name, i)).encode()

    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(unary, identity, identity),
        "Stream": grpc.unary_stream_rpc_method_handler(stream, identity, identity),
    })
    def check(request, context):
        # HealthCheckResponse{status = 1 SERVING or 2 NOT_SERVING}: field 1, varint.
        return b"\x08\x02" if os.path.exists(port_file + ".sick") else b"\x08\x01"

    health = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(check, identity, identity),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler, health))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(port_file + ".tmp", port_file)
    server.wait_for_termination()


def call(target):
    with grpc.insecure_channel(target) as channel:
        unary = channel.unary_unary("/%s/Unary" % SERVICE, identity, identity)
        print(unary(b"ping", timeout=5).decode())
        stream = channel.unary_stream("/%s/Stream" % SERVICE, identity, identity)
        for reply in stream(b"3", timeout=5):
            print(reply.decode())


def count(target, n, metadata):
    tally = collections.Counter()
    with grpc.insecure_channel(target) as channel:
        unary = channel.unary_unary("/%s/Unary" % SERVICE, identity, identity)
        for _ in range(n):
            try:
                tally[unary(b"x", timeout=5, metadata=metadata).decode().split(":")[0]] += 1
            except grpc.RpcError as e:
                tally["error %s" % e.code().name] += 1
    for key, value in sorted(tally.items()):
        print(key, value)


def flaky_calls(target, n):
    tally = collections.Counter()
    with grpc.insecure_channel(target) as channel:
        unary = channel.unary_unary("/%s/Unary" % SERVICE, identity, identity)
        for _ in range(n):
            try:
                unary(b"flaky", timeout=5)
                tally["ok"] += 1
            except grpc.RpcError as e:
                tally["error %s" % e.code().name] += 1
    for key, value in sorted(tally.items()):
        print(key, value)


def timed(target, message):
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=5)
        unary = channel.unary_unary("/%s/Unary" % SERVICE, identity, identity)
        start = time.monotonic()
        try:
            out = unary(message.encode(), timeout=5).decode()
        except grpc.RpcError as e:
            out = e.code().name
        print(out, "%.3f" % (time.monotonic() - start))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "count":
        meta = [tuple(kv.split("=", 1)) for kv in sys.argv[4:]]
        count(sys.argv[2], int(sys.argv[3]), meta)
    elif sys.argv[1] == "flaky":
        flaky_calls(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "timed":
        timed(sys.argv[2], sys.argv[3])
    else:
        try:
            call(sys.argv[2])
        except grpc.RpcError as e:
            print("gRPC error: %s %s" % (e.code(), e.details()), file=sys.stderr)
            sys.exit(1)
