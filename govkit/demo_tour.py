"""The demo's tour of govkit's actions: keys, an anonymized export and its risk, data subject
requests and the audit log, each through the same library calls the CLI makes.

``govkit demo`` scans and evaluates the shop; these steps then do what a privacy team does
next, so that the audit report written last has something in every section: anonymization
runs and DSR statistics (done, open, overdue, median days to close) in the audit log, and
the log's integrity checked.

Re-running the demo on the same folder must work, because reuse is deliberate (see
:func:`govkit.demo.create_demo_workspace`). The export and the risk measurements are simply
made again. The data subject requests change the data (an erasure, a rectification), so they
are made once: their ids are remembered in ``.govkit/demo.json`` (ids only, never
identifiers) and a later run reports them as done earlier instead of registering more.

Subjects are demo customers chosen by a query, not at random: the lowest ids among customers
outside China with orders and none refunded (refunded orders sit under the demo policy's
legal hold LH-2024-07, which would rightly refuse an erasure).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from govkit.actions.risk import RiskReport
from govkit.policy.loader import Policy
from govkit.workspace import Workspace

__all__ = [
    "DSR_STEPS",
    "EXPORT_PATH",
    "QUASI_IDENTIFIERS",
    "AccessStep",
    "AnonymizeStep",
    "DsrStep",
    "HoldStep",
    "KeysStep",
    "LogStep",
    "RunStep",
    "anonymized_export",
    "data_subject_requests",
    "demo_subjects",
    "ensure_keys",
    "interrupted_run",
    "legal_hold",
    "retention_plan",
    "role_access",
    "verify_log",
]

#: The analyst export, relative to the workspace. Outside ``exports/`` on purpose: that folder
#: is a scanned source, and the anonymized copy should not be inventoried as the shop's data.
EXPORT_PATH = Path("analyst") / "customers.csv"
#: What an attacker may know about a customer from elsewhere.
QUASI_IDENTIFIERS = ("country", "city", "birth_date")
#: The anonymity the export is made to reach, and the risk measurements check.
K = 5
#: ... and the diversity of the loyalty tier in every class (l-diversity): knowing a customer's
#: country, city and birth date must not tell their tier.
L, SENSITIVE = 2, "loyalty_tier"
#: On top of the policy: a keyed pseudonym keeps customers countable; phone numbers are of no
#: use to an analyst and are left out (masking them would also trip the "left unchanged" check
#: on rows an erasure already masked); country and city stay for the analysts, generalized as
#: far as k-anonymity needs.
EXPORT_RULES = ("customers.email=pseudonymize", "customers.phone=drop", "customers.country=keep",
                "customers.city=keep")
#: The requests the demo makes, in order; each needs its own subject.
DSR_STEPS = ("access", "erasure", "rectification", "overdue")
STATE_FILE = "demo.json"


@dataclass(slots=True)
class KeysStep:
    """Whether the keyset was made now (``created``) or already there, and which key is primary."""

    created: bool
    primary: str
    source: str


@dataclass(slots=True)
class AnonymizeStep:
    """The analyst export written, how it was made k-anonymous, and the risk before and after."""

    path: Path
    rows: int
    suppressed: int
    generalized: dict[str, str]
    verified: bool
    source_risk: RiskReport
    export_risk: RiskReport
    #: the lattice search's report: levels, the k and l reached, the information loss
    anonymity: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DsrStep:
    """One demo request: what was done (``summary``: counts and paths, never identifiers)."""

    name: str
    request_id: str
    status: str
    summary: str
    skipped: bool = False
    paths: list[Path] = field(default_factory=list)


@dataclass(slots=True)
class RunStep:
    """The in-place run the demo interrupts and resumes: counts and ids, never values."""

    run_id: str
    table: str
    rule: str
    units_before_crash: int
    units: int
    rows: int
    verified: bool
    audit_trail: list[str]
    skipped: bool = False


@dataclass(slots=True)
class LogStep:
    """What ``govkit log verify`` found."""

    ok: bool
    records: int
    problems: list[str]
    head_seq: int | None


def ensure_keys(workspace: Workspace) -> KeysStep:
    """``govkit keys init`` unless the workspace has a keyset (or GOVKIT_KEY overrides it)."""
    from govkit.audit import AuditLog
    from govkit.keys import env_override, init_keys, keyset_exists, load_keyset

    state_dir = workspace.state_dir
    if env_override() is not None or keyset_exists(state_dir):
        keyset = load_keyset(state_dir)
        return KeysStep(False, keyset.primary.id, keyset.source)
    state_dir.mkdir(parents=True, exist_ok=True)
    keyset = init_keys(state_dir)
    AuditLog(state_dir).append("keys.init", params={"primary": keyset.primary.id})
    return KeysStep(True, keyset.primary.id, keyset.source)


def anonymized_export(workspace: Workspace, source: str = "shop", table: str = "customers") -> AnonymizeStep:
    """The analyst export of ``table``: the policy's operators plus :data:`EXPORT_RULES`, made
    k-anonymous on :data:`QUASI_IDENTIFIERS`, verified, audited as ``govkit anonymize`` audits;
    then the re-identification risk of the table itself and of the export, for comparison."""
    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
    from govkit.actions.risk import file_opener, measure, table_opener
    from govkit.audit import audit_action

    target = workspace.root / EXPORT_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    request = AnonymizeRequest(source, to=str(target), table=[table], rules=list(EXPORT_RULES), k=K,
                               quasi_identifiers=list(QUASI_IDENTIFIERS), jobs=1, l_diversity=L, sensitive=SENSITIVE)
    params = {"source": source, "to": str(EXPORT_PATH), "rules": list(EXPORT_RULES), "k": K,
              "max_suppression": request.max_suppression * 100}
    with audit_action(workspace.state_dir, "anonymize", params) as entry:
        result = anonymize(request, workspace)
        entry.params["plan"] = [f"{p.asset}.{p.field}={p.spec}" for p in result.plan.fields.values()]
        entry.params["verification"] = "passed" if result.verified else "skipped"
        entry.params["generalized"] = [f"{name}={level}" for name, level in result.generalized.items()]
        entry.params["anonymity"] = result.anonymity
        entry.counts.update(rows=result.rows, suppressed=result.suppressed, fields=len(result.plan.fields),
                            generalized=len(result.coarsened))
    quasi = list(QUASI_IDENTIFIERS)
    url = workspace.sources[source].resolved_url()
    before = measure(f"{source} {table}", table_opener(url, table), quasi, k=K, list_rows=False)
    after = measure(str(EXPORT_PATH), file_opener(target), quasi, k=K, list_rows=False)
    return AnonymizeStep(target, result.rows, result.suppressed, dict(result.generalized), result.verified,
                         before, after, next(iter(result.anonymity.values()), {}))


def demo_subjects(database: Path, count: int = len(DSR_STEPS)) -> list[tuple[int, str]]:
    """``count`` (customer id, e-mail) pairs, the same for the same database.

    Customers outside China with orders, none refunded, come first (lowest id first): their
    erasure is not blocked by a legal hold and touches several tables; others fill up when a
    small demo has too few of them; among each, accounts the retention rule will not anonymize
    later in the tour (younger than 3 years, or platinum), so what a request did stays visible.
    Addresses at example.org are the demo's own rectifications (``customerN.rectified@example.org``)
    and are never picked again.
    """
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute(
            """
            SELECT c.id, c.email,
                   (c.country = 'China')
                   OR NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)
                   OR EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'refunded')
                   AS second_choice,
                   (c.created_at < datetime('now', '-3 years') AND c.loyalty_tier != 'platinum') AS aging
            FROM customers c WHERE c.email IS NOT NULL AND c.email NOT LIKE '%@example.org'
            ORDER BY second_choice, aging, c.id LIMIT ?
            """,
            (count,),
        ).fetchall()
    finally:
        conn.close()
    return [(int(cid), str(email)) for cid, email, _, _ in rows]


def data_subject_requests(workspace: Workspace, database: Path, today: date | None = None) -> list[DsrStep]:
    """The demo's four requests (see :data:`DSR_STEPS`); those made by an earlier run are reported, not redone.

    * an access request, answered with its package under ``dsr/ID/`` (closes it);
    * an erasure request: planned, then applied, verified and certified;
    * a rectification request: the customer's e-mail corrected, planned then applied;
    * an access request received 75 days ago and only located: open and overdue, as the
      report should show loudly.
    Received dates lie a few days back, so "median days to close" means something.
    """
    from govkit.actions import dsr
    from govkit.policy.loader import active_policy

    today = today or date.today()
    policy = active_policy(workspace.root)  # once: each service call would otherwise parse the YAML again
    state = _load_state(workspace)
    done: dict[str, str] = state.setdefault("dsr", {})
    registry = dsr.Registry(workspace.state_dir)
    try:
        known = {r.id: r for r in registry.list()}
    finally:
        registry.close()
    subjects = dict(zip(DSR_STEPS, demo_subjects(database), strict=False))
    steps: list[DsrStep] = []
    for name in DSR_STEPS:
        earlier = known.get(done.get(name, ""))
        if earlier is not None:
            steps.append(DsrStep(name, earlier.id, earlier.status, "made by an earlier demo run; left as it is",
                                 skipped=True))
            continue
        if name not in subjects:
            continue  # a demo too small for four subjects
        cid, email = subjects[name]
        steps.append(_make_request(workspace, policy, name, cid, email, today))
        done[name] = steps[-1].request_id
        _save_state(workspace, state)  # after each step: a failure later does not make this one run twice
    return steps


_DONE = {"delete": "deleted", "anonymize": "anonymized", "retain": "retained (legal basis)",
         "manual": "left to erase by hand"}
_RECEIVED_DAYS_AGO = {"access": 9, "erasure": 6, "rectification": 3, "overdue": 75}


def _make_request(workspace: Workspace, policy: Policy, name: str, cid: int, email: str, today: date) -> DsrStep:
    from govkit.actions import dsr

    kind = {"overdue": "access"}.get(name, name)
    received = today - timedelta(days=_RECEIVED_DAYS_AGO[name])
    request = dsr.new_request(workspace, kind, {"email": email}, received=received, policy=policy)
    rid = request.id
    if name == "access":
        target = workspace.root / "dsr" / rid
        exported = dsr.export_request(workspace, rid, target, policy=policy)
        return DsrStep(name, rid, "done", f"package with {exported.rows} row(s) from {exported.tables} table(s), "
                       f"{len(exported.files)} file(s)", paths=[target])
    if name == "erasure":
        dsr.erase_request(workspace, rid, policy=policy)  # the plan first, as 'dsr erase' without --apply
        erased = dsr.erase_request(workspace, rid, apply=True, policy=policy)
        actions: dict[str, int] = {}
        for step in erased.plan.steps:
            done = step.rows if step.action in ("retain", "manual") else step.done or 0
            actions[step.action] = actions.get(step.action, 0) + done
        passed = bool(erased.verification and erased.verification["passed"])
        summary = (", ".join(f"{n} row(s) {_DONE[a]}" for a, n in sorted(actions.items()))
                   + f"; verification {'passed' if passed else 'FAILED'}")
        return DsrStep(name, rid, "done" if passed else "unverified", summary,
                       paths=[Path(erased.certificate["html"])] if erased.certificate else [])
    if name == "rectification":
        assignment = [f"email=customer{cid}.rectified@example.org"]
        dsr.rectify_request(workspace, rid, assignment, policy=policy)  # the plan first
        fixed = dsr.rectify_request(workspace, rid, assignment, apply=True, policy=policy)
        passed = bool(fixed.verification and fixed.verification["passed"])
        changed = sum(s.done or 0 for s in fixed.plan.steps)
        summary = (f"e-mail corrected in {changed} row(s) of {len(fixed.plan.steps)} column(s), "
                   f"{len(fixed.plan.manual)} file(s) left to correct by hand; "
                   f"verification {'passed' if passed else 'FAILED'}")
        return DsrStep(name, rid, "done" if passed else "unverified", summary)
    located = dsr.locate_request(workspace, rid, policy=policy)
    rows = sum(h.rows for h in located.data())
    return DsrStep(name, rid, "open", f"received {received}, due {request.due}: located {rows} row(s) "
                   f"in {len(located.data())} place(s), not answered yet (OVERDUE)")


#: The in-place rewrite the demo interrupts: order IP addresses replaced by keyed digests, in
#: units of a quarter of the table, so that it takes several whatever the demo's size.
RUN_TABLE, RUN_RULE, RUN_UNITS = "orders", "orders.ip_address=hash", 4


class SimulatedCrash(Exception):
    """What the demo raises inside a run to stand for a power cut (the tests use real SIGKILLs)."""


def interrupted_run(workspace: Workspace, database: Path) -> RunStep:
    """Rewrite ``orders.ip_address`` in place, stop the run after its second unit as a crash
    would, list it as interrupted, and resume it: the change engine's promise, shown.

    Made once per workspace (it changes the data); a later demo run reports it as done.
    """
    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
    from govkit.audit import AuditLog
    from govkit.change import failpoints
    from govkit.change.resume import resume
    from govkit.change.run import list_runs, unfinished

    state = _load_state(workspace)
    done = state.get("in_place_run")
    if done:
        info = next((r for r in list_runs(workspace.state_dir) if r.id == done.get("run_id")), None)
        return RunStep(done.get("run_id", ""), RUN_TABLE, RUN_RULE, int(done.get("units_before_crash", 0)),
                       info.units if info else 0, int(done.get("rows", 0)), done.get("verified") == "yes", [],
                       skipped=True)
    reached = [0]

    def crash(_: str) -> None:
        reached[0] += 1
        if reached[0] == 2:
            raise SimulatedCrash("the demo stops the run here, as a power cut would")

    with sqlite3.connect(database) as conn:
        rows = int(conn.execute(f"SELECT COUNT(*) FROM {RUN_TABLE}").fetchone()[0])
    request = AnonymizeRequest("shop", in_place=True, apply=True, table=[RUN_TABLE], rules=[RUN_RULE],
                               batch_size=max(1, -(-rows // RUN_UNITS)))
    failpoints.register("unit.journaled", crash)
    try:
        anonymize(request, workspace)
    except SimulatedCrash:
        pass
    finally:
        failpoints.clear()
    [run] = unfinished(workspace.state_dir)
    before = run.units
    result = resume(workspace, run.id)
    after = next(r for r in list_runs(workspace.state_dir) if r.id == run.id)
    trail = [f"{r.action} ({r.outcome})" for r in AuditLog(workspace.state_dir).records()
             if r.params.get("run_id") == run.id]
    state["in_place_run"] = {"run_id": run.id, "units_before_crash": str(before), "rows": str(result.rows),
                             "verified": "yes" if result.verified else "no"}
    _save_state(workspace, state)
    return RunStep(run.id, RUN_TABLE, RUN_RULE, before, after.units, result.rows, result.verified, trail)


def retention_plan(workspace: Workspace) -> Any:
    """``govkit retention plan``: per rule, the rows past their period, counted in the shop."""
    from govkit.actions.retention import plan_retention
    from govkit.audit import audit_action
    from govkit.inventory.store import Inventory
    from govkit.policy.loader import active_policy

    inventory = Inventory(workspace.inventory_path)
    try:
        with audit_action(workspace.state_dir, "retention.plan", {"source": None, "as_of": None}) as entry:
            plan = plan_retention(workspace, active_policy(workspace.root), inventory)
            entry.counts.update(plan.to_dict()["totals"])
        return plan
    finally:
        inventory.close()


@dataclass(slots=True)
class RetentionStep:
    """What ``govkit retention apply --apply`` did in the demo (per table and rule)."""

    lines: list[str]
    runs: list[str]
    verified: bool
    archive: str | None
    refusals: list[str]


def retention_apply(workspace: Workspace) -> RetentionStep:
    """``govkit retention apply --apply``: the expiring rows deleted, anonymized or archived,
    child rows first or cascaded, the legal hold respected; a rerun finds nothing left to do."""
    from govkit.actions.retention.apply import apply_plan, plan_apply
    from govkit.audit import audit_action
    from govkit.inventory.store import Inventory
    from govkit.policy.loader import active_policy

    inventory = Inventory(workspace.inventory_path)
    try:
        with audit_action(workspace.state_dir, "retention.apply-plan", {"source": None, "as_of": None}) as entry:
            plan = plan_apply(workspace, active_policy(workspace.root), inventory)
            entry.counts.update(plan.to_dict()["totals"])
    finally:
        inventory.close()
    lines = []
    for s in plan.steps:
        what = (f"{s.rows - s.held_rows - s.blocked_rows} row(s) to {s.action}" if s.status == "apply"
                else f"{s.rows} row(s) past, none to {s.action}" if s.rows else "nothing past its period")
        blockers = ", ".join(c.table for c in s.children if c.mode == "blocks" and c.rows)
        extra = [f"{s.held_rows} held" if s.held_rows else "",
                 f"{s.blocked_rows} kept: still referenced by {blockers}" if s.blocked_rows else "",
                 ", ".join(f"their {c.table} go with them" for c in s.children
                           if c.mode == "cascade" and c.rows and s.status == "apply")]
        lines.append(f"{s.asset}: rule \"{s.rule}\", {what}" + "".join(f"; {e}" for e in extra if e))
    if plan.refusals:
        return RetentionStep(lines, [], False, None, plan.refusals)
    results = apply_plan(workspace, plan)
    return RetentionStep(lines, [f"{r.run_id}: " + ", ".join(f"{s.asset} {s.done}" for s in r.steps)
                                 for r in results],
                         all(r.status == "finished" for r in results),
                         next((r.archive for r in results if r.archive), None), [])


@dataclass(slots=True)
class HoldStep:
    """What ``govkit hold add`` placed (or an earlier demo run did) and ``hold list`` shows."""

    hold_id: str
    target: str
    reason: str
    until: str | None
    in_force: list[str]
    skipped: bool


#: The demo's legal hold: pending orders under a payment provider's dispute, placed after the
#: requests so that it refuses none of them (an erasure of a held customer would be refused).
HOLD_ASSET, HOLD_WHERE = "orders", "status = 'pending'"


def legal_hold(workspace: Workspace, today: date | None = None) -> HoldStep:
    """``govkit hold add --asset orders --where ...`` once per workspace, then ``hold list``."""
    from govkit.holds import add_hold, list_holds

    today = today or date.today()
    found = next((h for h in list_holds(workspace) if h.asset == HOLD_ASSET and h.where == HOLD_WHERE), None)
    skipped = found is not None
    hold = found or add_hold(workspace, asset=HOLD_ASSET, source="shop", where=HOLD_WHERE,
                             reason="payment provider dispute PSP-2026-031: keep the pending orders",
                             until=today + timedelta(days=180))
    return HoldStep(hold.id, hold.target, hold.reason, hold.until.isoformat() if hold.until else None,
                    [h.id for h in list_holds(workspace)], skipped)


@dataclass(slots=True)
class AccessStep:
    """What one policy role may read (``govkit access show``) and what the review could assess."""

    role: str
    counts: dict[str, int]
    examples: list[str]
    review: str


def role_access(workspace: Workspace, role: str = "analyst", source: str = "shop") -> AccessStep:
    """``govkit access show analyst`` over the shop, and ``access review shop``: on SQLite, which
    has no users or privileges, the review says "not assessed" (PostgreSQL and MariaDB are
    reviewed and fixed for real: docs/access.md)."""
    from govkit.actions.access.review import review_source, store
    from govkit.actions.access.show import workspace_role_access
    from govkit.audit import audit_action
    from govkit.policy.loader import active_policy

    policy = active_policy(workspace.root)
    access = workspace_role_access(workspace, policy, role, source)
    personal = sorted((f for f in access.fields if f.personal), key=lambda f: f.asset != "customers")
    picked = [next((f for f in personal if f.read == read), None) for read in ("masked", "none", "clear")]
    examples = [f"{f.asset}.{f.field}: {f.read}" + (f" ({f.operator})" if f.operator else "")
                for f in picked if f is not None]
    with audit_action(workspace.state_dir, "access.review", {"source": source}) as entry:
        review = review_source(workspace, source, policy)
        store(workspace.state_dir, review)
        entry.params["assessed"] = review.assessed
    return AccessStep(role, access.counts(), examples, review.reason if not review.assessed else "assessed")


def verify_log(workspace: Workspace) -> LogStep:
    """``govkit log verify``: every signature and link, and the log's end against its head."""
    from govkit.audit import AuditLog

    result = AuditLog(workspace.state_dir).verify()
    return LogStep(result.ok, result.records, list(result.problems), result.head_seq)


def _load_state(workspace: Workspace) -> dict[str, dict[str, str]]:
    path = workspace.state_dir / STATE_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # unreadable: start the requests again rather than fail the demo
    return data if isinstance(data, dict) else {}


def _save_state(workspace: Workspace, state: dict[str, dict[str, str]]) -> None:
    path = workspace.state_dir / STATE_FILE
    path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
