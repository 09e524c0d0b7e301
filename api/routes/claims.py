"""The claims workflow over HTTP (issue #19): stages of a debtor's claim and its documents."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
