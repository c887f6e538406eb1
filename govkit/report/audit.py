"""The audit report: what personal data the organisation holds, how the policy rates it, and what is wrong.

A compliance officer reads the first screen and stops, so the view model puts there what
they need: personal fields by sensitivity (the policy's classification, not the
detector's guess), the top risks (restricted data with no anonymization rule, rows past
retention, personal data where the policy forbids it) and what changed since the last scan.
Below come the evidence: the inventory, every violation, retention per asset, and the
integrity of the audit log.

Sections without data say so instead of showing zeros that would read as "all clear": the
access review before any ``govkit access review`` ran (then the last stored review of each
source, :mod:`govkit.actions.access.report`), data subject requests before any was recorded.

:func:`build_audit_view` is pure (inventory rows, a policy, an evaluation and a log check
in, a view out) so tests can feed it anything; :func:`audit_view` gathers those from a
workspace: its policy (or the shipped baseline), rows past retention counted in the
sources, and :meth:`AuditLog.verify`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from govkit import __version__
from govkit.audit import AuditLog
from govkit.detect.entities import Severity
from govkit.errors import GovkitError
from govkit.inventory.store import AssetRecord, Change, Inventory
from govkit.policy.evaluate import DatabaseCounter, Evaluation, evaluate
from govkit.policy.loader import Policy, active_policy, load_pack, policy_files
from govkit.policy.resolve import Resolver, Where
from govkit.policy.schema import Sensitivity
from govkit.report.classified import SENSITIVITY_ORDER, UNCLASSIFIED, ClassifiedField, classify_fields
from govkit.report.templates import environment
from govkit.workspace import Workspace, load_workspace

#: Report formats of ``govkit report audit``; html and md are templates, json is the view itself.
AUDIT_FORMATS = ("html", "md", "json")

#: Violation kinds that make the "top risks" list: the ones a regulator would ask about first.
RISK_KINDS = ("forbidden-personal-data", "no-anonymization-rule", "past-retention")

_RISK_TITLES = {
    "forbidden-personal-data": "Personal data where the policy forbids it",
    "no-anonymization-rule": "Restricted data without an anonymization rule",
    "past-retention": "Rows kept past their retention period",
}


#: Retention statuses for which rows past retention were counted (or the whole asset is held).
ASSESSED = frozenset({"ok", "past", "legal-hold"})
#: Special categories (GDPR art. 9) govkit has a detector for: NRP (nationality, religious or
#: political group, from free text). The others are counted only where the policy classifies a
#: field so; a report must say they were not assessed rather than show a reassuring 0.
SPECIAL_NOT_DETECTED = ("health", "sex life or sexual orientation", "genetic or biometric data",
                        "trade union membership", "racial or ethnic origin")


@dataclass(slots=True)
class RetentionView:
    """Retention of one asset holding personal data: its rule, and whether rows are overdue.

    ``status`` is one of ``ok``, ``past`` (``past_rows`` rows overdue), ``no-rule``,
    ``bad-rule`` (the rule names a column the asset lacks), ``legal-hold`` (the whole asset is
    held), ``not-counted`` (the source could not be asked; ``detail`` says why) or
    ``not-checked`` (no source to ask, e.g. a report built without a workspace).
    """

    source: str
    asset: str
    rule: str | None
    period: str | None
    action: str | None
    timestamp: str | None
    rule_ref: str | None
    status: str
    past_rows: int | None = None
    detail: str = ""
    #: the last ``retention apply`` run that enforced the rule (id, at, status, rows), or None
    last_run: dict[str, Any] | None = None
    #: legal holds in force on the asset (ids; ``govkit hold``), besides the policy's own
    holds: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AssetView:
    source: str
    name: str
    kind: str
    rows: int | None
    fields: int
    personal: list[ClassifiedField]
    retention: RetentionView | None = None

    @property
    def top_sensitivity(self) -> str:
        """The most sensitive class among the asset's personal fields ("" when it has none)."""
        return min((f.sensitivity for f in self.personal), key=SENSITIVITY_ORDER.index, default="")


@dataclass(slots=True)
class Risk:
    """One line of the executive summary's "top risks": what, where, how bad, what to do."""

    kind: str
    title: str
    severity: str
    where: str
    message: str
    fix: str
    rule: str | None = None
    count: int | None = None


@dataclass(slots=True)
class PolicyView:
    files: list[str]
    baseline: bool
    violations: list[dict[str, Any]]
    by_severity: dict[str, int]
    by_kind: dict[str, int]
    errors: list[str]
    classified_fields: int
    unclassified_fields: int


@dataclass(slots=True)
class IntegrityView:
    """The audit log's check. ``ok`` is None when the log could not be checked at all."""

    ok: bool | None
    records: int
    problems: list[str]
    notes: list[str]
    head_seq: int | None = None
    head_hash: str | None = None
    first_record: str | None = None
    last_record: str | None = None
    actions: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass(slots=True)
class PendingView:
    """A section whose capability is not built yet: the report says so rather than show zeros."""

    status: str
    message: str
    policy: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DsrView:
    """Data subject requests from the workspace's registry: counts and ids, never subjects."""

    status: str
    message: str
    policy: dict[str, Any]
    counts: dict[str, int]
    median_days_to_close: float | None
    by_type: dict[str, int]
    open_requests: list[dict[str, Any]]


def dsr_view(state_dir: Path, policy: Policy, today: date | None = None) -> DsrView | None:
    """Statistics of the DSR registry (``.govkit/dsr.db``), or None when there is none.

    Days to close run from the day a request was received to the step that answered it, for
    requests done or refused (cancelled ones were never answered); open requests are listed
    overdue first, by id only, with the days overdue.
    """
    from statistics import median

    from govkit.actions.dsr.registry import CLOSED, DB_FILE, Registry

    if not (state_dir / DB_FILE).exists():
        return None
    registry = Registry(state_dir)
    try:
        # list() leaves timelines out; answered requests need theirs for the time to close.
        requests = [registry.get(r.id) if r.status in ANSWERED else r for r in registry.list()]
    finally:
        registry.close()
    today = today or date.today()
    closed = [r for r in requests if r.status in CLOSED]
    open_ = [r for r in requests if r.status not in CLOSED]
    durations = [(_closed_on(r) - r.received).days for r in closed if r.status in ANSWERED and r.events]
    open_.sort(key=lambda r: (not r.overdue(today), r.due))
    counts = {
        "total": len(requests), "open": len(open_), "overdue": sum(1 for r in open_ if r.overdue(today)),
        "done": sum(1 for r in closed if r.status == "done"),
        "refused": sum(1 for r in closed if r.status == "refused"),
        "cancelled": sum(1 for r in closed if r.status == "cancelled"),
    }
    return DsrView(
        status="recorded",
        message=f"{counts['total']} requests recorded: {counts['open']} open ({counts['overdue']} overdue), "
        f"{counts['done']} done, {counts['refused']} refused, {counts['cancelled']} cancelled.",
        policy={"deadlines": {name: period.human() for name, period in policy.doc.dsr.deadlines.items()}},
        counts=counts,
        median_days_to_close=float(median(durations)) if durations else None,
        by_type=dict(Counter(r.type for r in requests).most_common()),
        open_requests=[
            {"id": r.id, "type": r.type, "regime": r.regime, "received": r.received.isoformat(),
             "due": r.due.isoformat(), "status": r.status, "overdue": r.overdue(today),
             "days_overdue": r.days_overdue(today)}
            for r in open_
        ],
    )


#: Statuses of requests that were answered (a refusal with its reasons is an answer, GDPR
#: art. 12(4)); their time to close counts in the median. Cancelled requests were not answered.
ANSWERED = ("done", "refused")


def _closed_on(request: Any) -> date:
    """The day the request was answered: its newest closing step (``closed``, ``refused``,
    ``erased``, ``rectified``, ``exported``), else its newest step."""
    steps = [e for e in request.events if e.step in ("closed", "refused", "erased", "rectified", "exported",
                                                      "erasure-refused")]
    newest: datetime = max(e.at for e in (steps or request.events))
    return newest.date()


def overdue_request_risks(dsr: PendingView | DsrView) -> list[Risk]:
    """Each overdue data subject request is a HIGH risk: the statutory deadline has passed."""
    if not isinstance(dsr, DsrView):
        return []
    return [
        Risk("overdue-dsr", "Overdue data subject request", "HIGH", r["id"],
             f"{r['type']} request under {r['regime'].upper()}, due {r['due']}, {r['days_overdue']} day(s) overdue",
             f"answer it, or extend it with notice (govkit dsr extend {r['id']} --by ... --notified DATE "
             "--reason ..., if the regime allows and the notice went out in time); a request that cannot be "
             f"answered: govkit dsr refuse {r['id']} --reason ...", None, r["days_overdue"])
        for r in dsr.open_requests if r["overdue"]
    ]


@dataclass(slots=True)
class AuditView:
    generated_at: str
    govkit_version: str
    workspace: str
    sources: list[dict[str, Any]]
    totals: dict[str, int]
    by_sensitivity: dict[str, int]
    by_category: dict[str, int]
    by_entity: dict[str, int]
    special_fields: int
    risks: list[Risk]
    assets: list[AssetView]
    changes: list[Change]
    skipped: list[dict[str, Any]]
    policy: PolicyView
    retention: list[RetentionView]
    integrity: IntegrityView
    access_review: Any  # PendingView, or govkit.actions.access.report.AccessReviewView once a review ran
    dsr: PendingView | DsrView
    history: list[dict[str, Any]] = field(default_factory=list)
    #: what govkit's own actions changed since the previous scan (erasures, rectifications,
    #: in-place runs), from the audit log: a scan alone cannot see rows that changed
    govkit_changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def retention_assessed(self) -> int:
        """Assets holding personal data whose rows past retention were actually counted."""
        return sum(1 for r in self.retention if r.status in ASSESSED)

    @property
    def retention_not_assessed(self) -> list[RetentionView]:
        """Assets holding personal data whose retention was not assessed (no rule, not counted)."""
        return [r for r in self.retention if r.status not in ASSESSED]

    @property
    def changes_by_kind(self) -> dict[str, int]:
        counts = Counter(c.kind for c in self.changes)
        return {kind: counts.get(kind, 0) for kind in ("new", "changed", "gone")}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the whole view, plus the derived values the templates show."""
        data = asdict(self)
        for asset, view in zip(data["assets"], self.assets, strict=True):
            asset["top_sensitivity"] = view.top_sensitivity
        data["changes_by_kind"] = self.changes_by_kind
        data["retention_assessed"] = self.retention_assessed
        data["retention_not_assessed"] = [f"{r.source} {r.asset}" for r in self.retention_not_assessed]
        if not self.retention_assessed:  # nothing counted: no reassuring 0
            data["totals"]["rows_past_retention"] = None
        return data


# -- building the view -------------------------------------------------------------------------


def build_audit_view(
    inventory: Inventory,
    policy: Policy,
    evaluation: Evaluation,
    integrity: IntegrityView,
    *,
    workspace_root: Path | None = None,
    baseline: bool = False,
    counted: bool = True,
) -> AuditView:
    """The audit view from its inputs; no source is queried and no file is read but the inventory.

    ``baseline`` says the policy is the shipped baseline (the workspace has none of its own);
    ``counted`` says whether ``evaluation`` counted rows past retention in the sources.
    """
    rows, assets = inventory.rows(), inventory.assets()
    fields = classify_fields(rows, assets, policy)
    by_asset: dict[tuple[str, str], list[ClassifiedField]] = {}
    for f in fields:
        by_asset.setdefault((f.source, f.asset), []).append(f)
    retention = _retention(policy, evaluation, assets, by_asset, counted)
    retention_by_asset = {(r.source, r.asset): r for r in retention}
    asset_views = [
        AssetView(a.source, a.name, a.kind, a.row_estimate, len(a.fields), by_asset.get((a.source, a.name), []),
                  retention_by_asset.get((a.source, a.name)))
        for a in assets
    ]
    asset_views.sort(key=lambda v: (SENSITIVITY_ORDER.index(v.top_sensitivity) if v.personal else 9,
                                    v.source, v.name.lower()))
    sensitivity = Counter(f.sensitivity for f in fields)
    category = Counter(f.category for f in fields)
    entities = Counter(e for f in fields for e in f.entity_types)
    latest = inventory.latest_scans()
    scan_times = inventory.scan_times()
    sources = [
        {"display": s.display, "name": s.name or "", "kind": s.kind, "dialect": s.dialect or "",
         "last_scan": latest.get(s.id, ""), "last_scan_at": scan_times.get(latest.get(s.id, ""), "")}
        for s in inventory.sources()
    ]
    violations = [{**v.to_dict(), "rule": _relative(v.rule, workspace_root)} for v in evaluation.violations]
    for f in fields:
        f.rule = _relative(f.rule, workspace_root)
    for r in retention:
        r.rule_ref = _relative(r.rule_ref, workspace_root)
    return AuditView(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        govkit_version=__version__,
        workspace=str(workspace_root or ""),
        sources=sources,
        totals={
            "sources": len(sources),
            "assets": len(assets),
            "assets_with_personal_data": sum(1 for v in asset_views if v.personal),
            "fields": sum(v.fields for v in asset_views),
            "personal_fields": len(fields),
            "violations": len(violations),
            "rows_past_retention": sum(r.past_rows or 0 for r in retention),
        },
        by_sensitivity={s: sensitivity.get(s, 0) for s in SENSITIVITY_ORDER},
        by_category=dict(sorted(category.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_entity=dict(sorted(entities.items(), key=lambda kv: (-kv[1], kv[0]))),
        special_fields=sum(1 for f in fields if f.special),
        risks=_risks(evaluation, root=workspace_root),
        assets=asset_views,
        changes=inventory.diff().changes,
        skipped=inventory.latest_skipped(),
        policy=PolicyView(
            files=[str(_relative(f, workspace_root)) for f in policy.files], baseline=baseline, violations=violations,
            by_severity={s.name: sum(1 for v in evaluation.violations if v.severity is s)
                         for s in sorted(Severity, reverse=True)},
            by_kind=dict(Counter(v.kind for v in evaluation.violations).most_common()),
            errors=list(evaluation.errors),
            classified_fields=sum(1 for f in fields if f.sensitivity != UNCLASSIFIED),
            unclassified_fields=sensitivity.get(UNCLASSIFIED, 0),
        ),
        retention=retention,
        integrity=integrity,
        access_review=PendingView(
            "not-run",
            "Access review not run yet: not assessed. Run 'govkit access review SOURCE' to read who can "
            "read what in a database; the roles below are what the policy declares, not what was checked.",
            {"roles": sorted(policy.doc.access.roles)},
        ),
        dsr=PendingView(
            "none",
            "No data-subject requests recorded yet: this workspace has no DSR registry, so there are "
            "no open, overdue or closed requests to count.",
            {"deadlines": {name: period.human() for name, period in policy.doc.dsr.deadlines.items()}},
        ),
        history=_label_history(inventory.findings_history()),
    )


def _relative(ref: str | None, root: Path | None) -> str | None:
    """``policies/shop.yaml:12`` rather than an absolute path: shorter, and the same on every machine."""
    if ref is None or root is None:
        return ref
    prefix = str(root).rstrip("/") + "/"
    return ref[len(prefix):] if ref.startswith(prefix) else ref


def _risks(evaluation: Evaluation, limit: int = 10, root: Path | None = None) -> list[Risk]:
    """The violations a compliance officer must act on first, most severe and largest first."""
    chosen = [v for v in evaluation.violations if v.kind in RISK_KINDS]
    chosen.sort(key=lambda v: (-v.severity, RISK_KINDS.index(v.kind), -(v.count or 0), v.asset, v.field or ""))
    return [
        Risk(v.kind, _RISK_TITLES[v.kind], v.severity.name, f"{v.asset}.{v.field}" if v.field else v.asset,
             v.message, v.fix, _relative(v.rule, root), v.count)
        for v in chosen[:limit]
    ]


def _retention(
    policy: Policy, evaluation: Evaluation, assets: list[AssetRecord],
    by_asset: dict[tuple[str, str], list[ClassifiedField]], counted: bool,
) -> list[RetentionView]:
    """Retention per asset holding personal data, from the rule the resolver picks and what evaluate found."""
    resolver = Resolver(policy)
    names = {(a.source, a.name): a.source_name for a in assets}
    found: dict[tuple[str, str, str], Any] = {}
    for v in evaluation.violations:
        if v.field is None and v.kind in ("past-retention", "bad-retention-rule", "no-retention-rule"):
            found[(v.source, v.asset, v.kind)] = v
    out: list[RetentionView] = []
    for (source, asset), fields in sorted(by_asset.items(), key=lambda kv: (kv[0][0], kv[0][1].lower())):
        where = Where(source, names.get((source, asset)), asset)
        chosen = resolver.retention(where, {f.category for f in fields if f.sensitivity != UNCLASSIFIED})
        if chosen is None:
            required = (source, asset, "no-retention-rule") in found
            detail = ("no retention rule selects this asset" if required else
                      "no retention rule; the personal data found here is forbidden by the policy (see violations)")
            out.append(RetentionView(source, asset, None, None, None, None, None, "no-rule", detail=detail))
            continue
        rule = chosen.rule
        view = RetentionView(source, asset, rule.label, rule.period.human(), rule.action, rule.timestamp,
                             chosen.origin.short if chosen.origin is not None else None, "ok")
        past = found.get((source, asset, "past-retention"))
        bad = found.get((source, asset, "bad-retention-rule"))
        errors = [e for e in evaluation.errors if e.startswith(f"{asset}: rows past retention")]
        if bad is not None:
            view.status, view.detail = "bad-rule", bad.message
        elif past is not None:
            view.status, view.past_rows, view.detail = "past", past.count, past.message
        elif errors:
            view.status, view.detail = "not-counted", errors[0]
        elif any(e.legal_hold is not None and e.where is None for e in rule.exceptions):
            view.status, view.detail = "legal-hold", "the whole asset is under a legal hold"
        elif not counted:
            view.status, view.detail = "not-checked", "rows past retention were not counted"
        out.append(view)
    return out


# -- gathering the inputs from a workspace -------------------------------------------------------


def check_integrity(state_dir: Path) -> IntegrityView:
    """:meth:`AuditLog.verify`, plus what the records say; an unreadable log is a finding, not a crash."""
    log = AuditLog(state_dir)
    try:
        result = log.verify()
    except GovkitError as exc:
        return IntegrityView(None, 0, [], [], error=f"the audit log could not be checked: {exc}")
    view = IntegrityView(result.ok, result.records, list(result.problems), list(result.notes),
                         result.head_seq, result.head_hash)
    try:
        records = log.records()
    except GovkitError as exc:
        view.error = f"the records could not all be read: {exc}"
        return view
    if records:
        view.first_record, view.last_record = records[0].time, records[-1].time
        view.actions = dict(Counter(r.action for r in records).most_common())
    return view


def audit_view(workspace: Workspace, policy: Policy | None = None, *, now: datetime | None = None) -> AuditView:
    """The audit view of a workspace: its policy (or the shipped baseline), rows past retention
    counted in its sources exactly as ``govkit evaluate`` counts them, and its audit log checked."""
    baseline = policy is None and not policy_files(workspace.root)
    policy = policy or active_policy(workspace.root)
    inventory = Inventory(workspace.inventory_path)
    try:
        with DatabaseCounter(workspace) as counter:
            evaluation = evaluate(inventory.rows(), inventory.assets(), policy, count_expired=counter, now=now)
        view = build_audit_view(inventory, policy, evaluation, check_integrity(workspace.state_dir),
                                workspace_root=workspace.root, baseline=baseline)
        view.dsr = dsr_view(workspace.state_dir, policy, now.date() if now else None) or view.dsr
        view.risks = unfinished_run_risks(workspace.state_dir) + overdue_request_risks(view.dsr) + view.risks
        view.govkit_changes = govkit_changes(workspace.state_dir)
        from govkit.actions.access.report import access_review_view

        view.access_review = access_review_view(workspace.state_dir, sorted(policy.doc.access.roles)) \
            or view.access_review
        enforcement_of(workspace, view.retention)
        return view
    finally:
        inventory.close()


def enforcement_of(workspace: Workspace, retention: list[RetentionView]) -> None:
    """Per asset: the last run that enforced its rule, and the legal holds on it."""
    from govkit.actions.retention.state import last_runs
    from govkit.holds import list_holds

    runs = last_runs(workspace.state_dir)
    holds = list_holds(workspace)
    for view in retention:
        if view.rule is not None:
            view.last_run = runs.get(view.rule)
        view.holds = [h.id for h in holds if h.kind == "asset" and h.asset is not None
                      and h.asset.lower() in (view.asset.lower(), view.asset.rsplit(".", 1)[-1].lower())]
        subject_holds = sum(1 for h in holds if h.kind == "subject")
        if subject_holds and view.rule is not None:
            view.holds.append(f"{subject_holds} subject hold(s)")


def govkit_changes(state_dir: Path) -> list[dict[str, Any]]:
    """The finished runs that changed data since the previous scan, from the audit log (by
    sequence, not by minute): what a compliance officer must see next to the scan's diff."""
    from govkit.audit.log import AuditLog

    try:
        records = AuditLog(state_dir).records()
    except Exception:  # an unreadable log is reported by the integrity section
        return []
    scans = [r.seq for r in records if r.action == "scan"]
    since = scans[-2] if len(scans) >= 2 else 0
    out: list[dict[str, Any]] = []
    for r in records:
        if r.seq <= since or r.params.get("finished") is not True:
            continue
        counts = {k: v for k, v in r.counts.items() if v}
        if r.action == "dsr.erase":
            what = (f"erasure for {r.params.get('request_id')}: {counts.get('deleted_rows', 0)} row(s) deleted, "
                    f"{counts.get('anonymized_rows', 0)} anonymized, {counts.get('files_changed', 0)} file(s) "
                    f"rewritten; verification {r.params.get('verification', r.outcome)}")
        elif r.action == "dsr.rectify":
            what = (f"rectification for {r.params.get('request_id')}: {counts.get('rows_changed', 0)} row(s) "
                    f"corrected; verification {r.params.get('verification', r.outcome)}")
        else:
            what = (f"{r.action} in place of {', '.join(r.params.get('tables') or []) or r.params.get('source', '')}"
                    f": {counts.get('rows', 0)} row(s); verification {r.params.get('verification', r.outcome)}")
        out.append({"seq": r.seq, "time": r.time, "action": r.action, "run_id": r.params.get("run_id"),
                    "what": what})
    return out


def unfinished_run_risks(state_dir: Path) -> list[Risk]:
    """Runs that changed data and did not finish come first among the top risks: the data they
    touched is partly changed and unverified, and their targets are locked to new runs."""
    from govkit.change.run import unfinished

    return [
        Risk("unfinished-run", "Unfinished change run", "HIGH", run.target,
             f"run {run.id} ({run.kind}), started {run.started_at}, is {run.status} after {run.units} committed "
             "unit(s): the data is partly changed and not verified, and no certificate or finished record exists",
             f"govkit runs resume {run.id} (completes it; nothing is applied twice), or govkit runs abandon "
             f"{run.id} --reason ... after checking or restoring the data", None, run.units)
        for run in unfinished(state_dir)
    ]


def render_audit_view(view: AuditView, fmt: str = "html", workspace_root: Path | None = None) -> str:
    """Render a view: ``json`` directly, ``html`` and ``md`` through (overridable) templates."""
    if fmt not in AUDIT_FORMATS:
        raise ValueError(f"audit report format must be one of {', '.join(AUDIT_FORMATS)}, not {fmt!r}")
    if fmt == "json":
        return json.dumps(view.to_dict(), indent=2, ensure_ascii=False, default=str)
    template = environment(workspace_root).get_template(f"audit.{fmt}.j2")
    return template.render(view=view, Sensitivity=Sensitivity)


def render_audit(inventory: Inventory, fmt: str = "html", workspace_root: Path | None = None) -> str:
    """The audit report as text. With a workspace, everything; without one, the inventory judged
    against the shipped baseline policy, with no rows counted and no audit log to check."""
    if workspace_root is not None:
        return render_audit_view(audit_view(load_workspace(workspace_root, search=False)), fmt, workspace_root)
    policy = load_pack("baseline")
    evaluation = evaluate(inventory.rows(), inventory.assets(), policy)
    integrity = IntegrityView(None, 0, [], [], error="no workspace: the audit log was not checked")
    view = build_audit_view(inventory, policy, evaluation, integrity, baseline=True, counted=False)
    return render_audit_view(view, fmt)


def _label_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scans chart's bars: each labelled with its date and time to the minute, and, when
    two scans started in the same minute, with the scan's short id too (``label_id``), so
    that two bars never read alike."""
    minutes = Counter(h["started_at"] for h in history)
    return [{**h, "label_id": h["scan_id"][:8] if minutes[h["started_at"]] > 1 else ""} for h in history]
