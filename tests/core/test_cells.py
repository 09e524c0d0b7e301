"""Export cells never start a formula; ordinary text and numbers are unchanged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.cells import safe_cell, safe_text


@pytest.mark.parametrize(
    "text", ["=1+2", '=HYPERLINK("http://evil","x")', "+7 999", "-1", "@SUM(A1)", "\tx", "\rx"]
)
def test_formula_starts_become_text(text: str) -> None:
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize("text", ["", "г. Симбирск, ул. Моделируемая, д. 44", "ЛС-001", "1 500,50"])
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert safe_text(text) == text


def test_non_text_is_unchanged() -> None:
    assert safe_cell(Decimal("-10.50")) == Decimal("-10.50")
    assert safe_cell(-3) == -3
    assert safe_cell(None) is None
    assert safe_cell("-3") == "'-3"
