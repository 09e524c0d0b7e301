"""The resident cabinet in a real browser: login, submitting readings (accepted, refused with
the reason), charges with explanations and a chart, and no way into another account's pages."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import ALICE, BOB
from tests.web.conftest import Site, shot

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def script_errors(page: object) -> list[str]:
    # An HTTP error status is logged by Chromium as "Failed to load resource": expected on 404s.
    return [e for e in page.console_errors if "Failed to load resource" not in e]  # type: ignore[attr-defined]


def log_in(page: object, who: tuple[str, str], *, next_path: str = "/cabinet") -> None:
    page.goto(next_path)  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]
    page.get_by_label("Номер лицевого счёта").fill(who[0])  # type: ignore[attr-defined]
    page.get_by_label("Пароль").fill(who[1])  # type: ignore[attr-defined]
    page.get_by_role("button", name="Войти").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))  # type: ignore[attr-defined]


def test_wrong_password_is_refused_and_the_cabinet_needs_a_login(page, site: Site) -> None:
    page.goto("/cabinet/charges")
    assert page.url.endswith("/login?next=/cabinet/charges")
    page.get_by_label("Номер лицевого счёта").fill(ALICE[0])
    page.get_by_label("Пароль").fill("not-her-password")
    page.get_by_role("button", name="Войти").click()
    alert = page.get_by_role("alert")
    assert "Неверный номер лицевого счёта или пароль" in alert.inner_text()
    assert page.get_by_label("Номер лицевого счёта").input_value() == ALICE[0]
    shot(page, "login-failed")
    # The session cookie of the login form: HttpOnly, SameSite=Lax, not Secure over plain http.
    cookie = next(c for c in page.context.cookies() if c["name"] == "uchet_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    assert not script_errors(page)


def test_resident_submits_a_reading_and_sees_it_accepted(page, site: Site) -> None:
    log_in(page, ALICE)
    meter = site.seeded.meters["apt1-cw"]
    card = page.locator(f"#meter-{meter}")
    assert "120" in card.inner_text()  # the seeded last reading
    assert {"apt1-cw", "apt1-hw", "apt1-el"} <= set(re.findall(r"apt\d-\w\w", page.content()))
    assert "apt3-cw" not in page.content()  # Bob's meter
    shot(page, "cabinet")

    card.get_by_role("link", name="Передать показание").click()
    page.wait_for_url(f"**/cabinet/meters/{meter}")
    page.get_by_label("Новое показание").fill("124,75")
    page.get_by_role("button", name="Передать").click()
    status = page.get_by_role("status")
    assert "Показание 124,750\u00a0м³ принято" in status.inner_text()  # the meter's precision
    assert "124,75" in page.locator("#last-value").inner_text()
    first_row = page.locator("table.history tbody tr").first
    assert "124,75" in first_row.inner_text() and "передано вручную" in first_row.inner_text()
    shot(page, "meter-accepted")

    page.reload()  # the message is shown once; the reading stays
    assert page.get_by_role("status").count() == 0
    assert "124,75" in page.locator("#last-value").inner_text()
    assert not script_errors(page)


def test_a_reading_lower_than_the_last_is_refused_with_the_reason(page, site: Site) -> None:
    log_in(page, ALICE)
    meter = site.seeded.meters["apt1-el"]
    page.goto(f"/cabinet/meters/{meter}")
    before = page.locator("table.history tbody tr").count()
    page.get_by_label("Новое показание").fill("4999")
    page.get_by_role("button", name="Передать").click()
    alert = page.get_by_role("alert")
    text = alert.inner_text()
    assert "Показание не принято" in text
    assert "меньше предыдущего принятого 5000" in text
    assert "показание меньше предыдущего" in text  # the reason, in words
    # The refused value stays in the field, marked invalid, so it can be corrected.
    field = page.get_by_label("Новое показание")
    assert field.input_value() == "4999" and field.get_attribute("aria-invalid") == "true"
    assert page.locator("table.history tbody tr").count() == before
    assert "5\u00a0000" in page.locator("#last-value").inner_text()
    shot(page, "meter-refused")

    field.fill("пять тысяч")
    page.get_by_role("button", name="Передать").click()
    assert "Введите показание числом" in page.get_by_role("alert").inner_text()
    assert not script_errors(page)


def test_another_accounts_meter_is_refused(page, site: Site) -> None:
    log_in(page, ALICE)
    bobs = site.seeded.meters["apt3-cw"]
    response = page.goto(f"/cabinet/meters/{bobs}")
    assert response.status == 404
    assert "Счётчик не найден" in page.get_by_role("alert").inner_text()
    assert "47" not in page.locator("main").inner_text()  # Bob's last reading
    shot(page, "other-account-refused")
    # Posting a reading to Bob's meter with Alice's valid session and CSRF token is refused too.
    page.goto("/cabinet")
    token = page.locator("form.logout input[name=csrf]").input_value()
    posted = page.request.post(
        f"/cabinet/meters/{bobs}/readings", form={"csrf": token, "value": "999"},
        max_redirects=0,
    )  # fmt: skip
    assert posted.status == 404
    # ...and Bob still sees his own last reading unchanged.
    page.context.clear_cookies()
    log_in(page, BOB)
    assert "47" in page.locator(f"#meter-{bobs}").inner_text()
    assert "999" not in page.content()


def test_charges_explain_every_line_and_chart_the_consumption(page, site: Site) -> None:
    log_in(page, ALICE, next_path="/cabinet/charges")
    for period in site.seeded.periods:
        section = page.locator(f"#period-{period}")
        assert section.count() == 1, period
        lines = section.locator("tr.line")
        explanations = section.locator("tr.explain")
        assert lines.count() > 0 and lines.count() == explanations.count()
        total = section.locator(".total").inner_text()
        assert re.fullmatch(r"[\d\u00a0]+,\d\d\u00a0₽", total), total
    water = page.locator(f"#period-{site.seeded.periods[-1]} tr.line", has_text="Холодная вода")
    assert water.count() >= 1
    explain = page.locator("tr.explain details").first
    explain.locator("summary").click()
    assert len(explain.locator("p").inner_text()) > 20
    # The charts are drawn by the vendored Chart.js (no CDN), one per unit: m³ and kWh never
    # share an axis (the water bars would be invisible next to the electricity's).
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')].map(c => {"
        " const ch = window.Chart && Chart.getChart(c);"
        " return [c.id, ch ? ch.options.scales.y.title.text : null,"
        "         ch ? ch.data.datasets.map(d => d.label) : []]; })"
    )
    by_id = {i: (unit, sets) for i, unit, sets in drawn}
    assert by_id["consumption-m3"][0] == "м³" and "Холодная вода" in by_id["consumption-m3"][1]
    assert by_id["consumption-kWh"] == ("кВт·ч", ["Электроэнергия"])
    volumes = page.locator("tr.line td[data-label='Объём']").all_inner_texts()
    assert volumes and all(
        re.fullmatch(r"[\d\u00a0]+,\d{2,3}\u00a0(м³|кВт·ч|Гкал)", v) for v in volumes
    ), volumes
    water = page.locator("tr.line", has_text="Холодная вода").first
    assert re.search(r",\d{3}\u00a0м³", water.inner_text())  # litres, not 6 decimals
    shot(page, "charges")
    page.set_viewport_size({"width": 390, "height": 844})
    # On a phone each line is a block and every value says what it is (no table header).
    cell = page.locator("tr.line td[data-label='Объём']").first
    label = page.evaluate("el => getComputedStyle(el, '::before').content", cell.element_handle())
    assert "Объём" in label
    assert cell.bounding_box()["width"] > 300  # the whole row's width, not a squeezed column
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(page, "charges-phone")
    page.goto("/cabinet")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, "the cabinet scrolls sideways on a phone"
    place = page.locator("#place").inner_text()
    assert "помещение № 1" in place and "Советская" in place and "h1-1" not in place
    last = page.locator(".meter .value").all_inner_texts()
    assert all(re.fullmatch(r"[\d\u00a0]+,\d{2,3}\u00a0(м³|кВт·ч|Гкал)", v) for v in last), last
    shot(page, "cabinet-phone")
    meter = site.seeded.meters["apt1-el"]
    page.goto(f"/cabinet/meters/{meter}")
    first = page.locator("table.history tbody tr td[data-label='Показание']").first
    assert first.inner_text().endswith("кВт·ч") and ",00" in first.inner_text()
    shot(page, "meter-phone")
    assert not script_errors(page)


def test_post_without_the_csrf_token_is_refused(page, site: Site) -> None:
    log_in(page, ALICE)
    meter = site.seeded.meters["apt1-cw"]
    for form in ({"value": "130"}, {"value": "130", "csrf": "forged"}):
        r = page.request.post(f"/cabinet/meters/{meter}/readings", form=form, max_redirects=0)
        assert r.status == 403, form
    page.goto(f"/cabinet/meters/{meter}")
    assert "130" not in page.locator("#last-value").inner_text()
