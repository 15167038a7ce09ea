#!/usr/bin/env python3
"""Steady HTTP load for integration tests: every request on a new connection, so each one goes
through a fresh proxy-to-proxy handshake (what certificate and CA rotations must not break).

  load_client.py URL STOP_FILE OUT_FILE [WORKERS] [EXPECT_BODY]
    runs until STOP_FILE exists, then writes {"ok": N, "failed": M, "errors": [...]} to OUT_FILE.
    A request fails when it errors, times out (5 s), answers a status other than 200, or its
    body (stripped) is not EXPECT_BODY (when given).
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
stop_file, out_file = sys.argv[2], sys.argv[3]
workers = int(sys.argv[4]) if len(sys.argv) > 4 else 2
expect = sys.argv[5] if len(sys.argv) > 5 else None
lock = threading.Lock()
counts = {"ok": 0, "failed": 0, "errors": []}


def one_request():
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        connection.request("GET", url.path or "/")
        response = connection.getresponse()
        body = response.read().decode(errors="replace").strip()
        if response.status != 200:
            return "status %d: %s" % (response.status, body[:80])
        if expect is not None and body != expect:
            return "body %r" % body[:80]
        return None
    except Exception as e:  # any failure counts; the first few are kept to say why
        return "%s: %s" % (type(e).__name__, e)
    finally:
        connection.close()


def worker():
    while not os.path.exists(stop_file):
        error = one_request()
        with lock:
            if error is None:
                counts["ok"] += 1
            else:
                counts["failed"] += 1
                if len(counts["errors"]) < 5:
                    counts["errors"].append("%.3f %s" % (time.time(), error))
        time.sleep(0.005)


threads = [threading.Thread(target=worker) for _ in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out_file + ".tmp", "w") as f:
    json.dump(counts, f)
os.rename(out_file + ".tmp", out_file)
