"""``organisation``: an organisation's own address, phone and web site are not personal data."""

from __future__ import annotations

from govkit.detect.names import hints_for
from govkit.detect.rules.base import TableFacts, TableRule, register
from govkit.detect.tables import TableMeaning, table_words

ORGANISATION_TABLES = frozenset({
    "office", "offices", "shipper", "shippers", "supplier", "suppliers", "vendor", "vendors",
    "company", "companies", "branch", "branches", "warehouse", "warehouses", "carrier",
    "carriers", "manufacturer", "manufacturers", "agency", "agencies", "organisation",
    "organisations", "organization", "organizations", "firm", "firms", "merchant", "merchants",
    "store", "stores", "lieferant", "lieferanten", "fournisseur", "fournisseurs", "proveedor",
    "proveedores", "fornecedor", "fornecedores", "filiale", "filialen", "sucursal",
})


@register
class Organisation(TableRule):
    """``offices``, ``shippers``, ``suppliers``: each row is an organisation. When no column
    names a person (``contact_name``, ``first_name``: a PERSON name hint of 0.8 or more), its
    address, phone numbers and web site are the organisation's, which is not personal data, and
    are dropped. When a column names a contact person, the address and phone are that person's
    work contact data (personal data under GDPR) and stay; the web site is still the
    organisation's."""

    id = "organisation"
    summary = "the rows are organisations: their own address, phone and web site describe no person"

    def meaning(self, facts: TableFacts) -> TableMeaning | None:
        words = table_words(facts.table)
        if not words or words[-1] not in ORGANISATION_TABLES:
            return None
        person = next(
            (c for c in facts.columns if any(h.entity_type == "PERSON" and h.effective_strength >= 0.8
                                             for h in hints_for(c))),
            None,
        )
        if person is None:
            return TableMeaning(
                "organisation",
                f"the rows of {facts.table!r} are organisations and no column names a person:"
                " their address, phone and web site are the organisation's",
            )
        return TableMeaning(
            "organisation with contact person",
            f"the rows of {facts.table!r} are organisations with a contact person ({person!r}):"
            " address and phone are that person's work contact data, the web site is the organisation's",
        )
