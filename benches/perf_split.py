#!/usr/bin/env python3
"""Where a process's CPU went, by concern: reads a `perf record --call-graph dwarf` file and splits its
samples (JSON parsing, copies of `serde_json::Value`, page rendering, logging, the REST log, the HTTP client
and server, SQLite, ...), and, across the same samples, by the app's stage (session check, reading the
screen, rendering, ...).

    python3 benches/openloop.py --perf DIR    # records DIR/{uncached,hits}-{app,sandbox}.data
    python3 benches/perf_split.py DIR/uncached-app.data [--per-request MS] [--inline]

A sample counts for the first concern found walking its stack from the leaf up (allocator, libc, core and
kernel frames are passed over, so a `memcpy` inside a `Value` clone counts as the clone); the app's own
functions count as "app: <stage>"; kernel time is also given apart. `--per-request` turns shares into milliseconds per request (the app's CPU per open from the open
loop). `--inline` resolves inlined frames too (needs the build's debug line tables; slow).
"""

import argparse
import collections
import re
import subprocess
import sys

CONCERNS = [
    ("JSON parsing (serde_json::de)", r"serde_json::de::|serde_json::read::|serde_json::value::de::|serde::de::|"
                                      r"as serde::de::|::deserialize|__deserialize|visit_map|visit_seq|parse_str|"
                                      r"parse_whitespace|deserialize_any"),
    ("serde_json::Value copies and drops", r"serde_json::value::Value as core::clone::Clone|"
                                           r"drop_in_place<serde_json::value::Value>|drop_in_place<serde_json::map|"
                                           r"serde_json::map::Map as core::clone|indexmap.*clone|"
                                           r"drop_in_place<indexmap|Vec<serde_json::value::Value>|"
                                           r"drop_in_place<\[serde_json::value::Value\]>"),
    ("JSON writing (serde_json::ser)", r"serde_json::ser::|serde::ser::|as serde::ser::|::serialize|json!|"
                                       r"serde_json::value::ser::|serde_json::value::to_value"),
    ("page rendering (askama)", r"askama|Template>::render|render_into|as core::fmt::Display>::fmt.*Escaper|"
                                r"html_escape|MarkupDisplay"),
    ("logging (tracing)", r"tracing_subscriber|tracing_core|tracing::|tracing_actix_web|tracing_log"),
    ("REST log", r"rest_log|RestLogWriter|RestCall"),
    ("TLS", r"rustls|aws_lc|(^|[^a-z_])ring::"),
    ("HTTP client (reqwest, hyper)", r"reqwest::|hyper::|hyper_util::|want::|h2::"),
    ("HTTP server (actix)", r"actix_http::|actix_web::|actix_server::|actix_router::|actix_service::|"
                            r"actix_codec::|actix_utils::"),
    ("SQLite", r"sqlite3|libsqlite3"),
    ("sqlx", r"sqlx"),
    ("signatures (HMAC-SHA256)", r"hmac::|sha2::|Sha256|signing::"),
    ("token sealing (AES-GCM)", r"aes_gcm|aes::|ghash|polyval|store::seal"),
    ("read cache (moka)", r"moka::|crossbeam_epoch|quanta"),
    ("URL and form encoding (url, serde_qs)", r"serde_qs|form_urlencoded|session::Fields|url::"),
    ("metrics (prometheus)", r"prometheus_client|b24_calllist::metrics"),
    ("gzip", r"flate2|miniz|zlib"),
    ("async runtime (tokio, futures)", r"tokio::|mio::|futures_util::|futures_core::|futures_channel::|"
                                       r"parking_lot|std::sys::.*futex|std::thread"),
]

# The app's own code, by the innermost app function on the stack (async functions inlined into their callers
# count for the caller).
STAGES = [
    ("REST log line (redact, summarise, queue)", r"b24_calllist::bitrix::log::|Caller<S>::log|Caller::log"),
    ("REST log writer (insert)", r"b24_calllist::store::rest_log"),
    ("reading the portal's answer (bytes to Value)", r"b24_calllist::bitrix::rest::RestClient::read"),
    ("splitting the batch answer", r"b24_calllist::bitrix::batch::parse|BatchOutcome"),
    ("Value to members and names (typed parsing)", r"b24_calllist::bitrix::methods::"),
    ("sending the batch (request, HTTP client)", r"b24_calllist::bitrix::rest::RestClient::post|"
                                                 r"b24_calllist::bitrix::batch::|b24_calllist::bitrix::rest::"),
    ("tokens and pacing", r"b24_calllist::bitrix::tokens::|b24_calllist::bitrix::pacing::"),
    ("session check (signature, session, portal)", r"b24_calllist::web::lists::session|b24_calllist::web::session::|"
                                                   r"b24_calllist::portal::|b24_calllist::signing::"),
    ("store calls (sessions, portals, tokens, audit)", r"b24_calllist::store::"),
    ("page render (askama)", r"ListPage|b24_calllist::web::page::render|askama"),
    ("building the page view", r"b24_calllist::web::lists::list_view::|b24_calllist::web::lists::"),
    ("read cache", r"b24_calllist::web::state::"),
    ("request logging and metrics", r"b24_calllist::web::log_span|b24_calllist::metrics|b24_calllist::web::health"),
    ("other app code", r"b24_calllist::"),
]

PASS_OVER = re.compile(r"^(__memcpy|__memmove|__memset|__memcmp|memcpy|memmove|memset|memcmp|malloc|free|realloc|"
                       r"calloc|_int_|_mid_memalign|unlink_chunk|malloc_consolidate|__libc|cfree|__GI_|alloc::|"
                       r"core::|<core::|<alloc::|<T as alloc::|<T as core::|hashbrown::|indexmap::|<indexmap::|"
                       r"__rust_|_rjem|__rdl|std::io::|regex_lite::|\[unknown\])")


def read_samples(path, inline):
    cmd = ["perf", "script", "-i", path, "-F", "comm,tid,ip,sym,dso", "--inline" if inline else "--no-inline"]
    out = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
    sample = None
    for line in out.stdout:
        if not line.strip():
            if sample:
                yield sample
            sample = None
            continue
        if not line.startswith((" ", "\t")):
            comm = line.rsplit(None, 1)[0].strip() if line.split() else "?"
            sample = (comm, [])
            continue
        parts = line.strip().split(None, 1)
        if len(parts) < 2 or sample is None:
            continue
        rest = parts[1]
        m = re.match(r"(.*?)(?:\+0x[0-9a-f]+)? \((.*)\)$", rest)
        sym, dso = (m.group(1), m.group(2)) if m else (rest, "")
        sample[1].append((sym, dso))
    if sample:
        yield sample
    out.wait()


def concern_of(comm, frames):
    kernel = bool(frames) and "kernel" in frames[0][1]
    for i, (sym, dso) in enumerate(frames):
        if "kernel" in dso or PASS_OVER.match(sym):
            continue
        for name, pattern in COMPILED:
            if pattern.search(sym):
                return name, kernel
        if sym.startswith("b24_calllist::") or sym.startswith("<b24_calllist::"):
            return "app: " + stage_of(frames[i:]), kernel
    if comm.startswith("sqlx-sqlite"):
        return "SQLite", kernel
    leaf = next((s for s, d in frames if "kernel" not in d and not PASS_OVER.match(s)), frames[0][0] if frames else "?")
    return "other: " + leaf[:90], kernel


def stage_of(frames):
    for sym, _ in frames:
        if "b24_calllist::" not in sym:
            continue
        for name, pattern in STAGE_RE:
            if pattern.search(sym):
                return name
    return "outside the app's code (actix, tokio)"


COMPILED = [(n, re.compile(p)) for n, p in CONCERNS]
STAGE_RE = [(n, re.compile(p)) for n, p in STAGES]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--per-request", type=float, default=0.0, help="CPU ms per request, to scale shares")
    ap.add_argument("--inline", action="store_true")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    concerns, stages, threads, others = (collections.Counter() for _ in range(4))
    total = kernel = 0
    for comm, frames in read_samples(args.data, args.inline):
        total += 1
        name, in_kernel = concern_of(comm, frames)
        kernel += in_kernel
        if name.startswith("other: "):
            others[name[7:]] += 1
            name = "other"
        concerns[name] += 1
        stages["SQLite worker thread" if comm.startswith("sqlx-sqlite") else stage_of(frames)] += 1
        threads[re.sub(r"\d+", "N", comm)] += 1
    if not total:
        sys.exit("no samples in %s" % args.data)

    def show(title, counter, top):
        print("\n| %s | share | %s |" % (title, "ms per request" if args.per_request else "samples"))
        print("| --- | ---: | ---: |")
        for name, n in counter.most_common(top):
            print("| %s | %.1f %% | %s |" % (name, 100 * n / total,
                                             "%.3f" % (args.per_request * n / total) if args.per_request else n))

    print("%d samples, %.1f %% in the kernel" % (total, 100 * kernel / total))
    show("concern (leaf up)", concerns, args.top)
    show("innermost app function", stages, args.top)
    show("thread", threads, 10)
    show("'other' by leaf function", others, 15)


if __name__ == "__main__":
    main()
