#!/usr/bin/env python3
"""The app's memory under slow request bodies: thousands of connections that send their headers, then trickle
the body a byte a second, for a while; RSS of `serve` before, at the peak, and after they are gone.

    cargo build --release --bin b24-calllist --example hello
    python3 benches/slow_bodies.py                 # 3,000 connections held for 40 s
    python3 benches/slow_bodies.py --connections 500 --seconds 20

The app cuts each body after its deadline (15 s); a cut connection is opened again at once, so the number of
slow connections stays where it was asked for the whole time. The app runs on SQLite against its own sandbox
portal, as in `openloop.py`.
"""

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openloop import BIN, Stack  # noqa: E402
from overhead import PeakRss, rss_kib  # noqa: E402

HEAD = (b"POST /lists HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 100000\r\n\r\n")


async def slow_client(host, port, until, counts):
    """Holds one slow connection until `until`, opening another whenever the app cuts it."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            counts["refused"] += 1
            await asyncio.sleep(0.5)
            continue
        counts["opened"] += 1
        try:
            writer.write(HEAD)
            await writer.drain()
            while time.monotonic() < until:
                writer.write(b"a")
                await writer.drain()
                try:
                    # Any answer, or the connection closing, means the app has cut this body.
                    await asyncio.wait_for(reader.read(4096), timeout=1.0)
                except asyncio.TimeoutError:
                    continue
                counts["cut"] += 1
                break
        except (ConnectionError, OSError):
            counts["cut"] += 1
        finally:
            writer.close()


async def attack(host, port, connections, seconds, counts):
    until = time.monotonic() + seconds
    # Open them over the first second or two, not in one burst the backlog would refuse.
    tasks = []
    for i in range(connections):
        tasks.append(asyncio.create_task(slow_client(host, port, until, counts)))
        if i % 200 == 199:
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=3000)
    ap.add_argument("--seconds", type=int, default=40)
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release --bin b24-calllist --example hello")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections * 2 + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    tmp = tempfile.mkdtemp()
    stack = Stack(BIN, tmp, "slow", 1)
    try:
        host, port = "127.0.0.1", int(stack.url.rsplit(":", 1)[1])
        before = rss_kib(stack.app.pid)
        sampler = PeakRss(stack.app.pid, before).start()
        counts = {"opened": 0, "cut": 0, "refused": 0}
        started = time.monotonic()
        asyncio.run(attack(host, port, args.connections, args.seconds, counts))
        took = time.monotonic() - started
        peak = sampler.stop()
        print("%d slow connections held for %.0f s: %d opened, %d cut by the app, %d refused at connect"
              % (args.connections, took, counts["opened"], counts["cut"], counts["refused"]))
        print("app RSS: %.1f MB before, %.1f MB at the peak" % (before / 1024, peak / 1024))
        waited = 0
        for at in (2, 10, 30):
            time.sleep(at - waited)
            waited = at
            after = rss_kib(stack.app.pid)
            fds = len(os.listdir("/proc/%d/fd" % stack.app.pid))
            print("  %2d s after the last closed: %.1f MB (%+.1f MB), %d open files" % (
                at, after / 1024, (after - before) / 1024, fds))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
