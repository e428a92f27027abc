"""The floor: each operation in the fewest requests `batch` allows, sent as raw HTTP, timed on the same sandbox.

How the fewest requests follow from the limits (reference 1.4, 2.2, 5.4-5.6):

- members: `crm.calllist.items.get` pages hold 50 rows and carry no `total`, so 1,000 members are 20 pages
  plus one that proves the end; up to 50 pages fit one `batch` -> 1 request.
- names: `crm.item.list` with `filter[@id]` of 50 IDs and `start=-1` answers one page of 50; 1,000 IDs are 20
  such commands -> 1 `batch` (the IDs must be known first: a `$result[...]` reference substitutes a single
  value or the raw page, never the column of IDs a filter needs, so the names cannot ride in the members' batch).
- contacts: 10,000 contacts are 200 pages; one `batch` of 50 pages also returns `result_total`, then the other
  150 pages are 3 more batches, sent together -> 4 requests in 2 round trips.
- update: `crm.calllist.update` takes all 1,003 IDs in one call -> 1 request.

Seven requests in all: well inside the bucket's burst of 50, so with an empty bucket nothing waits but the
latency. With the bucket already full, a request is admitted once 1 of the 50 slots has drained (0.5 s at 2
a second); the floor client knows the bucket and sends just in time.

Run: python benches/peers/floor.py [--runs 3] [--out results.json]
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from common import (
    CONTACTS,
    LATENCY_MS,
    LIST_ID,
    LIST_SIZE,
    Outcome,
    Plan,
    Sandbox,
    chunks,
    measure,
    runs_from_argv,
    write_results,
)

NAME = "floor"


def php_query(params: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in params.items():
        key = f"{prefix}[{k}]" if prefix else str(k)
        if isinstance(v, dict):
            out += php_query(v, key)
        elif isinstance(v, list):
            out += php_query({i: x for i, x in enumerate(v)}, key)
        else:
            out.append(f"{quote(key, safe='[]@')}={quote(str(v), safe='')}")
    return out


def command(method: str, params: dict) -> str:
    return f"{method}?{'&'.join(php_query(params))}"


class Raw:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.token = sb.admin_token

    def post(self, method: str, body: dict) -> tuple[int, dict]:
        data = json.dumps(dict(body, auth=self.token)).encode()
        req = urllib.request.Request(self.sb.rest_url + method, data=data, method="POST")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def batch(self, cmds: dict[str, str]) -> dict:
        status, body = self.post("batch", {"halt": 0, "cmd": cmds})
        if status != 200:
            raise RuntimeError(f"batch answered {status}: {body}")
        return body["result"]


def values(x) -> list:
    return list(x.values()) if isinstance(x, dict) else list(x or [])


def member_pages(raw: Raw) -> int:
    cmds = {f"p{i}": command("crm.calllist.items.get", {"LIST_ID": LIST_ID, "start": i * 50}) for i in range(50)}
    return sum(len(v) for v in values(raw.batch(cmds)["result"]))


def members(sb: Sandbox, run: int, full: bool = False) -> Outcome:
    raw = Raw(sb)
    o = Outcome(NAME, "members_full" if full else "members", "floor", run, expected_rows=LIST_SIZE)
    o.note = "1 batch of 50 items.get pages"
    if not full:
        return measure(sb, o, lambda: member_pages(raw))

    def work() -> int:
        # The bucket is full: one slot drains in 0.5 s; the sandbox checks the bucket after its latency.
        time.sleep(max(0.0, 0.5 - LATENCY_MS / 1000.0))
        return member_pages(raw)

    return measure(sb, o, work, before=lambda: sb.fill_bucket())


def names(sb: Sandbox, run: int) -> Outcome:
    ids = sb.list_member_ids()
    raw = Raw(sb)
    o = Outcome(NAME, "names", "floor", run, expected_rows=len(ids))
    o.note = "1 batch of 20 crm.item.list @id commands"

    def work() -> int:
        cmds = {
            f"n{i}": command(
                "crm.item.list", {"entityTypeId": 3, "select": ["*"], "filter": {"@id": c}, "start": -1}
            )
            for i, c in enumerate(chunks(ids, 50))
        }
        return len({r["id"] for v in values(raw.batch(cmds)["result"]) for r in v["items"]})

    return measure(sb, o, work)


def contacts(sb: Sandbox, run: int) -> Outcome:
    raw = Raw(sb)
    o = Outcome(NAME, "contacts", "floor", run, expected_rows=CONTACTS)
    o.note = "1 batch of 50 pages (gives the total), then 3 batches at once"

    def pages(first: int, count: int) -> dict[str, str]:
        return {
            f"c{p}": command(
                "crm.item.list", {"entityTypeId": 3, "select": ["*"], "order": {"id": "ASC"}, "start": p * 50}
            )
            for p in range(first, first + count)
        }

    def work() -> int:
        first = raw.batch(pages(0, 50))
        rows = {r["id"] for v in values(first["result"]) for r in v["items"]}
        total = max(values(first["result_total"]))
        left = list(range(50, (total + 49) // 50))
        with ThreadPoolExecutor(max_workers=4) as pool:
            outs = list(pool.map(lambda ch: raw.batch(pages(ch[0], len(ch))), chunks(left, 50)))
        for out in outs:
            rows |= {r["id"] for v in values(out["result"]) for r in v["items"]}
        return len(rows)

    return measure(sb, o, work)


def update(sb: Sandbox, run: int) -> Outcome:
    ids, form = sb.update_payload()
    raw = Raw(sb)
    o = Outcome(NAME, "update", "floor", run, expected_rows=len(ids))
    o.note = "1 crm.calllist.update"

    def work() -> int:
        status, body = raw.post(
            "crm.calllist.update", {"LIST_ID": LIST_ID, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids, "WEBFORM_ID": form}
        )
        if status != 200 or body.get("result") is not True:
            raise RuntimeError(f"update answered {status}: {body}"[:300])
        return 0

    return measure(sb, o, work, check=lambda: len(sb.list_member_ids()))


def plan() -> Plan:
    p = Plan()
    p.add("members", "floor", members)
    p.add("members_full", "floor", lambda sb, run: members(sb, run, full=True))
    p.add("names", "floor", names)
    p.add("contacts", "floor", contacts)
    p.add("update", "floor", update)
    return p


if __name__ == "__main__":
    runs, out, only = runs_from_argv()
    print("floor (raw HTTP)")
    write_results(out, plan().run(runs, only))
