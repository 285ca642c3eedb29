"""Drives the demo through the client generated from the served OpenAPI
document (openapi-python-client), so a mismatch between the document and
what the server answers fails here.

    python smoke.py BASE_URL      (the generated package `govmarket_client`
                                   must be importable)

Every step asserts its result; any failure exits non-zero.
"""

import sys
import uuid

from govmarket_client import AuthenticatedClient, Client
from govmarket_client.api.auth import login, me
from govmarket_client.api.invoke import invoke
from govmarket_client.api.market import market
from govmarket_client.api.orders import get_order, get_test_suite
from govmarket_client.api.public import public_run, public_runs
from govmarket_client.api.ratings import put_rating
from govmarket_client.api.settlements import approve_run, create_run, list_runs
from govmarket_client.models import (
    CreateRunRequest,
    InvokeRequest,
    InvokeRequestInput,
    InvokeResponse,
    LoginRequest,
    LoginResponse,
    MarketPage,
    OrderView,
    PublicRunDetail,
    PublicRunList,
    RatingRequest,
    RatingView,
    RunDetail,
    RunList,
    RunView,
    SuiteView,
    UserView,
)

PASSWORD = "demo-password"
DEMO_PERIOD = "2026Q3"


def step(name):
    print(f"-- {name}", flush=True)


def expect(response, status, model):
    """The response had `status`, and the client parsed it as `model`."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.content[:500]!r}"
    )
    assert isinstance(response.parsed, model), (
        f"expected a {model.__name__}, got {type(response.parsed).__name__}"
    )
    return response.parsed


def sign_in(base, email):
    public = Client(base_url=base, raise_on_unexpected_status=True)
    r = login.sync_detailed(client=public, body=LoginRequest(email=email, password=PASSWORD))
    if r.status_code == 401:
        return None
    token = expect(r, 200, LoginResponse).token
    assert token, "an empty token"
    client = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)
    who = expect(me.sync_detailed(client=client), 200, UserView)
    assert who.email == email, who.email
    return client


def main(base):
    public = Client(base_url=base, raise_on_unexpected_status=True)

    step("sign in as citizen@demo.local")
    citizen = sign_in(base, "citizen@demo.local")
    assert citizen is not None, "the demo citizen cannot sign in"
    assert sign_in(base, "citizen@demo.local" + ".invalid") is None

    step("list the market")
    page = expect(market.sync_detailed(client=public, limit=2), 200, MarketPage)
    assert page.items, "the demo market is empty"
    assert len(page.items) <= 2
    assert page.total >= len(page.items)
    item = page.items[0]
    if isinstance(page.next_, int):
        rest = expect(market.sync_detailed(client=public, limit=2, cursor=page.next_), 200, MarketPage)
        assert {i.app_id for i in rest.items}.isdisjoint({i.app_id for i in page.items})

    step(f"invoke app {item.app_id} ({item.app_name}) with a sample input of its order")
    order = expect(get_order.sync_detailed(item.order_id, client=public), 200, OrderView)
    assert order.id == item.order_id
    suite = expect(get_test_suite.sync_detailed(item.order_id, client=public), 200, SuiteView)
    assert suite.cases, "the order has no published cases"
    case = suite.cases[0].to_dict()
    assert isinstance(case.get("input"), dict), case
    sample = case["input"]
    key = str(uuid.uuid4())
    body = InvokeRequest(input_=InvokeRequestInput.from_dict(sample))
    first = expect(
        invoke.sync_detailed(item.app_id, client=citizen, body=body, idempotency_key=key),
        200,
        InvokeResponse,
    )
    assert first.version_id == item.version_id, (first.version_id, item.version_id)
    assert first.output.to_dict(), "the app answered nothing"
    again = expect(
        invoke.sync_detailed(item.app_id, client=citizen, body=body, idempotency_key=key),
        200,
        InvokeResponse,
    )
    assert again.invocation_id == first.invocation_id, "a retry with the same Idempotency-Key counted twice"

    step(f"rate app {item.app_id}")
    r = put_rating.sync_detailed(
        item.app_id, client=citizen, body=RatingRequest(stars=4, comment="通过生成的客户端评价")
    )
    assert r.status_code in (200, 201), r.status_code
    rating = expect(r, r.status_code, RatingView)
    assert rating.app_id == item.app_id and rating.stars == 4, rating

    step("read a public settlement")
    runs = expect(public_runs.sync_detailed(client=public), 200, PublicRunList)
    if not runs.items:
        step(f"none is public yet: finance drafts and approves {DEMO_PERIOD}")
        finance = sign_in(base, "finance@demo.local")
        assert finance is not None, "the demo finance officer cannot sign in"
        drafted = expect(list_runs.sync_detailed(client=finance), 200, RunList)
        draft = next((x for x in drafted.items if x.period == DEMO_PERIOD and x.status == "draft"), None)
        if draft is None:
            created = expect(
                create_run.sync_detailed(client=finance, body=CreateRunRequest(period=DEMO_PERIOD)),
                201,
                RunDetail,
            )
            assert created.lines, "a draft of the demo quarter without lines"
            draft = created.run
        assert draft.status == "draft" and draft.period == DEMO_PERIOD, draft
        # Four-eyes approval: a second finance officer approves when the
        # demo has one; otherwise the one who drafted.
        approver = sign_in(base, "finance2@demo.local") or finance
        approved = expect(approve_run.sync_detailed(draft.id, client=approver), 200, RunView)
        assert approved.status == "approved", approved.status
        runs = expect(public_runs.sync_detailed(client=public), 200, PublicRunList)
    assert runs.items, "no public settlement after approval"
    run = runs.items[0]
    detail = expect(public_run.sync_detailed(run.id, client=public), 200, PublicRunDetail)
    assert detail.run.id == run.id and detail.run.period == run.period
    assert detail.lines, "a public settlement without lines"
    paid = sum(line.amount_fen for line in detail.lines)
    assert paid <= detail.run.budget_total_fen, (paid, detail.run.budget_total_fen)
    print(f"ok: {run.period} settled {len(detail.lines)} lines, {paid} fen of {detail.run.budget_total_fen}")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
