"""The operator's claims pages in a real browser: open a claim from the debtors due a notice and
by account, move it on with a date, refuse what the rules forbid (with the reason shown),
download its letter; a viewer sees the claims but cannot change them."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.conftest import ALICE, BOB
from tests.api.server import api_server
from tests.ledger.test_epd_store import PAYEE, fill_with_payments
from tests.web.conftest import Site, _need_browser, shot
from tests.web.test_operator import log_in, script_errors

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Alice owes 1000.00 of 2026-02 and 800.00 of 2026-03, Bob 500.00 of 2025-10."""
    _need_browser()
    home = tmp_path_factory.mktemp("home")
    (home / "payee.json").write_text(json.dumps(PAYEE), encoding="utf-8")
    with api_server(UCHET_WEB_SECURE_COOKIE="auto", UCHET_HOME=str(home)) as server:
        asyncio.run(fill_with_payments(server.db_url))
        yield Site(server, None)  # type: ignore[arg-type]


def _csrf(page: object) -> str:
    return page.locator("form.logout input[name=csrf]").input_value()  # type: ignore[attr-defined,no-any-return]


def test_an_operator_works_a_claim_through_its_stages(page, site: Site) -> None:
    log_in(page, site.server.operator_key)
    page.goto("/operator/claims")
    assert page.locator("#no-claims").count() == 1
    form = page.locator("#open-claim")
    form.get_by_label("Лицевой счёт").fill(ALICE[0])
    form.get_by_label("Дата уведомления").fill("2026-05-04")
    form.get_by_label("Примечание").fill("вручено лично")
    form.get_by_role("button", name="Открыть").click()
    page.wait_for_url(re.compile(r"/operator/claims/\d+$"))
    cid = int(page.url.rsplit("/", 1)[1])
    assert (
        f"Претензия № {cid} по счёту {ALICE[0]} открыта" in page.get_by_role("status").inner_text()
    )
    assert page.locator("#current-stage").inner_text() == "Уведомление (претензия)"
    assert page.locator("#debt").inner_text() == f"1{NBSP}800,00{NBSP}₽"
    # the writ is not offered before the court
    options = page.locator("#stage option").all_inner_texts()
    assert "Исполнительный лист / судебный приказ" not in options and len(options) == 3

    advance = page.locator("#advance")
    advance.get_by_label("Этап").select_option("warning")
    advance.get_by_label("Дата").fill("2026-06-10")
    advance.get_by_role("button", name="Записать этап").click()
    assert "записан на 10.06.2026" in page.get_by_role("status").inner_text()
    rows = page.locator("#history tr.event")
    assert rows.count() == 2 and "вручено лично" in rows.first.inner_text()
    assert "web:api_key:" in rows.nth(1).inner_text()

    close = page.locator("#close")
    close.get_by_label("Причина").select_option("paid")
    close.get_by_label("Дата").fill("2026-06-20")
    close.get_by_role("button", name="Закрыть").click()
    alert = page.get_by_role("alert").inner_text()
    assert "долг не погашен" in alert and "1800.00" in alert
    # a date before the previous stage, sent past the browser's own check
    r = page.request.post(
        f"/operator/claims/{cid}/advance",
        form={"csrf": _csrf(page), "stage": "court", "date": "2026-06-01"},
    )
    assert r.status == 200 and "раньше даты предыдущего этапа" in r.text()
    shot(page, "claims-claim")

    pypdf = pytest.importorskip("pypdf")
    pdf = page.request.get(page.locator("#letter").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
    assert "Предупреждение о приостановлении" in text and ALICE[0] in text
    page.reload()
    assert f"письмо claim-{cid}-warning-{ALICE[0]}.pdf" in page.locator("#history").inner_text()

    page.goto("/operator/claims")
    row = page.locator(f'#claims tr.claim[data-claim="{cid}"]')
    assert "Предупреждение об ограничении" in row.inner_text()
    assert page.locator('#stages a[data-stage="warning"] .count').inner_text() == "1"
    assert page.locator('#stages a[data-stage="notice"] .count').inner_text() == "0"
    shot(page, "claims")
    page.goto("/operator/claims?stage=court")
    assert page.locator("#claims").count() == 0
    assert not script_errors(page)


def test_candidates_and_the_viewer(page, site: Site) -> None:
    log_in(page, site.server.operator_key)
    page.goto("/operator/claims/candidates?min_debt=100.00&min_days=30")
    rows = page.locator("#candidates tr.candidate")
    accounts = [rows.nth(i).get_attribute("data-account") for i in range(rows.count())]
    assert BOB[0] in accounts
    shot(page, "claims-candidates")
    page.locator(f'tr.candidate[data-account="{BOB[0]}"]').get_by_role(
        "button", name="Открыть претензию"
    ).click()
    page.wait_for_url(re.compile(r"/operator/claims/\d+$"))
    assert page.locator("#debt").inner_text() == f"500,00{NBSP}₽"
    bob_claim = page.url.rsplit("/", 1)[1]
    page.goto("/operator/claims/candidates?min_debt=100.00&min_days=30")
    assert page.locator(f'tr.candidate[data-account="{BOB[0]}"]').count() == 0
    page.goto("/operator/claims/candidates?min_debt=lots")
    assert "Укажите сумму долга" in page.get_by_role("alert").inner_text()

    page.context.clear_cookies()
    log_in(page, site.server.viewer_key)
    page.goto(f"/operator/claims/{bob_claim}")
    assert page.locator("#history tr.event").count() == 1
    assert page.locator("#advance, #close").count() == 0
    r = page.request.post(
        f"/operator/claims/{bob_claim}/advance",
        form={"csrf": _csrf(page), "stage": "court"},
        max_redirects=0,
    )
    assert r.status == 403
    assert page.request.get("/operator/claims/999999").status == 404
    assert page.request.get("/operator/claims/nonsense").status == 404
    assert not script_errors(page)


def test_more_claims_than_a_page_are_counted_and_paged(page, site: Site) -> None:
    """1,205 open claims (run last: they fill the list): the counts by stage and the total are
    the store's, a later stage lists its own, and the list pages 50 at a time."""
    from tests.ledger.test_claims_store import _many_claims

    with ThreadPoolExecutor(1) as pool:  # playwright's loop runs in this thread
        pool.submit(asyncio.run, _many_claims(site.server.db_url, 1100, 105)).result()
    log_in(page, site.server.viewer_key)
    page.goto("/operator/claims")
    counts = {
        s: int(page.locator(f'#stages a[data-stage="{s}"] .count').inner_text())
        for s in ("notice", "writ")
    }
    assert counts["writ"] == 105 and counts["notice"] >= 1100
    total = int(page.locator("#stages a").first.locator(".count").inner_text())
    assert total == sum(
        int(page.locator(f'#stages a[data-stage="{s}"] .count').inner_text())
        for s in ("notice", "warning", "lawyers", "court", "writ")
    )
    assert page.locator("#claims tr.claim").count() == 50
    page.goto("/operator/claims?stage=writ")
    assert page.locator('#claims tr.claim[data-stage="writ"]').count() == 50
    assert "из 105" in page.locator("#claims-pager").inner_text()
    page.locator("#claims-pager a[rel=next]").click()
    page.locator("#claims-pager a[rel=next]").click()
    assert page.locator("#claims tr.claim").count() == 5
    assert "страница 3 из 3" in page.locator("#claims-pager").inner_text()
    assert page.locator("#claims-pager a[rel=next]").count() == 0
    shot(page, "claims-pages")
    assert not script_errors(page)
