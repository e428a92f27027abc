"""The official Python SDK, b24pysdk, on the sandbox: the four operations of the peer benchmark.

Each operation runs the way its documentation suggests first (`.as_list()` on the wrapped method), and when
that gives too few rows, also by hand the way a user who noticed would do it.

Pointing the SDK at the sandbox: b24pysdk builds every REST URL as `https://{domain}/rest/...` (the scheme is
fixed in `_MethodCaller._base_url`, with no constructor argument or setting for it). The sandbox speaks plain
HTTP on loopback, so this script replaces that one property to say `http://` instead. Nothing else in the SDK
is touched: authentication is the SDK's own OAuth mode (`BitrixApp` + `BitrixToken` with the sandbox's
client id/secret and an access token of the administrator), retries and batching are the SDK's defaults.

Run: python benches/peers/b24pysdk_bench.py [--runs 3] [--out results.json] [--only members,names]
"""

from __future__ import annotations

import importlib

from importlib.metadata import version
from b24pysdk import BitrixApp, BitrixToken, Client
from b24pysdk.errors import BitrixAPIError

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

# The one adaptation: plain http on loopback instead of the hard-coded https.
_method_caller = importlib.import_module("b24pysdk.api.callers.call_method")
_method_caller._MethodCaller._base_url = property(lambda self: f"http://{self._domain}/rest")

NAME = "b24pysdk"
SELECT = ["*"]  # as our client asks: names plus phones and e-mails (the multifields come only with "*")


def token_for(sb: Sandbox) -> BitrixToken:
    app = BitrixApp(client_id=sb.facts["client_id"], client_secret=sb.facts["client_secret"])
    admin = next(u for u in sb.facts["users"] if u["id"] == 1)
    return BitrixToken(
        domain=sb.domain,
        auth_token=admin["access_token"],
        refresh_token=admin["refresh_token"],
        expires_in=3600,
        bitrix_app=app,
    )


def is_empty_page(e: BitrixAPIError) -> bool:
    # crm.calllist.items.get answers 403 ACCESS_ERROR for a page past the end (reference 1.4)
    return getattr(e, "error", "") == "ACCESS_ERROR"


# --- (a) all members of the 1,000-member list ---------------------------------------------------------------


def members_helper(sb: Sandbox, run: int) -> Outcome:
    client = Client(token_for(sb))
    o = Outcome(NAME, "members", "helper", run, expected_rows=LIST_SIZE)
    o.note = "client.crm.calllist.items.get(list_id).as_list()"
    return measure(sb, o, lambda: len(client.crm.calllist.items.get(list_id=LIST_ID).as_list().result))


def paged_members(token: BitrixToken) -> int:
    rows, start = 0, 0
    while True:
        try:
            page = token.call_method("crm.calllist.items.get", {"LIST_ID": LIST_ID, "start": start})["result"]
        except BitrixAPIError as e:
            if is_empty_page(e):
                return rows
            raise
        rows += len(page)
        if len(page) < 50:
            return rows
        start += 50


def members_paged(sb: Sandbox, run: int, full: bool = False) -> Outcome:
    token = token_for(sb)
    o = Outcome(NAME, "members_full" if full else "members", "paged", run, expected_rows=LIST_SIZE)
    o.note = "token.call_method(items.get, start=0,50,...) until a short or 403 page"
    before = (lambda: sb.fill_bucket()) if full else None
    return measure(sb, o, lambda: paged_members(token), before)


def members_batched(sb: Sandbox, run: int, full: bool = False) -> Outcome:
    """A user who knows items.get has no `total` asks for 50 pages in one batch and drops the 403 pages."""
    token = token_for(sb)
    o = Outcome(NAME, "members_full" if full else "members", "batched", run, expected_rows=LIST_SIZE)
    o.note = "token.call_batch(50 pages), 403 pages ignored"
    before = (lambda: sb.fill_bucket()) if full else None

    def work() -> int:
        methods = {
            f"p{i}": ("crm.calllist.items.get", {"LIST_ID": LIST_ID, "start": i * 50}) for i in range(50)
        }
        out = token.call_batch(methods, halt=False)["result"]
        return sum(len(v) for v in (out["result"] or {}).values())

    return measure(sb, o, work, before)


# --- (b) names of the 1,000 members --------------------------------------------------------------------------


def names_helper(sb: Sandbox, run: int) -> Outcome:
    ids = sb.list_member_ids()
    client = Client(token_for(sb))
    o = Outcome(NAME, "names", "helper", run, expected_rows=len(ids))
    o.note = 'client.crm.item.list(3, select=["*"], filter={"@id": ids}).as_list()'
    return measure(
        sb,
        o,
        lambda: len(
            {
                r["id"]
                for r in client.crm.item.list(entity_type_id=3, select=SELECT, filter={"@id": ids}).as_list().result
            }
        ),
    )


def names_batched(sb: Sandbox, run: int) -> Outcome:
    ids = sb.list_member_ids()
    token = token_for(sb)
    o = Outcome(NAME, "names", "batched", run, expected_rows=len(ids))
    o.note = "token.call_batches(crm.item.list @id, 50 ids a command, start=-1)"

    def work() -> int:
        methods = [
            ("crm.item.list", {"entityTypeId": 3, "select": SELECT, "filter": {"@id": c}, "start": -1})
            for c in chunks(ids, 50)
        ]
        out = token.call_batches(methods, halt=False)["result"]["result"]
        values = out.values() if isinstance(out, dict) else out
        return len({r["id"] for v in values for r in v["items"]})

    return measure(sb, o, work)


# --- (c) 10,000 contacts ---------------------------------------------------------------------------------------


def contacts_helper(sb: Sandbox, run: int) -> Outcome:
    client = Client(token_for(sb))
    o = Outcome(NAME, "contacts", "helper", run, expected_rows=CONTACTS)
    o.note = 'client.crm.item.list(3, select=["*"]).as_list()'
    return measure(
        sb, o, lambda: len({r["id"] for r in client.crm.item.list(entity_type_id=3, select=SELECT).as_list().result})
    )


def contacts_fast(sb: Sandbox, run: int) -> Outcome:
    client = Client(token_for(sb))
    o = Outcome(NAME, "contacts", "fast", run, expected_rows=CONTACTS)
    o.note = 'client.crm.item.list(3, select=["*"]).as_list_fast()'
    return measure(
        sb,
        o,
        lambda: len({r["id"] for r in client.crm.item.list(entity_type_id=3, select=SELECT).as_list_fast().result}),
    )


# --- (d) one update of 1,003 members ---------------------------------------------------------------------------


def update(sb: Sandbox, run: int) -> Outcome:
    ids, form = sb.update_payload()
    client = Client(token_for(sb))
    o = Outcome(NAME, "update", "helper", run, expected_rows=len(ids))
    o.note = "client.crm.calllist.update(list_id, CONTACT, 1,003 ids, webform_id)"

    def work() -> int:
        ok = client.crm.calllist.update(
            list_id=LIST_ID, entity_type="CONTACT", entities=ids, webform_id=form
        ).result
        if ok is not True:
            raise RuntimeError(f"update answered {ok!r}")
        return 0

    # the list's size, read through the control API after the clock stops
    return measure(sb, o, work, check=lambda: len(sb.list_member_ids()))


def plan() -> Plan:
    p = Plan()
    p.add("members", "helper", members_helper)
    p.add("members", "paged", members_paged)
    p.add("members", "batched", members_batched)
    p.add("members_full", "paged", lambda sb, run: members_paged(sb, run, full=True))
    p.add("members_full", "batched", lambda sb, run: members_batched(sb, run, full=True))
    p.add("names", "helper", names_helper)
    p.add("names", "batched", names_batched)
    p.add("contacts", "helper", contacts_helper)
    p.add("contacts", "fast", contacts_fast)
    p.add("update", "helper", update)
    return p


if __name__ == "__main__":
    runs, out, only = runs_from_argv()
    print(f"b24pysdk {version('b24pysdk')}")
    write_results(out, plan().run(runs, only))
