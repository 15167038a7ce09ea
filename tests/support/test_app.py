#!/usr/bin/env python3
"""A workload for integration tests: an HTTP/1.1 server on 127.0.0.1 that says who it is.

  test_app.py NAME PORT_FILE [PORT]   binds PORT (default 0: any), writes the bound port to
                                      PORT_FILE, serves until killed
  GET /            -> "NAME\n"
  GET /bytes?n=N&rate=R -> N bytes, at R bytes/s when given (for long transfers)
  GET /flaky       -> 503 and 200 in turn (this process's count), body "NAME\n"
  GET /health      -> 503 while the file PORT_FILE.sick exists, else 200 (health checks)
  GET /slow?ms=N   -> "NAME\n" after N milliseconds
  GET /echo...     -> JSON {"name", "method", "path", "headers"} of the request as received
  GET /requests    -> JSON list of [method, path, host, body length] of the requests before it
  POST /...        -> "NAME\n" once the body (Content-Length) is read
  GET /ws with Upgrade: websocket -> 101, then answers each text frame with "NAME: <text>"
  GET /ws-refused  -> 426, the connection kept open
"""
import json
import threading
import http.server
import sys
import time
import urllib.parse
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import websocket  # noqa: E402


SEEN = []
FLAKY = {"count": 0}
FLAKY_LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body, content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def websocket(self):
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept",
                         websocket.accept_key(self.headers["Sec-WebSocket-Key"]))
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        while True:
            try:
                opcode, payload = websocket.read_frame(self.rfile)
            except EOFError:
                return
            if opcode == websocket.CLOSE:
                self.wfile.write(websocket.frame(websocket.CLOSE, payload, masked=False))
                self.wfile.flush()
                return
            answer = (NAME + ": ").encode() + payload
            self.wfile.write(websocket.frame(websocket.TEXT, answer, masked=False))
            self.wfile.flush()

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/requests":
            with FLAKY_LOCK:
                body = json.dumps(SEEN)
            return self.answer(200, body.encode(), "application/json")
        with FLAKY_LOCK:
            SEEN.append([self.command, self.path, self.headers.get("Host", ""), 0])
        if url.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        if url.path == "/ws-refused":
            # A refusal that keeps the connection open, as some servers' upgrade handlers do.
            return self.answer(426, b"upgrade required\n")
        if url.path == "/flaky":
            with FLAKY_LOCK:
                FLAKY["count"] += 1
                fail = FLAKY["count"] % 2 == 1
            return self.answer(503 if fail else 200, (NAME + "\n").encode())
        if url.path == "/health":
            sick = os.path.exists(sys.argv[2] + ".sick")
            return self.answer(503 if sick else 200, (NAME + "\n").encode())
        if url.path == "/slow":
            ms = int(urllib.parse.parse_qs(url.query).get("ms", ["0"])[0])
            time.sleep(ms / 1000.0)
            return self.answer(200, (NAME + "\n").encode())
        if url.path.startswith("/echo"):
            body = json.dumps({"name": NAME, "method": self.command, "path": self.path,
                               "headers": {k.lower(): v for k, v in self.headers.items()}})
            return self.answer(200, body.encode(), "application/json")
        if url.path == "/bytes":
            query = urllib.parse.parse_qs(url.query)
            n = int(query.get("n", ["0"])[0])
            rate = int(query.get("rate", ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            # With a rate, pieces of 1/20 s keep the flow steady (no burst, no long pause).
            chunk = b"x" * (max(1, min(65536, rate // 20)) if rate else 65536)
            sent = 0
            start = time.monotonic()
            while sent < n:
                part = chunk[: min(len(chunk), n - sent)]
                try:
                    self.wfile.write(part)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the caller (or a proxy's timeout) cut the transfer short
                sent += len(part)
                if rate:
                    ahead = sent / rate - (time.monotonic() - start)
                    if ahead > 0:
                        time.sleep(ahead)
            return
        body = (NAME + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with FLAKY_LOCK:
            SEEN.append([self.command, self.path, self.headers.get("Host", ""), len(body)])
        return self.answer(200, (NAME + "\n").encode())

    def log_message(self, *args):
        pass


NAME = sys.argv[1]
port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
