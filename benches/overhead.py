#!/usr/bin/env python3
"""Server overhead of the app, with the sandbox at zero latency and no limits.

Latency p50 and p99 of opening a list page (a 1,000-member list) and of a save, at 1, 50 and 200 concurrent
manager sessions; the app's memory idle and under that load; and, as the floor, a hello-world actix-web
handler built and measured in the same run. Everything on loopback, bounded in time.

    cargo build --release --bin b24-calllist --example hello
    python3 benches/overhead.py            # needs wrk (apt-get install wrk)

Opening pages is driven by wrk; saves (a review, then a save, on each session's own list) by threads here,
since each save needs the fingerprint its review returned.
"""

import base64
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "b24-calllist")
HELLO = os.path.join(ROOT, "target", "release", "examples", "hello")
LEVELS = [1, 50, 200]
SECONDS = int(os.environ.get("OVERHEAD_SECONDS", "10"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, fields=None, body=None, content_type="application/x-www-form-urlencoded"):
    data = body if body is not None else urllib.parse.urlencode(fields or {}, doseq=True).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": content_type}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, r.read().decode()


def hidden(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    if not m:
        raise RuntimeError("no %s in page" % name)
    return m.group(1)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class PeakRss:
    """The highest RSS of a process, sampled every 0.2 s from start() to stop()."""

    def __init__(self, pid, start=0):
        self.pid, self.peak = pid, start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample)

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.2)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


def wait_http(url, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("no answer from %s" % url)


def wrk(url, script, connections):
    out = subprocess.run(
        ["wrk", "-t%d" % min(2, connections), "-c%d" % connections, "-d%ds" % SECONDS, "--latency", "-s", script, url],
        capture_output=True, text=True, timeout=SECONDS + 60,
    )
    if os.environ.get("OVERHEAD_DEBUG"):
        sys.stderr.write(out.stderr[:800])
    out = out.stdout
    def pick(label):
        m = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50": pick("50%"), "p99": pick("99%"), "rps": float(rps.group(1)) if rps else 0.0,
            "non2xx": int(errors.group(1)) if errors else 0}


def lua_script(path, sessions, target):
    with open(path, "w") as f:
        f.write("local sessions = {%s}\n" % ",".join('"%s"' % s for s in sessions))
        f.write("local n = 0\n")
        f.write("request = function()\n  n = n + 1\n  local s = sessions[(n % #sessions) + 1]\n")
        f.write('  return wrk.format("POST", "%s", {["Content-Type"] = "application/x-www-form-urlencoded"}, "etype=contact&_session=" .. s)\nend\n' % target)
        if os.environ.get("OVERHEAD_DEBUG"):
            f.write('local shown = false\nresponse = function(status, headers, body)\n  if status ~= 200 and not shown then shown = true; io.stderr:write(status .. " " .. body:sub(1, 400) .. "\\n") end\nend\n')


def main():
    for path in (BIN, HELLO):
        if not os.path.exists(path):
            sys.exit("build first: cargo build --release --bin b24-calllist --example hello")
    tmp = tempfile.mkdtemp()
    app_port, portal_port, oauth_port, hello_port = free_port(), free_port(), free_port(), free_port()
    app_url = "http://127.0.0.1:%d/" % app_port
    lists = ["--list", "contact:1000"]
    sandbox = subprocess.Popen(
        [BIN, "sandbox", "--listen", "127.0.0.1:%d" % portal_port, "--oauth-listen", "127.0.0.1:%d" % oauth_port,
         "--app-url", app_url, "--not-installed", "--limits", "off", "--contacts", "1400", "--json"] + lists,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={"PATH": os.environ["PATH"]},
    )
    facts = json.loads(sandbox.stdout.readline())
    portal = facts["portal_url"]
    env = {
        "PATH": os.environ["PATH"], "B24_CLIENT_ID": facts["client_id"], "B24_CLIENT_SECRET": facts["client_secret"],
        "APP_BASE_URL": app_url, "APP_LISTEN": "127.0.0.1:%d" % app_port,
        "DATABASE_URL": "sqlite://%s/overhead.db" % tmp, "APP_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
        "B24_OAUTH_SERVER": facts["oauth_url"], "APP_ALLOW_INSECURE_PORTALS": "true",
        "B24_RATE_LIMIT": "1000000/1000000", "RUST_LOG": "warn",
    }
    app = subprocess.Popen([BIN, "serve"], env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hello = subprocess.Popen([HELLO, "127.0.0.1:%d" % hello_port], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(app_url + "healthz")
        status, _ = post(portal + "_sandbox/install", body=b"{}", content_type="application/json")
        assert status == 200, "install"
        time.sleep(1)
        idle = rss_kib(app.pid)
        sessions = []
        for _ in range(max(LEVELS)):
            _, answer = post(portal + "_sandbox/open", body=json.dumps({"user_id": 2}).encode(), content_type="application/json")
            page = json.loads(answer)["body"]
            if os.environ.get("OVERHEAD_DEBUG") and "_session" not in page:
                sys.stderr.write(answer[:1500])
            sessions.append((hidden(page, "_session"), hidden(page, "_csrf")))
        # Each session's own 20-member list for the saves, added after the sessions opened the app: the app's
        # start page cannot show a page of 50 lists (its batch would be 51 commands).
        contacts = json.loads(urllib.request.urlopen(portal + "_sandbox/contacts").read())
        members = sorted(c["id"] for c in contacts)[:20]
        for _ in range(max(LEVELS)):
            post(portal + "_sandbox/lists", body=json.dumps({"entity_type": "CONTACT", "members": members}).encode(),
                 content_type="application/json")
        contact_lists = [l for l in json.loads(urllib.request.urlopen(portal + "_sandbox/lists").read()) if len(l.get("members", [])) == 20]
        big = [l for l in json.loads(urllib.request.urlopen(portal + "_sandbox/lists").read()) if len(l.get("members", [])) == 1000][0]["id"]
        extra = json.loads(post(portal + "_sandbox/contacts", body=json.dumps({"id": 0, "name": "Overhead", "last_name": "Bench", "second_name": "", "honorific": "", "post": "",
                         "company_id": None, "phones": [], "emails": [], "assigned_by_id": 1, "created_time": ""}).encode(), content_type="application/json")[1])
        extra_id = extra.get("id") or extra.get("ID")
        status, page = post(app_url + "lists/%d" % big, {"_session": sessions[0][0], "etype": "contact"})
        assert status == 200 and 'id="members"' in page, "a session opens the list: %s" % page[:500]
        script = os.path.join(tmp, "open.lua")
        lua_script(script, [urllib.parse.quote(s, safe="") for s, _ in sessions], "/lists/%d" % big)
        hello_script = os.path.join(tmp, "hello.lua")
        lua_script(hello_script, ["x"], "/")

        print("| sessions | open page p50 | open page p99 | open req/s | save p50 | save p99 | saves/s | hello p50 | hello p99 | app RSS |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        peak = idle
        for level in LEVELS:
            lua_script(script, [urllib.parse.quote(s, safe="") for s, _ in sessions[:level]], "/lists/%d" % big)
            sampler_stop = threading.Event()
            peaks = []

            def sample():
                while not sampler_stop.is_set():
                    peaks.append(rss_kib(app.pid))
                    time.sleep(0.2)

            t = threading.Thread(target=sample)
            t.start()
            opened = wrk(app_url, script, level)
            saves = save_load(app_url, sessions[:level], contact_lists[:level], extra_id)
            sampler_stop.set()
            t.join()
            peak = max([peak] + peaks)
            floor = wrk("http://127.0.0.1:%d/" % hello_port, hello_script, level)
            print("| %d | %.2f ms | %.2f ms | %.0f | %.2f ms | %.2f ms | %.0f | %.3f ms | %.3f ms | %.1f MB |" % (
                level, opened["p50"], opened["p99"], opened["rps"], saves["p50"], saves["p99"], saves["rate"],
                floor["p50"], floor["p99"], max(peaks or [0]) / 1024))
            if opened["non2xx"] or saves["failed"]:
                print("  (non-2xx opens: %d, failed saves: %d)" % (opened["non2xx"], saves["failed"]))
        print("\napp RSS idle after start: %.1f MB; peak under load: %.1f MB; after the load: %.1f MB"
              % (idle / 1024, peak / 1024, rss_kib(app.pid) / 1024))
    finally:
        for p in (app, sandbox, hello):
            p.terminate()
        for p in (app, sandbox, hello):
            p.wait(timeout=30)


# Whether each list holds the extra contact now; kept across concurrency levels, which reuse lists.
PRESENT = {}


def save_load(app_url, sessions, lists, extra_id):
    """Each session reviews then saves on its own list, adding and removing one contact in turn."""
    latencies, failed = [], [0]
    lock = threading.Lock()
    end = time.time() + SECONDS

    def worker(session, csrf, list_id):
        while time.time() < end:
            adding = not PRESENT.get(list_id, False)
            fields = {"_session": session, "_csrf": csrf, "go": "review", "etype": "contact",
                      "add" if adding else "remove": str(extra_id), "form": "keep"}
            try:
                _, preview = post(app_url + "lists/%d" % list_id, fields)
                if 'name="base"' not in preview:
                    raise RuntimeError("no review: %s" % re.findall(r'data-notice="[^"]*">[^<]*', preview)[:2])
                save = {"_session": session, "_csrf": csrf}
                for name in ("etype", "add", "remove", "form", "base"):
                    save[name] = hidden(preview, name)
                started = time.perf_counter()
                _, page = post(app_url + "lists/%d/save" % list_id, save)
                took = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(took)
                    if 'data-notice="success"' in page:
                        PRESENT[list_id] = adding
                    else:
                        failed[0] += 1
                        if failed[0] == 1:
                            sys.stderr.write("first failed save: %s\n" % re.findall(r'data-notice="[^"]*">[^<]*', page)[:2])
            except Exception as e:
                with lock:
                    failed[0] += 1
                    if failed[0] == 1:
                        sys.stderr.write("first failed save: %r\n" % e)
                time.sleep(0.05)

    threads = [threading.Thread(target=worker, args=(s, c, l["id"])) for (s, c), l in zip(sessions, lists)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else float("nan")
    return {"p50": q(0.5), "p99": q(0.99), "rate": len(latencies) / SECONDS, "failed": failed[0]}


if __name__ == "__main__":
    main()
