"""The "business" part of the accuracy set: ordinary schemas, as a hidden set would hold them.

The core set in ``accuracy.py`` was built around the hard cases (misleading names, decoys
that fool a cell-by-cell scan). Most real columns are plainer: an HR table, a CRM export,
an e-commerce order, a support ticket, a patient record, a log loaded into a table, in the
language of whoever designed the schema. These columns were written, with their labels,
before govkit was run on them, so the score on them is an honest estimate for unseen data
(see docs/benchmarks.md for the before/after numbers).

Labels follow the same rules as the core set: a column lists every entity type a person
reviewing it would call personal data; system dates, codes, prices and categories are decoys.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import phonenumbers

from govkit.demo import SyntheticData

#: Tag of these columns, so that the report can score them separately.
GROUP = "business"

_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def es_mobile(rng: random.Random) -> str:
    """A valid Spanish mobile number (``612 345 678``, ``+34 612 34 56 78``, solid)."""
    while True:
        number = phonenumbers.parse("6" + "".join(str(rng.randrange(10)) for _ in range(8)), "ES")
        if phonenumbers.is_valid_number(number):
            nsn = phonenumbers.national_significant_number(number)
            return rng.choice(
                (
                    f"{nsn[:3]} {nsn[3:6]} {nsn[6:]}",
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                    nsn,
                )
            )


def add_business_columns(b: Any, one: Callable[..., Any]) -> None:
    """Append about 60 columns of ordinary business schemas to the builder ``b``.

    ``b`` is ``accuracy.Builder`` and ``one`` its label helper; they are passed in because
    ``accuracy.py`` runs as ``__main__`` and cannot be imported back.
    """
    d: SyntheticData = b.data
    rng: random.Random = b.rng
    phone = one("PHONE_NUMBER")
    cn_phone = one("CN_PHONE_NUMBER", "PHONE_NUMBER")
    start = dt.datetime(2022, 3, 1)

    def add(table: str, column: str, make: Callable[[], Any], slots: Any = (), **kw: Any) -> None:
        b.add(table, column, make, slots, group=GROUP, **kw)

    def nhs_number() -> str:
        while True:
            digits = [rng.randrange(10) for _ in range(9)]
            check = 11 - sum(n * (10 - i) for i, n in enumerate(digits)) % 11
            check = 0 if check == 11 else check
            if check != 10:
                text = "".join(map(str, digits)) + str(check)
                return rng.choice((text, f"{text[:3]} {text[3:6]} {text[6:]}"))

    def nino() -> str:
        while True:
            prefix = rng.choice(_NINO_FIRST) + rng.choice(_NINO_SECOND)
            if prefix not in _NINO_BAD_PREFIXES:
                break
        digits = f"{rng.randrange(10**6):06d}"
        suffix = rng.choice("ABCD")
        return rng.choice((f"{prefix}{digits}{suffix}", f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"))

    def stamp(fmt: str) -> Callable[[], str]:
        return lambda: f"{d.timestamp(start, 700):{fmt}}"

    def full(locale: str) -> Callable[[], str]:
        return lambda: b.full_name(locale)

    def email(locale: str) -> Callable[[], str]:
        return lambda: b.email(locale)

    # HR, English (US).
    us = d.faker("en_US")
    add("employees", "employee_id", lambda: f"E{rng.randrange(10**6):06d}")
    add("employees", "given_name", lambda: b.name_part("en_US", 0), one("PERSON"))
    add("employees", "family_name", lambda: b.name_part("en_US", 1), one("PERSON"))
    add("employees", "work_email", email("en_US"), one("EMAIL_ADDRESS"))
    add("employees", "date_of_birth", d.birth_date, one("DATE_TIME"), kind="date")
    add("employees", "hire_date", lambda: d.timestamp(start, 2000).date(), kind="date")
    add("employees", "department", lambda: rng.choice(("Sales", "Engineering", "Finance", "Legal", "Support")))
    add("employees", "job_title", lambda: str(us.job()))
    add("employees", "manager_name", full("en_US"), one("PERSON"))
    add("employees", "home_address", lambda: d.one_line_address("en_US"), one("LOCATION"))
    add("employees", "ssn", lambda: str(us.ssn()), one("US_SSN"))
    add("employees", "emergency_contact_phone", lambda: d.phone("US"), phone)

    # CRM, German.
    add("kontakte", "name", full("de_DE"), one("PERSON"))
    add("kontakte", "e_mail", email("de_DE"), one("EMAIL_ADDRESS"))
    add("kontakte", "mobilnummer", lambda: d.phone("DE"), phone)
    add("kontakte", "strasse_hausnr", lambda: d.street("de_DE"), one("LOCATION"))
    add("kontakte", "postleitzahl", lambda: str(d.faker("de_DE").postcode()), one("LOCATION"))
    add("kontakte", "wohnort", lambda: str(d.faker("de_DE").city()), one("LOCATION"))
    add("kontakte", "firma", lambda: str(d.faker("de_DE").company()))
    add("kontakte", "geburtstag", lambda: b.date_text("de"), one("DATE_TIME"))
    add("kontakte", "kundennummer", lambda: f"K-{rng.randrange(10**6):06d}")
    add("kontakte", "letzte_aenderung", stamp("%d.%m.%Y %H:%M:%S"))
    add("kontakte", "newsletter", lambda: rng.choice(("ja", "nein")))

    # E-commerce, French.
    add("acheteurs", "nom_complet", full("fr_FR"), one("PERSON"))
    add("acheteurs", "adresse_email", email("fr_FR"), one("EMAIL_ADDRESS"))
    add("acheteurs", "portable", lambda: d.phone("FR"), phone)
    add("acheteurs", "adresse_livraison", lambda: d.one_line_address("fr_FR"), one("LOCATION"))
    add("acheteurs", "numero_carte", lambda: d.card_number(rng.choice(("visa", "mastercard")), grouped=True),
        one("CREDIT_CARD"))  # fmt: skip
    add("acheteurs", "date_commande", stamp("%d/%m/%Y"))
    add("acheteurs", "prix_ttc", lambda: f"{d.price():.2f} €".replace(".", ","))
    add("acheteurs", "numero_suivi", d.tracking_number)
    add("acheteurs", "adresse_ip", d.ipv4, one("IP_ADDRESS"))
    add("acheteurs", "carte_expiration", lambda: f"{rng.randint(1, 12):02d}/{rng.randint(25, 31)}")

    # CRM, Spanish.
    es = d.faker("es_ES")
    add("clientes_es", "nombre_completo", full("es_ES"), one("PERSON"))
    add("clientes_es", "correo_electronico", email("es_ES"), one("EMAIL_ADDRESS"))
    add("clientes_es", "telefono_movil", lambda: es_mobile(rng), phone)
    add("clientes_es", "direccion", lambda: str(es.street_address()), one("LOCATION"))
    add("clientes_es", "codigo_postal", lambda: str(es.postcode()), one("LOCATION"))
    add("clientes_es", "ciudad", lambda: str(es.city()), one("LOCATION"))
    add("clientes_es", "fecha_nacimiento", lambda: b.date_text("fr"), one("DATE_TIME"))
    add("clientes_es", "numero_pedido", lambda: f"PED-{rng.randrange(10**7):07d}")

    # Users, Portuguese (Brazil).
    br = d.faker("pt_BR")
    add("usuarios", "nome_completo", full("pt_BR"), one("PERSON"))
    add("usuarios", "email", email("pt_BR"), one("EMAIL_ADDRESS"))
    add("usuarios", "celular", lambda: d.phone("BR"), phone)
    add("usuarios", "cep", lambda: str(br.postcode()), one("LOCATION"))
    add("usuarios", "cidade", lambda: str(br.city()), one("LOCATION"))
    add("usuarios", "data_cadastro", stamp("%Y-%m-%d %H:%M:%S"))

    # HR, Chinese.
    add("员工", "员工姓名", lambda: b.full_name("zh_CN"), one("PERSON"))
    add("员工", "联系电话", d.cn_mobile, cn_phone)
    add("员工", "身份证号码", d.resident_id, one("CN_RESIDENT_ID"))
    add("员工", "家庭住址", lambda: d.one_line_address("zh_CN"), one("LOCATION"))
    add("员工", "电子邮箱", email("zh_CN"), one("EMAIL_ADDRESS"))
    add("员工", "入职日期", stamp("%Y-%m-%d"))
    add("员工", "工号", lambda: f"GH{rng.randrange(10**7):07d}")

    # Support tickets, English and German.
    subjects = ("Refund request", "Login problem", "Wrong item delivered", "Invoice copy", "Cancel order")
    add("support_tickets", "subject", lambda: rng.choice(subjects))
    add("support_tickets", "requester_email", email("en_US"), one("EMAIL_ADDRESS"))
    message = (
        "Hi, this is {name}. Please call me back at {phone}, I am home after 5pm.",
        "My order still has not arrived and the tracking page shows no update since last week.",
        "Hello, {name} here, the invoice should go to {email} from now on, thanks.",
        "Please cancel my subscription, I no longer need it and do not want to be charged again.",
        "I was charged twice for the same order, can you please refund one of the payments?",
        "You can reach me on {phone} during the day if anything is unclear about the return.",
    )
    add(
        "support_tickets",
        "message",
        lambda: b.sentence(
            message, name=lambda: b.full_name("en_US"), phone=lambda: d.phone("US"), email=lambda: b.email("en_US")
        ),
        one("PERSON") + phone + one("EMAIL_ADDRESS"),
        category="free text",
    )
    notiz = (
        "Kunde {name} hat angerufen und bittet um Rückruf unter {phone} wegen der Rechnung.",
        "Ware wurde beschädigt geliefert, Ersatz ist bereits unterwegs, keine weitere Aktion nötig.",
        "Frau {name} möchte die Lieferadresse ändern, neue Adresse folgt per E-Mail.",
        "Rückruf unter {phone} vereinbart, Kundin ist nur vormittags erreichbar.",
        "Gutschrift wurde erstellt und an die Buchhaltung weitergeleitet, Vorgang abgeschlossen.",
    )
    add(
        "support_tickets",
        "interne_notiz",
        lambda: b.sentence(notiz, name=lambda: b.full_name("de_DE"), phone=lambda: d.phone("DE")),
        one("PERSON") + phone,
        category="free text",
    )
    add("support_tickets", "priority", lambda: rng.choice(("low", "normal", "high", "urgent")))

    # Patients, English (UK).
    gb = d.faker("en_GB")
    add("patients", "nhs_number", nhs_number, one("UK_NHS"))
    add("patients", "national_insurance_no", nino, one("UK_NINO"))
    add("patients", "patient_name", full("en_GB"), one("PERSON"))
    add("patients", "postcode", lambda: str(gb.postcode()), one("LOCATION"))
    add("patients", "date_of_birth", lambda: b.date_text("fr"), one("DATE_TIME"))
    add("patients", "admission_date", stamp("%d/%m/%Y"))
    add("patients", "diagnosis_code",
        lambda: rng.choice(("J45.909", "E11.9", "I10", "M54.5", "K21.9", "F32.A", "N39.0")))  # fmt: skip

    # Web logs loaded into a table.
    add("access_log", "client_ip", d.ipv4, one("IP_ADDRESS"))
    add("access_log", "request_path", lambda: f"/api/v1/orders/{rng.randrange(10**6)}/items")
    add("access_log", "logged_at", stamp("%Y-%m-%dT%H:%M:%S.000Z"))
    add("access_log", "device_mac", lambda: str(us.mac_address()), one("MAC_ADDRESS"))
    add("access_log", "latency_s", lambda: f"{rng.uniform(0.001, 4):.3f}")
