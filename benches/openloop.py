#!/usr/bin/env python3
"""Opening list pages as managers do: at a fixed rate (open loop), beside the closed loop, against an older
build, and what it costs in CPU and memory.

    cargo build --release --bin b24-calllist --example hello
    python3 benches/openloop.py                    # open loop: 50 managers, one page every 2 s each (25/s)
    python3 benches/openloop.py --closed OLD_BIN   # closed loop at 50 sessions, this build and OLD_BIN in turn
    python3 benches/openloop.py --app OLD_BIN --phases uncached   # the same open loop on an older build
    python3 benches/openloop.py --memory           # idle RSS, then RSS after 10,000 opens at 50 sessions
    python3 benches/openloop.py --perf DIR         # uncached and cached opens under `perf record`, 100/s
    python3 benches/perf_split.py DIR/uncached-app.data --per-request MS   # where the app's CPU went

Every run starts its own sandbox portal (no latency, no limits) with 20 contact lists of 1,000 members, and
the app on SQLite, both on loopback. When the machine has two cores or more the sandbox is pinned to the last
core and the app, the load generator and the floor server to the first (`taskset`), so the app's CPU is its
own. OPENLOOP_SECONDS scales the phases (default 60). OPENLOOP_APP_PRELOAD is put in the app's LD_PRELOAD, to
try another malloc without rebuilding (e.g. Debian's libjemalloc2 or libmimalloc2.0).

The open loop never waits for an answer before sending the next request: every request has a scheduled
start (manager i at i × 2 s / 50, then every 2 s), a pool of threads sends it then, and latency counts from
the scheduled start, so a slow answer delays no later request and a late start counts against the app.
Phases, each with its own 50 sessions so no phase warms another's read cache:

- uncached: every open is a list (or page) this session has not read in the last 20 s, so each reads the
  portal (one batch request);
- cached: each manager opens one list, then comes back to it every 2 s for 18 s (paging back, returning from
  a review), then moves to the next list: 1 open in 10 reads the portal, 9 are served from the session's cache;
- first open with its count: the page, then the count the page asks for when it loads (`go=count`, every
  member read), as a browser does on a list it has not counted in the last 10 minutes.

A hello-world actix-web server (`examples/hello`) gets the same arrival rate at the same time, as the floor.
CPU per open is the app's utime+stime (from /proc/PID/stat) over the phase, divided by the opens.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overhead import PeakRss, free_port, hidden, post, rss_kib, wait_http  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "b24-calllist")
HELLO = os.path.join(TARGET, "release", "examples", "hello")
SECONDS = int(os.environ.get("OPENLOOP_SECONDS", "60"))
MANAGERS = 50
PERIOD = 2.0
LISTS = 20
MEMBERS = 1000
PAGES = MEMBERS // 50
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
APP_CORES = "0" if CORES >= 2 else None
PORTAL_CORES = str(CORES - 1) if CORES >= 2 else None


def pinned(cmd, cores):
    return (["taskset", "-c", cores] + cmd) if cores and shutil.which("taskset") else cmd


def cpu_seconds(pid):
    """utime + stime of a process, all threads, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def quantile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


class Stack:
    """A sandbox portal and one app build installed on it, with signed-in manager sessions."""

    def __init__(self, binary, tmp, name, sessions):
        self.binary, self.name = os.path.abspath(binary), name
        app_port, portal_port, oauth_port = free_port(), free_port(), free_port()
        self.url = "http://127.0.0.1:%d" % app_port
        lists = sum((["--list", "contact:%d" % MEMBERS] for _ in range(LISTS)), [])
        self.sandbox = subprocess.Popen(
            pinned([BIN, "sandbox", "--listen", "127.0.0.1:%d" % portal_port, "--oauth-listen",
                    "127.0.0.1:%d" % oauth_port, "--app-url", self.url + "/", "--not-installed", "--limits", "off",
                    "--latency-ms", "0", "--contacts", "1400", "--json"] + lists, PORTAL_CORES),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={"PATH": os.environ["PATH"]},
        )
        facts = json.loads(self.sandbox.stdout.readline())
        self.portal = facts["portal_url"]
        db = os.path.join(tmp, "%s.db" % name)
        env = {
            "PATH": os.environ["PATH"], "B24_CLIENT_ID": facts["client_id"], "B24_CLIENT_SECRET": facts["client_secret"],
            "APP_BASE_URL": self.url + "/", "APP_LISTEN": "127.0.0.1:%d" % app_port, "DATABASE_URL": "sqlite://" + db,
            "APP_SECRET_KEY": "b3Blbmxvb3AtYmVuY2gtc2VjcmV0LWtleS0zMi1ieXQ=", "B24_OAUTH_SERVER": facts["oauth_url"],
            "APP_ALLOW_INSECURE_PORTALS": "true", "B24_RATE_LIMIT": "1000000/1000000",
            "RUST_LOG": os.environ.get("OPENLOOP_RUST_LOG", "warn"),
        }
        if os.environ.get("OPENLOOP_APP_PRELOAD"):
            env["LD_PRELOAD"] = os.environ["OPENLOOP_APP_PRELOAD"]
        for setting in ("MALLOC_CONF", "GLIBC_TUNABLES"):
            if os.environ.get(setting):
                env[setting] = os.environ[setting]
        self.app = subprocess.Popen(pinned([self.binary, "serve"], APP_CORES), env=env, cwd=tmp,
                                    stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, name + ".log"), "w"))
        wait_http(self.url + "/healthz")
        time.sleep(1)
        self.idle_before_install = rss_kib(self.app.pid)
        status, _ = post(self.portal + "_sandbox/install", body=b"{}", content_type="application/json")
        assert status == 200, "install"
        time.sleep(1)
        self.idle = rss_kib(self.app.pid)
        every = json.loads(urllib.request.urlopen(self.portal + "_sandbox/lists").read())
        self.lists = [l["id"] for l in every if len(l.get("members", [])) == MEMBERS]
        assert len(self.lists) == LISTS, "the sandbox seeded %d big lists" % len(self.lists)
        self.sessions = [self.new_session() for _ in range(sessions)]

    def new_session(self):
        _, answer = post(self.portal + "_sandbox/open", body=json.dumps({"user_id": 2}).encode(),
                         content_type="application/json")
        return hidden(json.loads(answer)["body"], "_session")

    def open_body(self, session, list_id, page=0, go=None):
        fields = {"_session": session, "etype": "contact"}
        if page:
            fields["mpage"] = str(page)
        if go:
            fields["go"] = go
        return "/lists/%d" % list_id, urllib.parse.urlencode(fields)

    def batches(self):
        """Batch requests the app has sent so far (its /metrics)."""
        text = urllib.request.urlopen(self.url + "/metrics").read().decode()
        return sum(float(m.group(1)) for m in re.finditer(r'^\S*bitrix_calls_total\{[^}]*method="batch"[^}]*\} (\S+)$',
                                                          text, re.M))

    def stop(self):
        for p in (self.app, self.sandbox):
            p.terminate()
        for p in (self.app, self.sandbox):
            p.wait(timeout=30)


class Client:
    """Keep-alive connections, one per sending thread, as a browser keeps its own."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def post(self, path, body):
        for attempt in (0, 1):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
                r = conn.getresponse()
                page = r.read()
                return r.status, page
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise


def open_loop(jobs, seconds, floor=None, rate=MANAGERS / PERIOD):
    """Sends `jobs(k)` (a list of (label, client, path, body) sent one after another, as one arrival) at the
    k-th scheduled time; the floor gets a request at the same rate. Returns latencies by label, counted from
    each arrival's scheduled start."""
    arrivals = int(seconds * rate)
    latencies, failures, late = {}, [0], []
    lock = threading.Lock()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=256)

    def send(scheduled, steps):
        late.append(time.perf_counter() - scheduled)
        for label, client, path, body in steps:
            try:
                status, page = client.post(path, body)
                ok = status == 200 and (label == "hello" or b'id="members"' in page or b'id="summary"' in page)
            except Exception:
                ok = False
            took = (time.perf_counter() - scheduled) * 1000
            with lock:
                if ok:
                    latencies.setdefault(label, []).append(took)
                else:
                    failures[0] += 1
            scheduled = time.perf_counter()

    start = time.perf_counter() + 0.5
    for k in range(arrivals):
        at = start + k / rate
        pause = at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        pool.submit(send, at, jobs(k))
        if floor:
            pool.submit(send, at, [("hello", floor, "/", "x")])
    pool.shutdown(wait=True)
    return latencies, failures[0], late


def schedule(stack, client, phase, paging=False):
    """The k-th arrival of a phase: manager k % 50, their (k // 50)-th visit."""
    sessions = stack.sessions

    def uncached(k):
        # A manager comes back to a list after 20 visits (40 s at the managers' rate, past the cache's 20 s);
        # faster, with `paging`, each pass over the lists moves to the next page.
        m, visit = k % MANAGERS, k // MANAGERS
        page = (visit // LISTS) % PAGES if paging else 0
        path, body = stack.open_body(sessions[m], stack.lists[(m + visit) % LISTS], page)
        return [("open", client, path, body)]

    def hits(k):
        # Every manager back on the list they opened before the phase (it lasts less than 20 s).
        m = k % MANAGERS
        path, body = stack.open_body(sessions[m], stack.lists[m % LISTS])
        return [("open: cached", client, path, body)]

    def cached(k):
        m, visit = k % MANAGERS, k // MANAGERS
        lap, step = divmod(visit, 10)
        path, body = stack.open_body(sessions[m], stack.lists[(m + lap) % LISTS])
        return [("open: read" if step == 0 else "open: cached", client, path, body)]

    def first(k):
        m, visit = k % MANAGERS, k // MANAGERS
        list_id = stack.lists[(m + visit) % LISTS]
        path, body = stack.open_body(sessions[m], list_id)
        _, count = stack.open_body(sessions[m], list_id, go="count")
        return [("open", client, path, body), ("count", client, path, count)]

    return {"uncached": uncached, "cached": cached, "first": first, "hits": hits}[phase]


def run_phase(stack, hello_client, hello_pid, phase, seconds, perf_dir=None, rate=MANAGERS / PERIOD):
    client = Client(stack.url)
    stack.sessions = [stack.new_session() for _ in range(MANAGERS)]
    jobs = schedule(stack, client, phase, paging=rate > MANAGERS / PERIOD)
    if phase == "hits":
        for k in range(MANAGERS):
            client.post(*jobs(k)[0][2:])
    recorders = []
    if perf_dir:
        for who, pid in (("app", stack.app.pid), ("sandbox", stack.sandbox.pid)):
            recorders.append(subprocess.Popen(
                ["perf", "record", "-F", "1999", "--call-graph", "dwarf,16384", "-p", str(pid), "-o",
                 os.path.join(perf_dir, "%s-%s.data" % (phase, who)), "--", "sleep", str(seconds)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1)
    before = (cpu_seconds(stack.app.pid), cpu_seconds(stack.sandbox.pid), cpu_seconds(hello_pid), stack.batches(),
              os.times())
    latencies, failed, late = open_loop(jobs, seconds, hello_client, rate)
    after = (cpu_seconds(stack.app.pid), cpu_seconds(stack.sandbox.pid), cpu_seconds(hello_pid), stack.batches(),
             os.times())
    for r in recorders:
        r.wait()
    pages = sum(len(v) for k, v in latencies.items() if k != "hello")
    arrivals = len(latencies.get("open", [])) + len(latencies.get("open: read", [])) + len(
        latencies.get("open: cached", []))
    gen = (after[4].user + after[4].system) - (before[4].user + before[4].system)
    return {
        "phase": phase, "latencies": latencies, "failed": failed, "arrivals": arrivals, "pages": pages,
        "app_cpu": after[0] - before[0], "portal_cpu": after[1] - before[1], "hello_cpu": after[2] - before[2],
        "batches": after[3] - before[3], "late_p99": quantile(late, 0.99) * 1000, "generator_cpu": gen,
    }


def report_open_loop(results):
    print("\nOpen loop: %d managers, one page every %.0f s each (%.0f arrivals/s); sandbox on core %s, app, "
          "generator and floor on core %s\n" % (MANAGERS, PERIOD, MANAGERS / PERIOD, PORTAL_CORES, APP_CORES))
    print("| phase | request | n | p50 | p99 | max | app CPU per arrival | sandbox CPU per arrival | batches sent |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        pages = r["arrivals"] or 1
        first_row = True
        for label in (k for k in ("open", "count", "open: cached", "open: read") if k in r["latencies"]):
            v = r["latencies"][label]
            print("| %s | %s | %d | %.2f ms | %.2f ms | %.2f ms | %s | %s | %s |" % (
                r["phase"] if first_row else "", label, len(v), quantile(v, 0.5), quantile(v, 0.99), max(v),
                "%.2f ms" % (r["app_cpu"] * 1000 / pages) if first_row else "",
                "%.2f ms" % (r["portal_cpu"] * 1000 / pages) if first_row else "",
                "%d" % r["batches"] if first_row else ""))
            first_row = False
        h = r["latencies"].get("hello", [])
        print("| %s | hello (floor) | %d | %.2f ms | %.2f ms | %.2f ms | %.3f ms | | |" % (
            "", len(h), quantile(h, 0.5), quantile(h, 0.99), max(h or [0]), r["hello_cpu"] * 1000 / max(1, len(h))))
    by = {r["phase"]: r for r in results}
    if "uncached" in by and "cached" in by:
        u, c = by["uncached"], by["cached"]
        hits = len(c["latencies"].get("open: cached", []))
        reads = c["arrivals"] - hits
        per_read = u["app_cpu"] / max(1, u["arrivals"])
        print("\napp CPU per cached open, less the reads in that phase at the uncached cost: %.2f ms" % (
            max(0.0, c["app_cpu"] - reads * per_read) * 1000 / max(1, hits)))
    print()
    for r in results:
        print("%s: %d failed, late starts p99 %.1f ms, generator CPU %.1f s, app CPU %.2f s for %d requests, sandbox %.2f s"
              % (r["phase"], r["failed"], r["late_p99"], r["generator_cpu"], r["app_cpu"], r["pages"], r["portal_cpu"]))


def main_open_loop(args):
    tmp = tempfile.mkdtemp()
    if APP_CORES:
        os.sched_setaffinity(0, {int(APP_CORES)})
    stack = Stack(args.app or BIN, tmp, "new", 0)
    hello_port = free_port()
    hello = subprocess.Popen(pinned([HELLO, "127.0.0.1:%d" % hello_port], APP_CORES), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        hello_client = Client("http://127.0.0.1:%d" % hello_port)
        # Warm the app's pools and caches of the portal's tokens with one open.
        status, page = Client(stack.url).post(*stack.open_body(stack.new_session(), stack.lists[0]))
        assert status == 200 and b'id="members"' in page, "a session opens the list: %r" % page[:300]
        if args.perf:
            # Four times the managers' rate, so the samples are many; each phase's screens stay uncached or
            # cached throughout (16 s is within the cache's 20 s).
            os.makedirs(args.perf, exist_ok=True)
            results = [run_phase(stack, hello_client, hello.pid, phase, 16, args.perf, 4 * MANAGERS / PERIOD)
                       for phase in (args.phases or "uncached,hits").split(",")]
        else:
            lengths = {"uncached": SECONDS, "cached": SECONDS * 4 // 3, "first": SECONDS // 2, "hits": 16}
            results = [run_phase(stack, hello_client, hello.pid, phase, lengths[phase])
                       for phase in (args.phases or "uncached,cached,first").split(",")]
        report_open_loop(results)
        print("\napp RSS idle %.1f MB, after the phases %.1f MB" % (stack.idle / 1024, rss_kib(stack.app.pid) / 1024))
    finally:
        hello.terminate()
        hello.wait(timeout=30)
        stack.stop()


# Closed-loop mixes: every open a screen the session has not read within 20 s; every session reopening one
# list (as benches/overhead.py does); or the two in turn.
MIXES = {"new": "each a new screen", "again": "one list again", "half": "half new, half again"}


def wrk_lua(path, stack, mix, limit=0):
    """Closed-loop opens: each of wrk's two threads walks (session, list, page) in its own order, so no new
    screen repeats within 20,000 opens."""
    with open(path, "w") as f:
        f.write("local sessions = {%s}\n" % ",".join('"%s"' % urllib.parse.quote(s, safe="") for s in stack.sessions))
        f.write("local lists = {%s}\n" % ",".join(str(l) for l in stack.lists))
        f.write("local threads = 0\nfunction setup(thread)\n  thread:set('tid', threads)\n  threads = threads + 1\nend\n")
        f.write("local n = -1\nrequest = function()\n  n = n + 1\n  local k = n * 2 + (tid or 0)\n"
                "  local s = sessions[(k %% #sessions) + 1]\n"
                "  local l = lists[(math.floor(k / #sessions) %% #lists) + 1]\n"
                "  local p = math.floor(k / (#sessions * #lists)) %% %d\n" % PAGES)
        again = {"new": "false", "again": "true", "half": "math.floor(k / #sessions) % 2 == 1"}[mix]
        f.write("  if %s then l = lists[1]; p = 0 end\n" % again)
        f.write('  return wrk.format("POST", "/lists/" .. l, {["Content-Type"] = "application/x-www-form-urlencoded"}, '
                '"etype=contact&mpage=" .. p .. "&_session=" .. s)\nend\n')
        # With a limit, each of the two threads stops after half of it and says so in `path`.done, where
        # wrk_run looks to end the run (wrk itself would wait out its duration).
        f.write("local answered = 0\nresponse = function(status, headers, body)\n  answered = answered + 1\n"
                "  if %d > 0 and answered == %d then\n    local f = io.open('%s.done', 'a')\n    f:write('done\\n')\n"
                "    f:close()\n    wrk.thread:stop()\n  end\nend\n" % (limit, (limit + 1) // 2, path))


def wrk_run(stack, script, connections, seconds):
    """wrk for `seconds`, or until both threads have written `script`.done (a limit in the script)."""
    done = script + ".done"
    if os.path.exists(done):
        os.remove(done)
    run = subprocess.Popen(
        pinned(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--latency", "--timeout", "30s", "-s", script,
                stack.url], APP_CORES),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    while run.poll() is None:
        if os.path.exists(done) and open(done).read().count("done") >= 2:
            run.send_signal(signal.SIGINT)  # wrk stops and reports on SIGINT
            break
        time.sleep(0.1)
    out = run.communicate(timeout=60)[0]

    def pick(label):
        m = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), out, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50": pick("50%"), "p99": pick("99%"), "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "n": total, "non2xx": int(errors.group(1)) if errors else 0}


def closed(stack, tmp, mix, seconds):
    # Fresh sessions for every run, so no run finds screens an earlier one read.
    stack.sessions = [stack.new_session() for _ in range(MANAGERS)]
    script = os.path.join(tmp, "%s-%s.lua" % (stack.name, mix))
    wrk_lua(script, stack, mix)
    cpu0, b0 = cpu_seconds(stack.app.pid), stack.batches()
    r = wrk_run(stack, script, MANAGERS, seconds)
    r["app_cpu_ms"] = (cpu_seconds(stack.app.pid) - cpu0) * 1000 / max(1, r["n"])
    r["batches"] = stack.batches() - b0
    r["rss"] = rss_kib(stack.app.pid) / 1024
    return r


def main_closed(args):
    """Closed loop at 50 sessions, this build and an older one in one run, turn about, twice per mix."""
    tmp = tempfile.mkdtemp()
    seconds = max(5, SECONDS // 3)
    stacks = {"new": Stack(BIN, tmp, "new", MANAGERS), "old": Stack(args.closed, tmp, "old", MANAGERS)}
    try:
        for s in stacks.values():
            status, page = Client(s.url).post(*s.open_body(s.sessions[0], s.lists[0]))
            assert status == 200 and b'id="members"' in page, "%s opens the list" % s.name
        rows = []
        for mix in MIXES:
            for rnd in (1, 2):
                for name in ("old", "new"):
                    r = closed(stacks[name], tmp, mix, seconds)
                    r.update(build=name, mix=mix, round=rnd)
                    rows.append(r)
                    print("%s, %s, round %d: p50 %.1f ms p99 %.1f ms %.0f opens/s (%d, %d non-2xx), %d batches, "
                          "app CPU %.2f ms per open, RSS %.1f MB, load %s" % (
                              name, MIXES[mix], rnd, r["p50"], r["p99"], r["rps"], r["n"], r["non2xx"], r["batches"],
                              r["app_cpu_ms"], r["rss"], load_average()), flush=True)
        print("\n| opens | build | open p50 | open p99 | opens/s | portal batches per open | app CPU per open |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        ratios = []
        for mix in MIXES:
            for name in ("old", "new"):
                rs = [r for r in rows if r["build"] == name and r["mix"] == mix]
                n = sum(r["n"] for r in rs)
                print("| %s | %s | %.1f ms | %.1f ms | %.0f | %.2f | %.2f ms |" % (
                    MIXES[mix], name, statistics_median([r["p50"] for r in rs]),
                    statistics_median([r["p99"] for r in rs]), sum(r["rps"] for r in rs) / len(rs),
                    sum(r["batches"] for r in rs) / max(1, n), sum(r["app_cpu_ms"] * r["n"] for r in rs) / max(1, n)))
            old = statistics_median([r["p99"] for r in rows if r["build"] == "old" and r["mix"] == mix])
            new = statistics_median([r["p99"] for r in rows if r["build"] == "new" and r["mix"] == mix])
            ratios.append("%s %.1f ×" % (MIXES[mix], old / new))
        print("\np99 old ÷ new: " + "; ".join(ratios))
    finally:
        for s in stacks.values():
            s.stop()


def statistics_median(v):
    v = sorted(v)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def main_memory(args):
    """Idle RSS of `serve`, then RSS after 10,000 opens at 50 sessions, each open a screen not read before."""
    tmp = tempfile.mkdtemp()
    stack = Stack(BIN, tmp, "new", MANAGERS)
    try:
        print("app RSS idle: %.1f MB before the install, %.1f MB after it and %d sessions" % (
            stack.idle_before_install / 1024, rss_kib(stack.app.pid) / 1024, MANAGERS))
        peak = PeakRss(stack.app.pid).start()
        for mix in ("new", "again"):
            script = os.path.join(tmp, "memory-%s.lua" % mix)
            wrk_lua(script, stack, mix, limit=10_000)
            opens = wrk_run(stack, script, MANAGERS, 300)["n"]
            print("after %d opens at %d sessions (%s): RSS %.1f MB, peak %.1f MB" % (
                opens, MANAGERS, MIXES[mix],
                rss_kib(stack.app.pid) / 1024, peak.peak / 1024), flush=True)
        peak.stop()
        time.sleep(25)
        print("25 s later (the screens' 20 s expired): RSS %.1f MB" % (rss_kib(stack.app.pid) / 1024))
    finally:
        stack.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--closed", metavar="OLD_BIN", help="closed loop at 50 sessions, this build and OLD_BIN")
    ap.add_argument("--memory", action="store_true", help="idle RSS and RSS after 10,000 opens")
    ap.add_argument("--app", metavar="BIN", help="the open loop against another build of the app (the sandbox is "
                    "still this build's)")
    ap.add_argument("--phases", help="phases to run, of uncached, cached, first, hits (16 s, every open cached); "
                    "default uncached,cached,first, and uncached,hits with --perf")
    ap.add_argument("--perf", metavar="DIR", help="record uncached and cached opens with perf into DIR")
    args = ap.parse_args()
    for path in (BIN, HELLO):
        if not os.path.exists(path):
            sys.exit("build first: cargo build --release --bin b24-calllist --example hello")
    print("load average before: %s" % load_average(), flush=True)
    try:
        run(args)
    finally:
        print("load average after: %s" % load_average())


def run(args):
    if args.closed:
        main_closed(args)
    elif args.memory:
        main_memory(args)
    else:
        main_open_loop(args)


if __name__ == "__main__":
    main()
