#!/usr/bin/env python3
"""A WebSocket client for integration tests.

  ws_client.py HOST:PORT MESSAGE [COUNT [PAUSE]]
      upgrades GET /ws, sends MESSAGE COUNT times (default 1) as text frames, PAUSE seconds
      apart, prints each answer, closes cleanly. MESSAGE "@N" stands for N bytes of "x".
Exit 1 (with the reason on stderr) when the upgrade or any exchange is not as RFC 6455 says.
"""
import base64
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import websocket  # noqa: E402

host, port = sys.argv[1].rsplit(":", 1)
message = sys.argv[2].encode()
if message.startswith(b"@"):
    message = b"x" * int(message[1:])
count = int(sys.argv[3]) if len(sys.argv) > 3 else 1
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
key = base64.b64encode(os.urandom(16)).decode()
sock = socket.create_connection((host, int(port)), timeout=10)
stream = sock.makefile("rb")
sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
status = stream.readline().decode()
headers = {}
while True:
    line = stream.readline().decode()
    if line in ("\r\n", ""):
        break
    name, value = line.split(":", 1)
    headers[name.strip().lower()] = value.strip()
if not status.startswith("HTTP/1.1 101"):
    sys.exit(f"upgrade refused: {status.strip()}")
if headers.get("sec-websocket-accept") != websocket.accept_key(key):
    sys.exit(f"bad Sec-WebSocket-Accept: {headers}")
if headers.get("upgrade", "").lower() != "websocket":
    sys.exit(f"101 without Upgrade: websocket: {headers}")
for i in range(count):
    if i > 0:
        time.sleep(pause)
    sock.sendall(websocket.frame(websocket.TEXT, message, masked=True))
    opcode, payload = websocket.read_frame(stream)
    if opcode != websocket.TEXT:
        sys.exit(f"expected a text frame, got opcode {opcode}")
    print(payload.decode() if len(payload) < 1000 else f"{len(payload)} bytes")
sock.sendall(websocket.frame(websocket.CLOSE, b"\x03\xe8", masked=True))
opcode, _ = websocket.read_frame(stream)
if opcode != websocket.CLOSE:
    sys.exit(f"expected the close frame back, got opcode {opcode}")
if stream.read(1) != b"":
    sys.exit("bytes after the close frame")
