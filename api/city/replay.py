"""Runs a simulated town through uchet end to end: reference data, history, then month by
month every path (MQTT into the gateway, Modbus polled by the gateway's poller, 80020 files
through the importer, residents through the HTTP API in-process), batch VEE and billing; then
collects what uchet made of it for the report.

This module imports everything (adapters, ingest, api): it is the orchestration, not a
device simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np

import simulators.city
from adapters.billing import parse_reference
from adapters.modbus.devices import devices_from_dict
from adapters.modbus.poller import Poller
from adapters.mqtt import BrokerAddress
from adapters.store import ReadingStore
from adapters.store import city as city_store
from adapters.store.billing_load import load_reference
from adapters.store.connections import Connection, connect
from api.app import create_app
from api.progress import Bar, bar
from api.runtime import migrate_url
from api.security import hash_password
from api.settings import ApiSettings
from core.batch import Columns, to_us
from core.config import Settings
from core.errors import UchetError
from core.reading import Kind
from ingest.askue_import import AskueImporter
from ingest.billing import bill_period
from ingest.gateway import Gateway
from ingest.intake import Intake
from ingest.pipeline import Pipeline
from ingest.vee import run_vee
from simulators.city import askue_files
from simulators.city.consumption import Truth, generate
from simulators.city.delivery import (
    ApiPlan,
    AskuePlan,
    ModbusPlan,
    MqttPlan,
    PathPlan,
    Registers,
    api_plan,
    askue_plan,
    history,
    house_cumulative,
    modbus_plan,
    mqtt_plan,
)
from simulators.city.reference import reference_document
from simulators.city.town import CitySpec, Town, build_town
from simulators.fastpub import publish_fast
from simulators.modbus import Fault, SimClock, SimGateway, SimMeter, sim_registers

log = logging.getLogger(__name__)
PROFILE = Path(simulators.city.__file__).with_name("house_water.json")
"""The house water meter's Modbus profile, beside the town model."""
PER_GATEWAY = 16  # house meters behind one RS-485/TCP gateway
HISTORY_DAYS = 3650
"""Back-fill window of a replay: its months and their warm-up history may lie years back."""


class CityError(UchetError):
    """The replay cannot run (a store that is not empty, a broker that does not answer)."""


@dataclass
class PathTally:
    """Delivered vs what uchet made of it, for one path over the replay."""

    delivered: int = 0
    lost: int = 0
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    superseded: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)  # refused before validation
    expected: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    extra: Counter[str] = field(default_factory=Counter)

    def add_plan(self, plan: PathPlan) -> None:
        self.delivered += plan.delivered
        self.lost += plan.lost
        self.expected.update(plan.expect)
        self.faults.update(plan.notes)

    def as_dict(self) -> dict[str, Any]:
        accounted = (
            self.stored
            + self.duplicates
            + self.conflicts
            + self.superseded
            + sum(self.quarantined.values())
            + sum(self.rejected.values())
        )
        got = Counter({"stored": self.stored, "duplicate": self.duplicates})
        got.update({f"quarantine:{k}": v for k, v in self.quarantined.items()})
        got.update({f"rejected:{k}": v for k, v in self.rejected.items()})
        if self.conflicts:
            got["conflict"] = self.conflicts
        return {
            "delivered": self.delivered,
            "lost_before_delivery": self.lost,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "superseded": self.superseded,
            "quarantined": dict(sorted(self.quarantined.items())),
            "rejected": dict(sorted(self.rejected.items())),
            "reconciles": accounted == self.delivered,
            "expected": dict(sorted(self.expected.items())),
            "outcomes": dict(sorted((k, v) for k, v in got.items() if v)),
            "matches_ground_truth": +got == +self.expected,
            "injected_faults": dict(sorted(self.faults.items())),
            **({"details": dict(sorted(self.extra.items()))} if self.extra else {}),
        }


@dataclass
class Replay:
    spec: CitySpec
    town: Town
    truth: Truth
    paths: dict[str, PathTally]
    months: list[int]
    bills: list[dict[str, Any]]
    vee: list[dict[str, Any]]
    timings: dict[str, float]
    db: dict[str, Any]  # what was read back from the store for the report


class _Timer:
    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Any:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - t0


def _accounted(p: Pipeline) -> int:
    m = p.metrics
    return m.stored + m.duplicates + m.conflicts + sum(m.quarantined.values())


async def _drained(p: Pipeline, target: int, what: str, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _accounted(p) < target:
        if time.monotonic() > deadline:
            raise CityError(
                f"{what}: only {_accounted(p)} of {target} readings accounted for after"
                f" {timeout_s:.0f} s (is the gateway connected to the broker?)"
            )
        await asyncio.sleep(0.05)


def _pipeline_delta(
    tally: PathTally, p: Pipeline, before: tuple[int, int, int, Counter[str]]
) -> None:
    m = p.metrics
    tally.stored += m.stored - before[0]
    tally.duplicates += m.duplicates - before[1]
    tally.conflicts += m.conflicts - before[2]
    tally.quarantined.update(m.quarantined - before[3])


def _snapshot(p: Pipeline) -> tuple[int, int, int, Counter[str]]:
    m = p.metrics
    return m.stored, m.duplicates, m.conflicts, Counter(m.quarantined)


class _CountingSink:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.submitted = 0

    async def submit(self, readings: Any) -> None:
        self.submitted += len(readings)
        await self.pipeline.submit(readings)


async def _check_empty(url: str) -> None:
    conn = await connect(url)
    try:
        premises, readings = await city_store.counts(conn)
    finally:
        await conn.close()
    if premises or readings:
        raise CityError(
            f"the store already holds {premises} premises and {readings} readings; the city"
            " replay needs an empty database (give it a fresh one)"
        )


async def _load_history(intake: Intake, rows: list[tuple[Any, ...]]) -> int:
    # the previous billing system's month-end registers: an import of history
    by_source: dict[str, Columns] = {}
    for source, meter, channel, ts, value in rows:
        cols = by_source.setdefault(source, Columns())
        cols.source.append(source)
        cols.meter.append(meter)
        cols.channel.append(channel)
        cols.ts.append(to_us(ts))
        cols.value.append(value)
        cols.kind.append(int(Kind.REGISTER))
        cols.flags.append(0)
        cols.end.append(-(2**63))
    stored = 0
    for source, cols in sorted(by_source.items()):
        stored += (await intake.ingest(cols, source=source)).stored
    return stored


def _modbus_fleet(town: Town, ports: list[int]) -> tuple[list[SimGateway], dict[str, Any]]:
    profile = json.loads(PROFILE.read_text(encoding="utf-8"))
    regs = sim_registers(profile)
    clock = SimClock()
    gateways: list[SimGateway] = []
    devices = []
    for i, meter in enumerate(town.modbus_meters):
        if i % PER_GATEWAY == 0:
            gateways.append(SimGateway("127.0.0.1", ports[i // PER_GATEWAY], {}, clock))
        gw = gateways[-1]
        unit = len(gw.meters) + 1
        gw.meters[unit] = SimMeter(
            meter,
            unit,
            str(PROFILE),
            regs,
            {r.name: 0.0 for r in regs},
            {r.name: 0.0 for r in regs},
        )
        devices.append(
            {
                "meter": meter,
                "host": gw.host,
                "port": gw.port,
                "unit": unit,
                "profile": str(PROFILE),
            }
        )
    return gateways, {"defaults": {"timeout_s": 1.0, "interval_s": 3600.0}, "devices": devices}


async def run_city(
    spec: CitySpec,
    database_url: str,
    out: Path,
    *,
    mqtt_url: str,
    mqtt_protocol: str = "5",
    say: Callable[[str], None] = lambda _: None,
) -> Replay:
    """Replays ``spec`` against the (empty) store at ``database_url`` and the broker at
    ``mqtt_url``; writes 80020 files under ``out/askue``; returns what the report needs."""
    timer = _Timer()
    await asyncio.to_thread((out / "askue").mkdir, parents=True, exist_ok=True)
    tz_name = spec.timezone
    with timer("model: town and true consumption"):
        town = build_town(spec)
        truth = generate(town)
        regs = Registers.build(town, truth)
        cum = house_cumulative(town, truth)
    await migrate_url(database_url)
    await _check_empty(database_url)
    say(
        f"  город: домов {len(town.house_ids)}, помещений {town.n_premises},"
        f" счётчиков в помещениях {len(town.premise_meters())}; месяцы с {spec.start:%Y-%m},"
        f" всего {spec.months}"
    )
    store = await ReadingStore.open(database_url, max_size=4)
    conn = await connect(database_url)
    paths = {p: PathTally() for p in ("mqtt", "modbus", "askue", "api")}
    months = [spec.first_month + i for i in range(spec.months)]
    bills: list[dict[str, Any]] = []
    vees: list[dict[str, Any]] = []
    try:
        with timer("reference data load"):
            await load_reference(conn, parse_reference(reference_document(town), name="city"))
        # One settings object for every path of the replay; the simulated months and their
        # warm-up history may lie years back, so the back-fill window covers them.
        settings = Settings(
            mqtt_url=mqtt_url,
            mqtt_protocol=mqtt_protocol,  # type: ignore[arg-type]
            mqtt_client_id=f"uchet-city-{spec.seed}",
            batch_delay_s=0.05,
            askue_inbox_interval_s=0,
            vee_interval_s=0,
            modbus_devices=None,
            timezone=tz_name,
            backfill_days=HISTORY_DAYS,
        )
        with timer("history (warm-up month ends)"):
            hist = history(town, truth, regs)
            stored = await _load_history(Intake.from_settings(store, settings), hist)
        say(
            f"  история: {stored} показаний на конец месяца за {spec.warmup_months} месяцев разгона"
        )
        gateway = Gateway(settings, database_url)
        stop, ready = asyncio.Event(), asyncio.Event()
        gw_task = asyncio.create_task(gateway.run(stop, ready=ready))
        try:
            await asyncio.wait_for(ready.wait(), 30)
        except TimeoutError:
            stop.set()
            await asyncio.gather(gw_task, return_exceptions=True)
            raise CityError(f"the gateway did not subscribe at {mqtt_url} within 30 s") from None
        try:
            pipeline = gateway.pipeline
            assert pipeline is not None
            await _replay_months(
                spec, town, truth, regs, cum, months, pipeline, store, conn, paths, bills, vees,
                out, mqtt_url, database_url, timer, say,
            )  # fmt: skip
        finally:
            stop.set()
            await gw_task
        with timer("report data from the store"):
            db = await _read_back(conn, town, months, tz_name)
            db["store"]["history_readings"] = stored
    finally:
        await conn.close()
        await store.close()
    return Replay(spec, town, truth, paths, months, bills, vees, timer.spent, db)


async def _replay_months(
    spec: CitySpec,
    town: Town,
    truth: Truth,
    regs: Registers,
    cum: np.ndarray,
    months: list[int],
    pipeline: Pipeline,
    store: ReadingStore,
    conn: Connection,
    paths: dict[str, PathTally],
    bills: list[dict[str, Any]],
    vees: list[dict[str, Any]],
    out: Path,
    mqtt_url: str,
    database_url: str,
    timer: _Timer,
    say: Callable[[str], None],
) -> None:
    from adapters.embedded import free_port

    tz = ZoneInfo(spec.timezone)
    address = BrokerAddress.parse(mqtt_url)
    n_gw = (len(town.modbus_meters) + PER_GATEWAY - 1) // PER_GATEWAY
    gateways, device_doc = _modbus_fleet(town, [free_port() for _ in range(n_gw)])
    sim_now = [0.0]
    sink = _CountingSink(pipeline)
    poller = Poller(
        devices_from_dict(device_doc, origin="city", base=PROFILE.parent),
        sink,
        clock=lambda: sim_now[0],
    )
    importer = AskueImporter(pipeline.intake, tz=spec.timezone)
    api_settings = ApiSettings(
        api_secret="city-replay-" + "x" * 32,  # type: ignore[arg-type]
        api_submit_per_minute=10**9,
        api_login_per_minute=10**9,
        api_max_reading_age_days=3650,
        api_submission_days=None,
        timezone=spec.timezone,
    )
    app = create_app(database_url, settings=api_settings)
    await asyncio.gather(*(g.start() for g in gateways))
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://city"
            ) as client,
        ):
            tokens, meter_ids = await _residents(conn, town, app, client)
            run = _MonthRun(
                spec, town, truth, regs, cum, pipeline, store, conn, paths, bills, vees, out,
                timer, say, address, poller, gateways, sink, sim_now, importer, client, tokens,
                meter_ids, tz,
            )  # fmt: skip
            with bar("месяцы города", total=len(months) * len(STAGES), unit="этап") as b:
                for month in months:
                    await _replay_month(run, month, b)
    finally:
        await asyncio.gather(*(g.stop() for g in gateways))


STAGES = ("MQTT", "Modbus", "АСКУЭ 80020", "API жителей", "VEE", "начисление")
"""The steps of one replayed month, as the progress bar names them."""


@dataclass
class _MonthRun:
    """What every replayed month works with."""

    spec: CitySpec
    town: Town
    truth: Truth
    regs: Registers
    cum: np.ndarray
    pipeline: Pipeline
    store: ReadingStore
    conn: Connection
    paths: dict[str, PathTally]
    bills: list[dict[str, Any]]
    vees: list[dict[str, Any]]
    out: Path
    timer: _Timer
    say: Callable[[str], None]
    address: BrokerAddress
    poller: Poller
    gateways: list[SimGateway]
    sink: _CountingSink
    sim_now: list[float]
    importer: AskueImporter
    client: httpx.AsyncClient
    tokens: dict[str, str]
    meter_ids: dict[str, int]
    tz: ZoneInfo


async def _replay_month(r: _MonthRun, month: int, b: Bar) -> None:
    """One month through every path, VEE and billing; the bar moves a step per stage."""
    name = f"{month // 12:04d}-{month % 12 + 1:02d}"
    stages = iter(STAGES)
    timer, town, truth, regs, paths, pipeline = (
        r.timer, r.town, r.truth, r.regs, r.paths, r.pipeline
    )  # fmt: skip

    def step(done: int) -> None:
        b.advance(done)
        b.note(f"{name}: {next(stages, '')}")

    step(0)
    with timer("mqtt: plan"):
        mplan = mqtt_plan(town, truth, regs, month)
    with timer("mqtt: publish + gateway ingest"):
        await _run_mqtt(mplan, pipeline, paths["mqtt"], r.address)
    step(1)
    with timer("modbus: plan"):
        bplan = modbus_plan(town, truth, r.cum, month)
    with timer("modbus: poll + ingest"):
        await _run_modbus(bplan, r.poller, r.gateways, r.sink, pipeline, paths["modbus"], r.sim_now)
    step(1)
    with timer("askue: plan + write 80020 files"):
        aplan = askue_plan(town, truth, month)
        files = [
            askue_files.write(r.out / "askue", f, seed=r.spec.seed, tz=r.tz) for f in aplan.files
        ]
    with timer("askue: import"):
        await _run_askue(aplan, files, r.importer, paths["askue"])
    step(1)
    with timer("api: plan"):
        rplan = api_plan(town, truth, regs, month)
    with timer("api: resident submissions"):
        await _run_api(rplan, r.client, r.tokens, r.meter_ids, paths["api"])
    step(1)
    with timer("vee"):
        vr = await run_vee(
            r.store, name, timezone=r.spec.timezone, settings=Settings().vee_settings()
        )
    step(1)
    r.vees.append({"period": name, "anomalies": dict(sorted(vr.anomalies.items()))})
    with timer("billing"):
        br = await bill_period(r.conn, month, timezone=r.spec.timezone)
    b.advance(1)
    r.bills.append(
        {
            "period": name,
            "lines": br.lines,
            "total": str(br.total),
            "warnings": len(br.warnings),
        }
    )
    r.say(
        f"  {name}: показаний mqtt {mplan.delivered}, modbus {bplan.delivered},"
        f" askue {aplan.delivered} (файлов {len(files)}), api {rplan.delivered};"
        f" аномалий VEE {sum(vr.anomalies.values())};"
        f" начислено строк {br.lines} на {br.total} ₽"
    )


async def _run_mqtt(
    plan: MqttPlan, pipeline: Pipeline, tally: PathTally, address: BrokerAddress
) -> None:
    tally.add_plan(plan)
    before = _snapshot(pipeline)
    target = _accounted(pipeline) + plan.delivered
    await publish_fast(address.host, address.port, plan.messages, client_id="uchet-city-pub")
    await _drained(pipeline, target, "mqtt", timeout_s=60 + plan.delivered / 2000)
    _pipeline_delta(tally, pipeline, before)


async def _run_modbus(
    plan: ModbusPlan,
    poller: Poller,
    gateways: list[SimGateway],
    sink: _CountingSink,
    pipeline: Pipeline,
    tally: PathTally,
    sim_now: list[float],
) -> None:
    tally.add_plan(plan)
    meters = {m.meter: m for g in gateways for m in g.meters.values()}
    before = _snapshot(pipeline)
    target = _accounted(pipeline) + plan.delivered
    submitted = sink.submitted
    for poll in plan.polls:
        for meter_id, sim in meters.items():
            if meter_id in poll.silent:
                sim.fault = Fault.EXCEPTION  # the meter answers "device failure"
                continue
            sim.fault = Fault.NONE
            cold, hot = poll.values[meter_id]
            sim.set_value("cold_volume", cold)
            sim.set_value("hot_volume", hot)
        sim_now[0] = poll.at.timestamp()
        await poller.poll_once()
    tally.extra["polled_readings"] += sink.submitted - submitted
    await _drained(pipeline, target, "modbus", timeout_s=60 + plan.delivered / 2000)
    _pipeline_delta(tally, pipeline, before)


async def _run_askue(
    plan: AskuePlan, files: list[Path], importer: AskueImporter, tally: PathTally
) -> None:
    tally.add_plan(plan)
    for path in files:
        rep = await importer.import_file(path)
        if rep.status == "failed":
            tally.extra["failed_files"] += 1
            tally.rejected["failed_file"] += 48 * len(plan.files[0].points)
            continue
        tally.extra["files"] += 1
        tally.stored += rep.accepted
        tally.duplicates += rep.duplicates
        tally.conflicts += rep.conflicts
        tally.superseded += rep.superseded
        tally.quarantined.update(rep.quarantined)
        tally.rejected.update({"parse_error": rep.rejected_count} if rep.rejected_count else {})


async def _residents(
    conn: Connection, town: Town, app: Any, client: httpx.AsyncClient
) -> tuple[dict[str, str], dict[str, int]]:
    """Resident logins for every account with a manual meter, and the API's meter ids.

    Passwords are argon2-hashed once (0.1 s each is the point of argon2); one resident logs in
    through the API, the others get their token from the app's signer, as a login would.
    """
    accounts = sorted({town.accounts[m.premise] for m in town.premise_meters() if m.path == "api"})
    password = "city-replay-resident"
    digest = await asyncio.to_thread(hash_password, password)
    await city_store.set_logins(conn, accounts, digest)
    signer = app.state.services.signer
    tokens = {a: signer.issue(a, 1) for a in accounts}
    if accounts:
        r = await client.post(
            "/v1/resident/login", json={"account": accounts[0], "password": password}
        )
        if r.status_code != 200:
            raise CityError(f"resident login through the API failed: {r.status_code} {r.text}")
        tokens[accounts[0]] = r.json()["access_token"]
    return tokens, await city_store.meter_ids(conn, "api")


async def _run_api(
    plan: ApiPlan,
    client: httpx.AsyncClient,
    tokens: dict[str, str],
    meter_ids: dict[str, int],
    tally: PathTally,
) -> None:
    tally.add_plan(plan)
    gate = asyncio.Semaphore(32)
    outcomes: Counter[str] = Counter()

    async def one(i: int) -> None:
        s = plan.submissions[i]
        async with gate:
            r = await client.post(
                f"/v1/resident/meters/{meter_ids[s.meter]}/readings",
                json={"value": s.value, "taken_at": s.taken_at.isoformat()},
                headers={"Authorization": f"Bearer {tokens[s.account]}"},
            )
        if r.status_code == 201:
            outcomes["stored"] += 1
        elif r.status_code == 200:
            outcomes["duplicate"] += 1
        elif r.status_code == 422 and r.json().get("reason"):
            outcomes["quarantine:" + r.json()["reason"]] += 1
        else:
            outcomes[f"http_{r.status_code}"] += 1

    # a resident's repeat goes after the first of the same reading, as in real life
    n = len(plan.submissions)
    first = n - plan.notes.get("repeated_submission", 0)
    await asyncio.gather(*(one(i) for i in range(first)))
    await asyncio.gather(*(one(i) for i in range(first, n)))
    tally.stored += outcomes.pop("stored", 0)
    tally.duplicates += outcomes.pop("duplicate", 0)
    for k, v in outcomes.items():
        if k.startswith("quarantine:"):
            tally.quarantined[k.split(":", 1)[1]] += v
        else:
            tally.rejected[k] += v


async def _read_back(conn: Connection, town: Town, months: list[int], tz: str) -> dict[str, Any]:
    from datetime import date

    periods = [date(m // 12, m % 12 + 1, 1) for m in months]
    return {**await city_store.read_back(conn, periods), "timezone": tz}
