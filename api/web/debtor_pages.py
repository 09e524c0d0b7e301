"""The operator's debtors page: aging, collection rate, export (issue #19)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
