"""Reconciliation over HTTP (issue #22): the report, decisions, exports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
