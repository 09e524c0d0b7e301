"""Notifications over HTTP (issue #21): residents' preferences, the operators' log."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
