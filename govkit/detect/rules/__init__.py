"""Named rules of the column classifier: one rule per file, applied in order by one registry.

The classifier (govkit/detect/columns.py) gathers a column's evidence: what its name points
at, which validated patterns its values match, what the NER model tags in them, their
shapes. The rules here turn that evidence into a verdict and say why, under a short id
that ``govkit explain`` shows:

====================  ========  =============================================================
id                    kind      what it decides
====================  ========  =============================================================
values-match          finding   validated patterns match most values ("values match")
mixed-kinds           finding   a few pattern kinds explain the column together (e-mails + phones)
sparse-matches        finding   even one e-mail address or IBAN in a structured column
name-values           finding   the name points at an entity and the values have its form
ner-values            finding   the NER model alone tags most values (PERSON, LOCATION, NRP)
han-names             finding   Chinese names, told by their form
address-values        finding   one-line addresses with a place inside
prose-patterns        finding   free text quoting e-mails, phones, IDs
prose-ner             finding   free text naming people and places
yes-no-flags          column    the values are yes/no flags: nothing else is weighed
version-numbers       column    IP_ADDRESS: dotted numbers that are versions
bare-domains          column    URL: bare domain names
enumeration           column    PERSON: a few values repeated over many rows
org-names             column    PERSON: a quarter of the values are organisations' names
sales-regions         column    LOCATION: sales regions and continents
description-prose     column    NER entities in a description of a thing
place-lookup          table     LOCATION in a list of places (city, country)
organisation          table     an organisation's own address, phone, web site
names-no-person       table     addresses and phones of rows named by no person
====================  ========  =============================================================

The order is declared once (:data:`~govkit.detect.rules.base.ORDER`) and the registry
imports each rule's file (its id with ``_`` for ``-``) on first use. A new rule is a new file
with a :class:`~govkit.detect.rules.base.FindingRule`,
:class:`~govkit.detect.rules.base.ColumnRule` or :class:`~govkit.detect.rules.base.TableRule`
subclass decorated with ``@register``, its id in the order, and its own tests under
``tests/detect/rules/``.
"""

from __future__ import annotations

from govkit.detect.rules.base import (
    ORDER,
    REGISTRY,
    ColumnFacts,
    ColumnRule,
    FindingRule,
    Fired,
    Phase,
    Registry,
    TableFacts,
    TableRule,
)

__all__ = [
    "ORDER", "REGISTRY", "ColumnFacts", "ColumnRule", "FindingRule", "Fired", "Phase", "Registry", "TableFacts",
    "TableRule",
]
