"""fast_bitrix24 on the sandbox: the four operations of the peer benchmark.

Each operation runs with the library's documented helper first (`get_all()`), and when that gives too few
rows or fails, also the way its maintainer advises (`call()`, `call(raw=True)`).

Pointing the library at the sandbox needs no change to it: its documented constructor takes the REST base as
`webhook` and, for OAuth apps, an async `token_func` that returns the access token (it then sends the token as
`auth` in the body). So `Bitrix(webhook="http://127.0.0.1:PORT/rest/", token_func=...)`. Progress bars are
off (`verbose=False`); everything else is the library's default (client-side bucket of 50 and 2 a second,
up to 50 concurrent requests, 50 commands a batch).

Run: python benches/peers/fast_bitrix24_bench.py [--runs 3] [--out results.json] [--only members,names]
"""

from __future__ import annotations

import warnings

import aiohttp
from importlib.metadata import version
from fast_bitrix24 import Bitrix

from common import (
    CONTACTS,
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

NAME = "fast_bitrix24"
SELECT = ["*"]  # as our client asks: names plus phones and e-mails (the multifields come only with "*")


def client_for(sb: Sandbox) -> Bitrix:
    token = sb.admin_token

    async def token_func() -> str:
        return token

    return Bitrix(sb.rest_url, token_func=token_func, verbose=False)


class Warnings:
    """Collects the library's warnings so the outcome can say what it warned about."""

    def __enter__(self) -> list:
        self._cm = warnings.catch_warnings(record=True)
        self.caught = self._cm.__enter__()
        warnings.simplefilter("always")
        return self.caught

    def __exit__(self, *exc) -> None:
        self._cm.__exit__(*exc)


def noted(o: Outcome, caught: list) -> Outcome:
    texts = sorted(
        {str(w.message)[:120] for w in caught if w.category not in (DeprecationWarning, ResourceWarning)}
    )
    if texts:
        o.note += " | warned: " + " / ".join(texts)
    return o


# --- (a) all members of the 1,000-member list ---------------------------------------------------------------


def members_helper(sb: Sandbox, run: int) -> Outcome:
    b = client_for(sb)
    o = Outcome(NAME, "members", "helper", run, expected_rows=LIST_SIZE)
    o.note = 'b.get_all("crm.calllist.items.get", {"LIST_ID": id})'
    with Warnings() as caught:
        measure(sb, o, lambda: len(b.get_all("crm.calllist.items.get", {"LIST_ID": LIST_ID})))
    return noted(o, caught)


def paged_members(b: Bitrix) -> int:
    rows, start = 0, 0
    while True:
        try:
            page = b.call("crm.calllist.items.get", {"LIST_ID": LIST_ID, "start": start}, raw=True)["result"]
        except aiohttp.ClientResponseError as e:
            if e.status == 403:  # items.get answers 403 ACCESS_ERROR past the end (reference 1.4)
                return rows
            raise
        rows += len(page)
        if len(page) < 50:
            return rows
        start += 50


def members_paged(sb: Sandbox, run: int, full: bool = False) -> Outcome:
    b = client_for(sb)
    o = Outcome(NAME, "members_full" if full else "members", "paged", run, expected_rows=LIST_SIZE)
    o.note = "b.call(items.get, start=0,50,..., raw=True) until a short or 403 page"
    before = (lambda: sb.fill_bucket()) if full else None
    with Warnings() as caught:
        measure(sb, o, lambda: paged_members(b), before)
    return noted(o, caught)


def members_batched(sb: Sandbox, run: int) -> Outcome:
    """A user who knows items.get has no `total` asks for 50 pages at once with call(), which batches them."""
    b = client_for(sb)
    o = Outcome(NAME, "members", "batched", run, expected_rows=LIST_SIZE)
    o.note = "b.call(items.get, [50 pages])"
    with Warnings() as caught:
        measure(
            sb,
            o,
            lambda: len(
                b.call("crm.calllist.items.get", [{"LIST_ID": LIST_ID, "start": i * 50} for i in range(50)])
            ),
        )
    return noted(o, caught)


# --- (b) names of the 1,000 members --------------------------------------------------------------------------


def names_helper(sb: Sandbox, run: int) -> Outcome:
    ids = sb.list_member_ids()
    b = client_for(sb)
    o = Outcome(NAME, "names", "helper", run, expected_rows=len(ids))
    o.note = 'b.get_all("crm.item.list", {entityTypeId: 3, select: ["*"], filter: {"@id": ids}})'
    with Warnings() as caught:
        measure(
            sb,
            o,
            lambda: len(
                {
                    r["id"]
                    for r in b.get_all("crm.item.list", {"entityTypeId": 3, "select": SELECT, "filter": {"@id": ids}})
                }
            ),
        )
    return noted(o, caught)


def names_batched(sb: Sandbox, run: int) -> Outcome:
    ids = sb.list_member_ids()
    b = client_for(sb)
    o = Outcome(NAME, "names", "batched", run, expected_rows=len(ids))
    o.note = "b.call(crm.item.list, [@id 50 ids a command, start=-1])"
    with Warnings() as caught:
        measure(
            sb,
            o,
            lambda: len(
                {
                    r["id"]
                    for r in b.call(
                        "crm.item.list",
                        [
                            {"entityTypeId": 3, "select": SELECT, "filter": {"@id": c}, "start": -1}
                            for c in chunks(ids, 50)
                        ],
                    )
                }
            ),
        )
    return noted(o, caught)


# --- (c) 10,000 contacts ---------------------------------------------------------------------------------------


def contacts_helper(sb: Sandbox, run: int) -> Outcome:
    b = client_for(sb)
    o = Outcome(NAME, "contacts", "helper", run, expected_rows=CONTACTS)
    o.note = 'b.get_all("crm.item.list", {entityTypeId: 3, select: ["*"]})'
    with Warnings() as caught:
        measure(
            sb, o, lambda: len({r["id"] for r in b.get_all("crm.item.list", {"entityTypeId": 3, "select": SELECT})})
        )
    return noted(o, caught)


def contacts_batched(sb: Sandbox, run: int) -> Outcome:
    """get_all() cannot be given an `order`; the maintainer's advice for such methods is call()."""
    b = client_for(sb)
    o = Outcome(NAME, "contacts", "batched", run, expected_rows=CONTACTS)
    o.note = "b.call(raw=True) for page 1 and `total`, then b.call(crm.item.list, [199 pages])"

    def work() -> int:
        params = {"entityTypeId": 3, "select": SELECT, "order": {"id": "ASC"}}
        first = b.call("crm.item.list", params, raw=True)
        rows = {r["id"] for r in first["result"]["items"]}
        rest = [dict(params, start=s) for s in range(50, first["total"], 50)]
        rows |= {r["id"] for r in b.call("crm.item.list", rest)}
        return len(rows)

    with Warnings() as caught:
        measure(sb, o, work)
    return noted(o, caught)


# --- (d) one update of 1,003 members ---------------------------------------------------------------------------


def update(sb: Sandbox, run: int) -> Outcome:
    ids, form = sb.update_payload()
    b = client_for(sb)
    o = Outcome(NAME, "update", "helper", run, expected_rows=len(ids))
    o.note = "b.call(crm.calllist.update, {...1,003 ids}, raw=True)"

    def work() -> int:
        params = {"LIST_ID": LIST_ID, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids, "WEBFORM_ID": form}
        answer = b.call("crm.calllist.update", params, raw=True)
        if answer.get("result") is not True:
            raise RuntimeError(f"update answered {answer!r}"[:300])
        return 0

    with Warnings() as caught:
        measure(sb, o, work, check=lambda: len(sb.list_member_ids()))
    return noted(o, caught)


def plan() -> Plan:
    p = Plan()
    p.add("members", "helper", members_helper)
    p.add("members", "paged", members_paged)
    p.add("members", "batched", members_batched)
    p.add("members_full", "paged", lambda sb, run: members_paged(sb, run, full=True))
    p.add("names", "helper", names_helper)
    p.add("names", "batched", names_batched)
    p.add("contacts", "helper", contacts_helper)
    p.add("contacts", "batched", contacts_batched)
    p.add("update", "helper", update)
    return p


if __name__ == "__main__":
    runs, out, only = runs_from_argv()
    print(f"fast_bitrix24 {version('fast_bitrix24')}")
    write_results(out, plan().run(runs, only))
