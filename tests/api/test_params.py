"""Parameters: ASCII digits only where a number is expected (``²``, ``①`` once gave 500 and
``３`` aliased 3), NUL anywhere refused with 422 naming where, long upload file names,
Swagger UI and ReDoc served from the package."""

from __future__ import annotations

import re

import httpx
import pytest

from api.app import create_app
from tests.api.conftest import ALICE, Env, prepare, settings

pytestmark = pytest.mark.postgres

ODD_DIGITS = ("²", "①", "３", "٣", "1_0", "+3")


async def test_periods_take_ascii_digits_only(env: Env) -> None:
    alice = await env.login(ALICE)
    for period in ("２０２６-０１", "2026-0１", "٢٠٢٦-01"):
        r = await env.client.post(f"/v1/operator/billing/{period}", headers=env.operator)
        assert r.status_code == 422, (period, r.text)
        r = await env.client.get("/v1/resident/accruals", params={"period": period}, headers=alice)
        assert r.status_code == 422, (period, r.text)
        r = await env.client.get(
            "/v1/operator/anomalies", params={"period": period}, headers=env.viewer
        )
        assert r.status_code == 422, (period, r.text)
    r = await env.client.get("/v1/resident/accruals", params={"period": "2026-01"}, headers=alice)
    assert r.status_code == 200


async def test_ids_take_ascii_digits_only(env: Env) -> None:
    alice = await env.login(ALICE)
    meters = await env.meters(alice)
    first = min(meters.values())
    assert first < 10  # so that a one-digit look-alike could alias it
    for odd in (*ODD_DIGITS, chr(0xFF10 + first)):
        r = await env.client.get(f"/v1/resident/meters/{odd}/readings", headers=alice)
        assert r.status_code == 422, (odd, r.text)
        assert r.headers["content-type"] == "application/problem+json"


@pytest.fixture
async def web(db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("UCHET_WEB_SECURE_COOKIE", "always")
    await prepare(db_url)
    app = create_app(db_url, settings=settings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
            yield client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def test_pages_take_ascii_digits_only(web: httpx.AsyncClient) -> None:
    page = await web.get("/login")
    r = await web.post(
        "/login", data={"csrf": _csrf(page.text), "account": ALICE[0], "password": ALICE[1]}
    )
    assert r.status_code == 303
    cabinet = await web.get("/cabinet")
    ids = sorted({int(x) for x in re.findall(r"/cabinet/meters/(\d+)", cabinet.text)})
    assert ids and ids[0] < 10
    assert (await web.get(f"/cabinet/meters/{ids[0]}")).status_code == 200
    for odd in (*ODD_DIGITS, chr(0xFF10 + ids[0])):
        r = await web.get(f"/cabinet/meters/{odd}")
        assert r.status_code == 404, (odd, r.status_code)
    r = await web.get("/cabinet/charges", params={"period": "２０２６-０１"})
    assert r.status_code == 200  # an unusable period is ignored, as any other
    csrf = _csrf(cabinet.text)
    for typed in ("３", "1_000", "１２３,4"):
        r = await web.post(
            f"/cabinet/meters/{ids[0]}/readings", data={"csrf": csrf, "value": typed}
        )
        assert r.status_code == 303
        shown = await web.get(r.headers["location"])
        assert "Введите показание числом" in shown.text, typed


async def test_nul_anywhere_is_422_naming_where(env: Env) -> None:
    alice = await env.login(ALICE)
    cases = [
        ("GET", "/v1/operator/houses/h1%00x/balance", {"headers": env.viewer}, ["path"]),
        ("GET", "/v1/operator/anomalies?house=a%00b", {"headers": env.viewer}, ["query", "house"]),
        ("GET", "/v1/resident/accruals?period=%00", {"headers": alice}, ["query", "period"]),
        (
            "POST",
            "/v1/resident/login",
            {"json": {"account": ALICE[0] + "\x00", "password": ALICE[1]}},
            ["body", "account"],
        ),
        (
            "PUT",
            f"/v1/operator/accounts/{ALICE[0]}/password",
            {"headers": env.operator, "json": {"password": "pass\x00word-12"}},
            ["body", "password"],
        ),
        (
            "POST",
            "/v1/operator/meters/1/bind",
            {"headers": env.operator, "json": {"premise": "h1-1\x00"}},
            ["body", "premise"],
        ),
    ]
    for method, path, kw, loc in cases:
        r = await env.client.request(method, path, **kw)
        assert r.status_code == 422, (path, r.status_code, r.text)
        body = r.json()
        assert body["type"] == "urn:uchet:problem:validation-error"
        assert "NUL" in body["detail"], body
        assert body["errors"][0]["loc"] == loc, body
    # a JSON body that only looks like it (an escaped backslash) is not refused for NUL
    r = await env.client.post(
        "/v1/resident/login", json={"account": "\\u0000", "password": "whatever-1"}
    )
    assert r.status_code == 401


async def test_a_nul_in_a_form_is_422(web: httpx.AsyncClient) -> None:
    page = await web.get("/login")
    r = await web.post(
        "/login", data={"csrf": _csrf(page.text), "account": "69\x00", "password": "x" * 10}
    )
    assert r.status_code == 422 and "NUL" in r.json()["detail"]


async def test_a_long_upload_file_name_is_reported_under_its_name(env: Env) -> None:
    long_name = "к" * 290 + "_80020.xml"  # 590 bytes of UTF-8: no file system takes it
    files = [
        ("files", (long_name, b"not xml at all", "application/xml")),
        ("files", ("../../etc/b.xml", b"<x/>", "application/xml")),
    ]
    r = await env.client.post("/v1/operator/askue", files=files, headers=env.operator)
    assert r.status_code == 200, r.text
    reports = r.json()
    assert [x["file"] for x in reports] == [long_name, "b.xml"]
    assert reports[0]["report"]["status"] == "failed"


async def test_docs_are_served_from_the_package(env: Env) -> None:
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        r = await env.client.get(page)
        assert r.status_code == 200
        assert f"/docs-assets/{asset}" in r.text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", r.text), r.text
        js = await env.client.get(f"/docs-assets/{asset}")
        assert js.status_code == 200 and len(js.content) > 100_000
    assert (await env.client.get("/docs-assets/swagger-ui.css")).status_code == 200


async def test_docs_can_be_turned_off(db_url: str) -> None:
    await prepare(db_url)
    app = create_app(db_url, settings=settings(api_docs=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/docs")).status_code == 404
            assert (await client.get("/redoc")).status_code == 404
            assert (await client.get("/openapi.json")).status_code == 200
