"""Prints the peer comparison from the results files (ours, b24pysdk, fast_bitrix24, floor; any number of rounds).

Table 1, "as documented": for each SDK the first way of doing an operation that returned every row: its
documented helper if that worked, otherwise the plain by-hand way (paging page by page, or `call()` when the
helper failed). Table 2, "best by hand": each client's fastest way that returned every row, hand-built
batches included. Table 3 lists every way measured, with what went wrong.

Run: python benches/peers/table.py RESULTS.json...
"""

from __future__ import annotations

import json
import sys

from common import summarise

OPERATIONS = [
    ("members", "read all 1,000 members"),
    ("names", "resolve their names"),
    ("contacts", "read 10,000 contacts"),
    ("update", "one update of 1,003 members"),
]
FULL = ("members_full", "read all members, bucket already full")
PEERS = ["b24pysdk", "fast_bitrix24"]
PREFERENCE = ["client", "floor", "helper", "paged", "batched", "fast"]


def load(paths: list[str]) -> dict[str, dict]:
    rows = []
    for p in paths:
        with open(p) as f:
            rows += json.load(f)
    return summarise(rows)


def pick(summary: dict[str, dict], client: str, scenario: str) -> tuple[str, dict] | None:
    """The first variant (in PREFERENCE order) that returned every row in every run."""
    for variant in PREFERENCE:
        s = summary.get(f"{client}/{scenario}/{variant}")
        if s and s["ok"]:
            return variant, s
    return None


def pick_best(summary: dict[str, dict], client: str, scenario: str) -> tuple[str, dict] | None:
    """The fastest variant that returned every row in every run."""
    found = [
        (variant, s)
        for variant in PREFERENCE
        if (s := summary.get(f"{client}/{scenario}/{variant}")) and s["ok"]
    ]
    return min(found, key=lambda vs: vs[1]["seconds"]) if found else None


def cell(p: tuple[str, dict] | None) -> str:
    if p is None:
        return "failed"
    variant, s = p
    mark = "" if variant in ("client", "floor", "helper") else f" ({variant})"
    return f"{s['requests']:g} / {s['seconds']:.2f} s{mark}"


def ratio(ours: tuple[str, dict] | None, theirs: tuple[str, dict] | None) -> str:
    if ours is None or theirs is None:
        return "n/a"
    o, t = ours[1], theirs[1]
    req = f"{o['requests'] / t['requests']:.2f}" if t["requests"] else "n/a"
    return f"{o['seconds'] / t['seconds']:.2f} × time, {req} × req"


def main(paths: list[str]) -> None:
    summary = load(paths)
    runs = max(s["runs"] for s in summary.values())
    print(f"Table 1. As documented (median of {runs} runs; requests / seconds)")
    print()
    comparison(summary, pick)
    print()
    print(f"Table 2. Best by hand: each client's fastest way that returned every row (median of {runs} runs)")
    print()
    comparison(summary, pick_best)
    print()
    print("Table 3. Every way measured (medians)")
    print()
    print("| client | operation | way | requests (refused) | time | rows | outcome |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key in sorted(summary, key=sort_key):
        client, scenario, variant = key.split("/")
        s = summary[key]
        outcome = "all rows" if s["ok"] else s["why"].replace("|", "/")
        if len(outcome) > 160:
            outcome = outcome[:157] + "..."
        print(
            f"| {client} | {scenario} | {variant} | {s['requests']:g} ({s['refused']:g}) | {s['seconds']:.3f} s | "
            f"{s['rows']:g} | {outcome} |"
        )


def comparison(summary: dict[str, dict], pick) -> None:
    clients = ["ours", *PEERS, "floor"]
    print("| operation | ours (requests / time) | b24pysdk | fast_bitrix24 | floor | ours ÷ b24pysdk | ours ÷ fast_bitrix24 | ours ÷ floor |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    totals = {c: [0.0, 0.0, True] for c in clients}
    for scenario, label in [*OPERATIONS, FULL]:
        picks = {c: pick(summary, c, scenario) for c in clients}
        if scenario != FULL[0]:
            for c, p in picks.items():
                if p is None:
                    totals[c][2] = False
                else:
                    totals[c][0] += p[1]["requests"]
                    totals[c][1] += p[1]["seconds"]
        if scenario == FULL[0]:
            print_total(totals, clients)
        print(
            f"| {label} | {cell(picks['ours'])} | {cell(picks['b24pysdk'])} | {cell(picks['fast_bitrix24'])} | "
            f"{cell(picks['floor'])} | {ratio(picks['ours'], picks['b24pysdk'])} | "
            f"{ratio(picks['ours'], picks['fast_bitrix24'])} | {ratio(picks['ours'], picks['floor'])} |"
        )


def print_total(totals: dict, clients: list[str]) -> None:
    def c(name: str) -> str:
        req, secs, ok = totals[name]
        return f"{req:g} / {secs:.2f} s" if ok else "incomplete"

    def r(a: str, b: str) -> str:
        (ra, sa, oka), (rb, sb, okb) = totals[a], totals[b]
        if not (oka and okb) or not rb or not sb:
            return "n/a"
        return f"{sa / sb:.2f} × time, {ra / rb:.2f} × req"

    print(
        f"| **total** | {c('ours')} | {c('b24pysdk')} | {c('fast_bitrix24')} | {c('floor')} | {r('ours', 'b24pysdk')} | "
        f"{r('ours', 'fast_bitrix24')} | {r('ours', 'floor')} |"
    )


def sort_key(key: str) -> tuple:
    client, scenario, variant = key.split("/")
    order = {"ours": 0, "b24pysdk": 1, "fast_bitrix24": 2, "floor": 3}
    ops = {s: i for i, (s, _) in enumerate([*OPERATIONS, FULL])}
    return (ops.get(scenario, 9), order.get(client, 9), PREFERENCE.index(variant) if variant in PREFERENCE else 9)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
