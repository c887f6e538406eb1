"""Policy as code: YAML rules that turn inventory findings into obligations.

* :mod:`~govkit.policy.schema`: the file format (pydantic, unknown keys rejected);
* :mod:`~govkit.policy.loader`: files, ``extends``, merging, errors with ``file:line:col``;
* :mod:`~govkit.policy.resolve`: which rule applies to a field, and why;
* :mod:`~govkit.policy.evaluate`: inventory x policy -> violations.

The active policy of a workspace is every ``*.yaml`` in ``<workspace>/policies/`` (or the
shipped ``baseline`` pack when there is none); see :func:`active_policy`.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from govkit.policy.errors import Mark, PolicyError, Problem
from govkit.policy.evaluate import DatabaseCounter, Evaluation, Violation, evaluate, evaluate_workspace
from govkit.policy.loader import Policy, active_policy, load_pack, load_policy, policy_files, shipped_packs
from govkit.policy.periods import Period
from govkit.policy.predicates import Predicate
from govkit.policy.resolve import Resolver, Where
from govkit.policy.schema import KNOWN_OPERATORS, OPERATOR_PARAMETERS, PolicyFile, Sensitivity

__all__ = [
    "KNOWN_OPERATORS",
    "OPERATOR_PARAMETERS",
    "DatabaseCounter",
    "Evaluation",
    "Mark",
    "Period",
    "Policy",
    "PolicyError",
    "PolicyFile",
    "Predicate",
    "Problem",
    "Resolver",
    "Sensitivity",
    "Violation",
    "Where",
    "active_policy",
    "evaluate",
    "evaluate_workspace",
    "install_demo_policy",
    "load_pack",
    "load_policy",
    "policy_files",
    "shipped_packs",
]


def install_demo_policy(workspace_root: Path, *, overwrite: bool = False) -> Path:
    """Copy the demo shop's policy (``policies/shop.yaml``, extending gdpr and pipl) into a workspace.

    ``govkit demo`` calls this so that ``govkit evaluate`` has a workspace policy naming the
    demo's tables, with deliberate gaps for evaluate to find.
    """
    target = workspace_root / "policies" / "shop.yaml"
    if target.exists() and not overwrite:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with resources.as_file(resources.files("govkit.policy").joinpath("demo_shop.yaml")) as source:
        shutil.copyfile(source, target)
    return target
