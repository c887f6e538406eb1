"""Data subject requests (GDPR art. 15, 17, 20; CCPA; PIPL): register, locate, hand over, erase.

* :mod:`~govkit.actions.dsr.registry`: requests, due dates, timelines (``.govkit/dsr.db``,
  identifiers encrypted at rest);
* :mod:`~govkit.actions.dsr.locate`: where a subject's rows are, across databases;
* :mod:`~govkit.actions.dsr.export`: access/portability packages (HTML, JSON, CSV, manifest,
  optional passphrase encryption);
* :mod:`~govkit.actions.dsr.erase`: erasure plan, one transaction per database, certificate;
* :mod:`~govkit.actions.dsr.rewrite`: erasure in file sources (records deleted, spans replaced, atomically);
* :mod:`~govkit.actions.dsr.rectify`: rectification plan, validation, one transaction per database;
* :mod:`~govkit.actions.dsr.service`: the audited entry points the CLI calls.
"""

from __future__ import annotations

from govkit.actions.dsr.erase import ErasurePlan, ErasureRefused
from govkit.actions.dsr.export import decrypt_package, verify_manifest
from govkit.actions.dsr.locate import LocateReport, locate
from govkit.actions.dsr.rectify import RectificationPlan, parse_assignment
from govkit.actions.dsr.registry import REGIMES, REQUEST_TYPES, STATUSES, Registry, Request, parse_subject
from govkit.actions.dsr.service import (
    ErasureResult,
    RectificationResult,
    cancel_request,
    close_request,
    erase_request,
    export_request,
    extend_request,
    locate_request,
    new_request,
    rectify_request,
    refuse_request,
)

__all__ = [
    "REGIMES",
    "REQUEST_TYPES",
    "STATUSES",
    "ErasurePlan",
    "ErasureRefused",
    "ErasureResult",
    "LocateReport",
    "RectificationPlan",
    "RectificationResult",
    "Registry",
    "Request",
    "cancel_request",
    "close_request",
    "decrypt_package",
    "erase_request",
    "export_request",
    "extend_request",
    "locate",
    "locate_request",
    "new_request",
    "parse_assignment",
    "parse_subject",
    "rectify_request",
    "refuse_request",
    "verify_manifest",
]
