"""Stable, readable operationIds (issue #20): a client generated from /openapi.json gets
method names like ``resident_meters_history``, not ``history_v1_resident_meters__meter_id__
readings_get``; every id is unique, and the set equals the committed list below, so renaming
a route function (which renames its id, breaking generated clients) is a deliberate change.
"""

from __future__ import annotations

import re

from api.app import create_app

# The committed list: add a route → add its id here (sorted).
EXPECTED = """
claims_claim_advance
claims_claim_candidates
claims_claim_close
claims_claim_letter
claims_claim_one
claims_claim_open
claims_list
health
health_metrics
health_ready
ledger_add_payment
ledger_balance
ledger_collection
ledger_debtors
ledger_debtors_export
ledger_epd
ledger_upload_register
login
login_logout
notify_confirm_email
notify_get_preferences
notify_operator_log
notify_put_preferences
operator_billing_balance
operator_billing_bill
operator_ingest_anomalies
operator_ingest_stats
operator_ingest_upload_askue
operator_meters_bind
operator_meters_bind_csv
operator_meters_list_meters
operator_meters_list_quarantine
operator_meters_meter_counts
operator_meters_replay_quarantine
operator_readings_exclude
operator_readings_exclusions
operator_readings_include
operator_reference_load
operator_reference_put_password
reconcile_check
reconcile_confirm
reconcile_open_from_row
reconcile_report
reconcile_report_file
reconcile_upload_register
resident_accruals_accruals
resident_meters_correct_last_reading
resident_meters_daily_figures
resident_meters_history
resident_meters_me
resident_meters_meters
resident_meters_submit
""".split()

READABLE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
PATH_FRAGMENT = re.compile(r"__|(^|_)v[0-9]+(_|$)|_(get|post|put|patch|delete)$")


def _operation_ids() -> list[str]:
    schema = create_app("postgresql://unused/unused").openapi()
    return [
        op["operationId"]
        for ops in schema["paths"].values()
        for method, op in ops.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_operation_ids_are_unique() -> None:
    ids = _operation_ids()
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_operation_ids_are_readable_without_path_fragments() -> None:
    for op_id in _operation_ids():
        assert READABLE.match(op_id), op_id
        assert not PATH_FRAGMENT.search(op_id), op_id


def test_operation_ids_equal_the_committed_list() -> None:
    ids = sorted(_operation_ids())
    added = sorted(set(ids) - set(EXPECTED))
    removed = sorted(set(EXPECTED) - set(ids))
    assert not added and not removed, f"added: {added}; removed: {removed} (update EXPECTED)"
