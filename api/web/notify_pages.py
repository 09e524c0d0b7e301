"""Notification pages (issue #21): the resident's preferences, the operator's log."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
