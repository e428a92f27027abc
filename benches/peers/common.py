"""Shared helpers for the peer benchmarks: a sandbox per scenario, its call log, the bucket, timing.

Every scenario gets a fresh sandbox process (so Bitrix24's leaky bucket starts empty), started from the
release binary exactly as `run.sh` and `benches/peers_ours.rs` start it:

    b24-calllist sandbox --listen 127.0.0.1:0 --oauth-listen 127.0.0.1:0 --json \
        --latency-ms 100 --contacts 10000 --limits on

Requests are counted from the sandbox's own call log (`GET /_sandbox/calls`): top-level HTTP requests only
(`via` != "batch"), including any the portal refused with 503 `QUERY_LIMIT_EXCEEDED`.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("B24_SANDBOX_BIN", REPO / "target" / "release" / "b24-calllist"))

LATENCY_MS = int(os.environ.get("PEERS_LATENCY_MS", "100"))
CONTACTS = 10_000
# Default seeded lists: contact:25 company:10 contact:1000 contact:0 -> the 1,000-member list is ID 3.
LIST_ID = 3
LIST_SIZE = 1_000
EXTRA_MEMBERS = 3


def sandbox_args() -> list[str]:
    return [
        str(BIN),
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--oauth-listen",
        "127.0.0.1:0",
        "--json",
        "--latency-ms",
        str(LATENCY_MS),
        "--contacts",
        str(CONTACTS),
        "--limits",
        "on",
    ]


class Sandbox:
    """One sandbox process. Use as a context manager."""

    def __init__(self) -> None:
        self.proc: Optional[subprocess.Popen] = None
        self.facts: dict[str, Any] = {}

    def __enter__(self) -> "Sandbox":
        if not BIN.exists():
            sys.exit(f"no sandbox binary at {BIN}: run `cargo build --release` first (or set B24_SANDBOX_BIN)")
        self.proc = subprocess.Popen(
            sandbox_args(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "RUST_LOG": "warn"},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox printed nothing")
        self.facts = json.loads(line)
        # keep draining stdout so the process never blocks on a full pipe
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # --- facts ---------------------------------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        return self.facts["rest_url"]  # http://127.0.0.1:PORT/rest/

    @property
    def domain(self) -> str:
        return self.facts["domain"]  # 127.0.0.1:PORT

    @property
    def control_url(self) -> str:
        return self.facts["control_url"]

    @property
    def admin_token(self) -> str:
        return next(u for u in self.facts["users"] if u["id"] == 1)["access_token"]

    # --- control API (not rate-limited, not logged as REST calls) ------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.control_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def last_seq(self) -> int:
        calls = self.control("GET", "calls")
        return max((c["seq"] for c in calls), default=0)

    def calls_since(self, seq: int) -> list[dict]:
        return [c for c in self.control("GET", "calls") if c["seq"] > seq]

    def list_member_ids(self, list_id: int = LIST_ID) -> list[int]:
        view = self.control("GET", f"lists/{list_id}")
        return [m["element_id"] for m in view["members"]]

    def list_view(self, list_id: int = LIST_ID) -> dict:
        return self.control("GET", f"lists/{list_id}")

    def update_payload(self) -> tuple[list[int], Optional[int]]:
        """The 1,003 IDs of the update (the list's 1,000 plus 3 contacts not in it) and the list's form."""
        view = self.list_view()
        members = [m["element_id"] for m in view["members"]]
        inside = set(members)
        contacts = self.control("GET", "contacts")
        outside = [c["id"] for c in contacts if c["id"] not in inside][:EXTRA_MEMBERS]
        return members + outside, view.get("webform_id")

    # --- the bucket ----------------------------------------------------------------------------------------

    def fill_bucket(self, n: int = 52) -> dict:
        """Fills the portal's bucket (50) with quick `profile` calls sent at once, as another app would."""
        url = self.rest_url + "profile"
        body = json.dumps({"auth": self.admin_token}).encode()

        def one(_: int) -> int:
            req = urllib.request.Request(url, data=body, method="POST")
            req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    r.read()
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        with ThreadPoolExecutor(max_workers=n) as pool:
            statuses = list(pool.map(one, range(n)))
        return {"accepted": statuses.count(200), "refused": sum(1 for s in statuses if s == 503)}


@dataclass
class Outcome:
    client: str
    scenario: str  # members | members_full | names | contacts | update
    variant: str  # helper | paged | batched | ...
    run: int
    requests: int = 0  # top-level HTTP requests the portal received (incl. refused)
    refused: int = 0  # of those, 503 QUERY_LIMIT_EXCEEDED
    commands: int = 0  # commands inside batches
    seconds: float = 0.0
    rows: int = 0
    expected_rows: int = 0
    ok: bool = True
    note: str = ""
    error: str = ""


def measure(
    sb: Sandbox,
    outcome: Outcome,
    work: Callable[[], int],
    before: Optional[Callable[[], None]] = None,
    check: Optional[Callable[[], int]] = None,
) -> Outcome:
    """Runs `work` (returns the number of rows it got), timing it and counting the requests it caused.
    `before` runs before the clock starts (e.g. filling the bucket); `check`, after it stops, replaces the row
    count (e.g. the list's size read through the control API after an update)."""
    if before is not None:
        before()
    seq = sb.last_seq()
    started = time.perf_counter()
    try:
        outcome.rows = work()
    except Exception as e:  # the SDK's own exception, reported as data
        outcome.ok = False
        # without the sandbox's address (a random loopback port)
        outcome.error = f"{type(e).__name__}: " + re.sub(r",? ?url='[^']*'", "", str(e))[:300]
    outcome.seconds = time.perf_counter() - started
    if outcome.ok and check is not None:
        outcome.rows = check()
    calls = sb.calls_since(seq)
    top = [c for c in calls if c.get("via") != "batch"]
    outcome.requests = len(top)
    outcome.refused = sum(1 for c in top if c.get("status") == 503)
    outcome.commands = len(calls) - len(top)
    refusals = sorted(
        {f"{c['method']} {c['status']} {c.get('error') or ''}".strip() for c in top if c.get("status") not in (200, 503)}
    )
    if refusals:
        said = "the portal answered " + ", ".join(refusals)
        if outcome.error:
            outcome.error += f" ({said})"
        else:
            outcome.note = (outcome.note + "; " if outcome.note else "") + said
    if outcome.ok and outcome.expected_rows and outcome.rows != outcome.expected_rows:
        outcome.ok = False
        outcome.note = (outcome.note + "; " if outcome.note else "") + (
            f"returned {outcome.rows} of {outcome.expected_rows} rows without an error"
        )
    return outcome


def report(outcome: Outcome) -> None:
    flag = "ok " if outcome.ok else "BAD"
    extra = outcome.error or outcome.note
    print(
        f"  {flag} {outcome.client:<14} {outcome.scenario:<13} {outcome.variant:<8} run {outcome.run}: "
        f"{outcome.requests:>3} req ({outcome.refused} refused) {outcome.seconds:7.3f} s  "
        f"{outcome.rows:>5}/{outcome.expected_rows} rows  {extra}",
        file=sys.stderr,
        flush=True,
    )


def write_results(path: Optional[str], outcomes: list[Outcome]) -> None:
    rows = [asdict(o) for o in outcomes]
    if path:
        Path(path).write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    summary = summarise(rows)
    for key, s in summary.items():
        print(
            f"{key:<40} requests {s['requests']:>5}  median {s['seconds']:7.3f} s  "
            f"({'ok' if s['ok'] else 'WRONG: ' + s['why']})"
        )


def summarise(rows: list[dict]) -> dict[str, dict]:
    """Median seconds and requests per client/scenario/variant across runs."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(f"{r['client']}/{r['scenario']}/{r['variant']}", []).append(r)
    out = {}
    for key, rs in groups.items():
        out[key] = {
            "requests": statistics.median(r["requests"] for r in rs),
            "refused": statistics.median(r["refused"] for r in rs),
            "seconds": statistics.median(r["seconds"] for r in rs),
            "runs": len(rs),
            "ok": all(r["ok"] for r in rs),
            "why": next((r["error"] or r["note"] for r in rs if not r["ok"]), ""),
            "rows": statistics.median(r["rows"] for r in rs),
        }
    return out


def runs_from_argv(default: int = 3) -> tuple[range, Optional[str], Optional[set[str]]]:
    """`--runs N`, `--round R` (number of the first run, for interleaved rounds), `--out FILE.json`,
    `--only scenario[,scenario]`."""
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=default)
    p.add_argument("--round", type=int, default=1)
    p.add_argument("--out")
    p.add_argument("--only")
    a = p.parse_args()
    return range(a.round, a.round + a.runs), a.out, set(a.only.split(",")) if a.only else None


def chunks(xs: list, n: int) -> list[list]:
    return [xs[i : i + n] for i in range(0, len(xs), n)]


@dataclass
class Plan:
    """The scenarios a script runs: name -> list of (variant, function(sandbox, run) -> Outcome)."""

    entries: list[tuple[str, str, Callable[[Sandbox, int], Outcome]]] = field(default_factory=list)

    def add(self, scenario: str, variant: str, fn: Callable[[Sandbox, int], Outcome]) -> None:
        self.entries.append((scenario, variant, fn))

    def run(self, runs: range, only: Optional[set[str]]) -> list[Outcome]:
        results = []
        for run in runs:
            for scenario, variant, fn in self.entries:
                if only and scenario not in only:
                    continue
                with Sandbox() as sb:  # a fresh portal: empty bucket, seeded data
                    o = fn(sb, run)
                report(o)
                results.append(o)
        return results
