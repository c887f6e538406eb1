"""``govkit demo``."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from govkit.cli.commands.evaluate import render as render_violations
from govkit.cli.commands.scan import render_summary
from govkit.cli.options import to_table

if TYPE_CHECKING:
    from govkit.demo import DemoResult


@click.command("demo")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path),
                default=Path("govkit-demo"))
@click.option("--fresh", is_flag=True,
              help="Delete FOLDER first and start over (new database, keys, requests and audit log).")
@click.option("--customers", type=click.IntRange(min=10, max=100_000), default=400, show_default=True,
              help="How many fictional customers to generate.")
@click.option("--scan-only", is_flag=True,
              help="Only build, scan, evaluate and report: no keys, export, requests or log check.")
def demo_command(folder: Path, fresh: bool, customers: int, scan_only: bool) -> None:
    """Build a demo workspace in FOLDER (default ./govkit-demo), scan it, act on it, write the report.

    The demo is a fictional online shop: a SQLite database (customers from several
    countries, Chinese customers included, orders, payments, products, an event log) and a
    folder of exports (a GB18030 CRM export with Chinese headers, a JSONL event log, an
    application log), with traps that look like personal data and are not (order and
    tracking numbers, UUIDs, hashes, versions, prices). The demo policy (policies/shop.yaml,
    extending the GDPR and PIPL packs) is evaluated against what the scan found.

    \b
    Then it does what a privacy team does next, through the same library calls as the
    commands named here:
      keys        makes the workspace keyset if there is none ('keys init')
      anonymize   writes analyst/customers.csv: the customers pseudonymized and masked
                  per the policy, 5-anonymous on country, city, birth date and
                  2-diverse in loyalty tier by the least generalization (k, l and the
                  information loss printed), verified; 'risk' measures the table and the
                  export for comparison
      dsr         an access request answered with its package in dsr/ID/; an erasure
                  planned, applied and certified; an e-mail rectified; and an access
                  request received 75 days ago, still open and overdue
      runs        rewrites orders.ip_address in place, stops the run halfway as a crash
                  would, and resumes it ('runs resume'): nothing applied twice
      retention   plans the retention rules: rows past their period per rule, counted
      hold        places a legal hold on the pending orders ('hold add') and lists it
      retention   then enforces the rules ('retention apply --apply'): old orders deleted
                  with their lines unless a payment still needs them, old customers
                  anonymized, old payments archived; held rows untouched
      access      what the analyst role may read ('access show analyst'); the grant
                  review says "not assessed" on SQLite, which has no users
      log verify  checks the audit log's signatures and links
    The audit report comes last, in FOLDER/reports/audit.html, with the DSR statistics,
    the anonymization run and the log's integrity.

    Running it again reuses the workspace: a second scan, so the report shows what changed
    (the erasure and rectification among it); the export is written again; the requests
    are made only once per workspace (--fresh starts over). Everything is synthetic and
    nothing leaves the machine.
    """
    from govkit.demo import create_demo_workspace

    if fresh and folder.exists():
        shutil.rmtree(folder)
    result = create_demo_workspace(folder, customers=customers, tour=not scan_only,
                                   progress=lambda step: click.echo(f"demo: {step}...", err=True))
    click.echo(f"demo workspace: {result.root}")
    click.echo(to_table(["table", "rows"], sorted(result.row_counts.items()), title="Demo shop database (shop.db)"))
    click.echo(render_summary(result.report))
    click.echo(render_violations(result.evaluation))
    click.echo(render_tour(result))
    click.echo(f"audit report: {result.report_path}")
    govkit, note = govkit_command(folder)
    click.echo(f"next: cd {folder}, then try{note}\n" + "".join(f"  {govkit} {hint}\n" for hint in _hints(result)))


def govkit_command(folder: Path) -> tuple[str, str]:
    """How to run govkit from ``folder`` in the user's shell, and a note to print with it.

    ``govkit`` when it is on PATH. Otherwise (``make demo`` installs into .venv, which the
    user has not activated) the path of this very govkit, relative to ``folder`` when that
    is shorter, so the hints work when pasted; the note says how to make plain ``govkit`` work.
    """
    if shutil.which("govkit") is not None:
        return "govkit", ""
    script = Path(sys.executable).parent / "govkit"
    if not script.is_file():
        return f"{sys.executable} -m govkit", ""
    relative = os.path.relpath(script.resolve(), folder.resolve())
    shown = relative if len(relative) < len(str(script)) else str(script)
    return shown, f" (or 'source {script.parent / 'activate'}' first, then plain 'govkit')"


def render_tour(result: DemoResult) -> str:
    """A short section per step the demo took after the scan; values never, counts and paths only."""
    from govkit.demo_tour import QUASI_IDENTIFIERS

    out: list[str] = []
    if result.keys is not None:
        keys = result.keys
        out += ["== Keys",
                f"{'created' if keys.created else 'using'} {keys.source}, primary key {keys.primary}"
                + ("; back it up, and keep it out of version control" if keys.created else ""), ""]
    if result.export is not None:
        ex = result.export
        levels = ", ".join(f"{name.rsplit('.', 1)[-1]}={level}" for name, level in ex.generalized.items())
        out += ["== Anonymized analyst export",
                f"wrote {ex.rows} row(s) to {_relative(ex.path, result.root)}: keyed pseudonyms, fakes and "
                f"generalizations per the policy; {'verified' if ex.verified else 'NOT verified'}",
                f"k-anonymity: generalized {levels}; suppressed {ex.suppressed} row(s)"]
        if ex.anonymity:  # the lattice search's choice: the least information loss that meets k and l
            loss, reached = ex.anonymity["loss"], ex.anonymity
            out.append(f"reached k = {reached['achieved_k']}, l = {reached['achieved_l']} (loyalty tier); "
                       f"information loss {loss['non_uniform_entropy']:.3f} (non-uniform entropy, 1 = every "
                       f"quasi-identifier at *), generalization intensity {loss['generalization_intensity']:.3f}; "
                       f"{reached['nodes_checked']} of {reached['lattice_size']} level combinations checked")
        quasi = ", ".join(QUASI_IDENTIFIERS)
        for label, risk in (("shop customers table", ex.source_risk), ("the export", ex.export_risk)):
            out.append(f"risk of {label} on {quasi}: k = {risk.k} "
                       f"({'k-anonymous' if risk.k_anonymous else 'NOT k-anonymous'} for k={risk.threshold}), "
                       f"{risk.records_at_risk} of {risk.rows} record(s) at risk")
        out.append("")
    if result.requests:
        rows = [(s.request_id, s.name, s.status, s.summary)
                for s in result.requests]
        out.append(to_table(["request", "step", "status", "what was done"], rows,
                            title="Data subject requests").rstrip("\n"))
        out += [f"  {s.name}: {_relative(p, result.root)}" for s in result.requests for p in s.paths]
        if any(s.skipped for s in result.requests):
            out.append("requests made by an earlier run were left as they are (--fresh starts over)")
        out.append("")
    if result.run is not None:
        run = result.run
        out.append("== A change run, interrupted and resumed")
        if run.skipped:
            out.append(f"done by an earlier demo run: {run.run_id} ({run.units} unit(s), {run.rows} row(s)); "
                       "'govkit runs --all' lists it")
        else:
            out += [f"anonymize --in-place --apply {run.table} ({run.rule}), in units of a quarter of the table: "
                    f"stopped after unit {run.units_before_crash} as a crash would; 'govkit runs' listed it "
                    "as interrupted",
                    f"'govkit runs resume {run.run_id}': {run.units} unit(s) in all, {run.rows} row(s), no unit "
                    f"applied twice; {'verified' if run.verified else 'NOT verified'}",
                    "audit trail: " + ", ".join(run.audit_trail)]
        out.append("")
    if result.retention is not None:
        plan = result.retention
        out.append("== Retention plan ('govkit retention plan': counted in the sources, nothing changed)")
        for step in plan.steps:
            children = ", ".join(f"{c.asset} {c.rows}" for c in step.children if c.rows)
            past = "not counted" if step.past_rows is None else f"{step.past_rows} row(s) past {step.cutoff[:10]}"
            out.append(f"  {step.asset}: rule \"{step.rule}\" ({step.action}), {past}"
                       + (f"; {step.kept_rows} kept by exceptions" if step.kept_rows else "")
                       + (f"; referenced by {children}" if children else ""))
        if plan.unruled:
            out.append(f"  no retention rule (not assessed): {', '.join(u.asset for u in plan.unruled)}")
        out.append("")
    if result.hold is not None:
        hold = result.hold
        out.append("== Legal hold ('govkit hold add', 'govkit hold list')")
        placed = "placed by an earlier demo run" if hold.skipped else "placed"
        out.append(f"{hold.hold_id} {placed}: {hold.target}" + (f" until {hold.until}" if hold.until else "")
                   + f": {hold.reason}")
        out.append(f"in force: {', '.join(hold.in_force)}; an erasure reaching held rows is refused, naming the hold")
        out.append("")
    if result.enforced is not None:
        enforced = result.enforced
        out.append("== Retention enforced ('govkit retention apply --apply': through the change engine)")
        out += [f"  {line}" for line in enforced.lines]
        out += [f"  refused: {r}" for r in enforced.refusals]
        out += [f"  {r}" for r in enforced.runs]
        if enforced.runs:
            out.append(f"  verification {'passed' if enforced.verified else 'FAILED'}"
                       + (f"; archive {enforced.archive} ('govkit archive restore' brings it back)"
                          if enforced.archive else ""))
        out.append("")
    if result.access is not None:
        access = result.access
        counts = access.counts
        out.append(f"== Access ('govkit access show {access.role}', 'govkit access review shop')")
        out.append(f"{access.role} reads {counts['personal']} personal field(s): {counts['clear']} clear, "
                   f"{counts['masked']} masked, {counts['none']} denied; e.g. {'; '.join(access.examples)}")
        out.append(f"grant review: {'not assessed: ' + access.review if access.review != 'assessed' else 'assessed'}")
        out.append("")
    if result.log is not None:
        log = result.log
        out += ["== Audit log",
                f"audit log {'intact' if log.ok else 'NOT intact'}: {log.records} record(s)"
                + (f", head seq {log.head_seq}" if log.head_seq is not None else "")]
        out += [f"  {problem}" for problem in log.problems]
        out.append("")
    return "\n".join(out)


def _hints(result: DemoResult) -> list[str]:
    hints = ["explain customers.notes     why a field was classified as it was",
             "evaluate                    the policy violations again"]
    if result.requests:
        hints += ["dsr list                    the requests, overdue first",
                  f"dsr show {result.requests[0].request_id}  a request's timeline"]
    if result.export is not None:
        hints.append(f"risk {_relative(result.export.path, result.root)} --quasi-identifiers country,city,birth_date "
                     "--k 5")
    if result.run is not None:
        hints.append("runs --all                  the runs that changed data (begun, units, finished)")
    if result.retention is not None:
        hints.append("retention plan              rows past retention per rule, counted")
    if result.enforced is not None:
        hints.append("archive list                what retention archived (restore brings it back)")
    if result.hold is not None:
        hints.append("hold list --all             the legal holds, released ones too")
    if result.access is not None:
        hints.append(f"access show {result.access.role}         what a role may read, and the rule deciding it")
    if result.log is not None:
        hints += ["log verify                  check the audit log", "log show                    what was done"]
    return hints


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def register(group: click.Group) -> None:
    group.add_command(demo_command)
