"""The report on a simulated town finds the differences the simulator made (≥ 0.95 precision
and recall with typos in 30 % of the register's street names), and the register the simulator
writes is read back by the shipped mapping."""

from __future__ import annotations

from pathlib import Path

from adapters.property import find_property_mapping, read_property_register
from core.reconcile import reconcile
from simulators.property_register import TownSpec, make_town, typo, write_register_csv


def _found(town_spec: TownSpec) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    town = make_town(town_spec)
    report = reconcile(town.rows, town.premises, town.rates)
    found = set()
    for f in report.findings:
        if f.kind == "unbilled":
            found.add(("unbilled", f.where.rsplit(" ", 1)[1]))
        else:
            found.add((f.kind, f.premise_id or f.where))
    return found, town.truth


def test_precision_and_recall_on_a_town_with_typos() -> None:
    found, truth = _found(TownSpec(houses=120, flats=30, seed=7))
    assert {k for k, _ in truth} == {"unbilled", "unregistered", "area", "residents", "purpose"}
    hit = len(found & truth)
    assert hit / len(found) >= 0.95
    assert hit / len(truth) >= 0.95


def test_without_differences_nothing_is_found() -> None:
    spec = TownSpec(houses=60, flats=10, seed=3, missing_accounts=0, unregistered=0,
                    wrong_area=0, residents=0, purpose=0)  # fmt: skip
    found, truth = _found(spec)
    assert truth == set()
    assert {k for k, _ in found} <= {"review"}
    assert len(found) <= 3


def test_typos_keep_the_first_letter_and_change_the_name() -> None:
    import random

    rng = random.Random(1)
    for _ in range(50):
        t = typo("Моделируемая", rng)
        assert t[0] == "М" and t != "Моделируемая" and abs(len(t) - 12) <= 1


def test_the_written_register_reads_back(tmp_path: Path) -> None:
    town = make_town(TownSpec(houses=5, flats=4, seed=2))
    path = tmp_path / "register.csv"
    write_register_csv(town, path)
    got = read_property_register(path, find_property_mapping("municipal_premises", None))
    assert got.problems == []
    assert [(r.line, r.address, r.area, r.residents) for r in got.rows] == [
        (r.line, r.address, r.area, r.residents) for r in town.rows
    ]
