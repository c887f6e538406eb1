"""A second unseen group of the accuracy set (round 2): other schemas, other languages.

The first holdout group (``accuracy_holdout.py``) was run once and its two misses are fixed
in the same round as this group is scored, so it is no longer unseen. These columns are
new schemas (a municipality, a telecom's call records, a hotel, a gym, a dating app, a
letting agent, a payroll, a clinical trial, a marketplace, app analytics, a Portuguese
clinic, a Chinese membership and booking system, a Japanese shop) in English, German,
French, Spanish, Italian, Dutch, Portuguese, Chinese and Japanese, with plain and
misleading names and traps. They and their labels were written and committed before govkit
was run on them; the first run's score is the honest estimate for unseen data.

Label rules are the core set's: a column lists every entity type a reviewer would call
personal data and govkit's catalogue has a name for; system dates, codes, counts, prices,
device models and categories are decoys. Identifiers the catalogue has no type for (an
IMEI, an Italian codice fiscale, a Dutch BSN) are left out rather than labelled one way
or the other, except the IMEI, which is kept as a trap: 15 Luhn-valid digits that a card
matcher likes, and not a payment card.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from typing import Any

import phonenumbers
from stdnum import luhn

from govkit.demo import SyntheticData

#: Tag of these columns, so that the report can score them separately.
GROUP = "holdout2"

# (national prefixes, national significant number length) per region, and how people write them.
_PLANS: dict[str, tuple[Sequence[str], int]] = {
    "IT": (("320", "328", "333", "335", "338", "339", "347", "348", "349", "366", "380", "388", "393"), 10),
    "NL": (("61", "62", "63", "64", "65"), 9),
    "PT": (("91", "92", "93", "96"), 9),
    "JP": (("70", "80", "90"), 10),
    "ES": (("6", "7"), 9),
}


def _valid(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    prefixes, length = _PLANS[region]
    while True:
        prefix = rng.choice(prefixes)
        digits = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix)))
        number = phonenumbers.parse(digits, region)
        if phonenumbers.is_valid_number(number):
            return number


def mobile(rng: random.Random, region: str) -> str:
    """A valid mobile number of ``region`` in a national or international style."""
    number = _valid(rng, region)
    nsn = phonenumbers.national_significant_number(number)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    styles = [national, national, international]
    if region == "NL":
        styles.append(f"06-{nsn[1:]}")
    elif region == "JP":
        styles.append(national.replace("-", ""))
    elif region in ("IT", "PT", "ES"):
        styles.append(nsn)
    return rng.choice(styles)


def e164(rng: random.Random, d: SyntheticData, region: str) -> str:
    """A number as a telecom stores it: E.164 digits, with or without the plus."""
    number = phonenumbers.parse(d.phone(region), region)
    text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return text if rng.random() < 0.5 else text[1:]


def imei(rng: random.Random) -> str:
    """A Luhn-valid 15-digit IMEI with a real-looking type allocation code."""
    body = rng.choice(("35", "86", "01", "99")) + "".join(str(rng.randrange(10)) for _ in range(12))
    return body + luhn.calc_check_digit(body)


def add_holdout2_columns(b: Any, one: Callable[..., Any]) -> None:
    """Append 50 columns to the builder ``b`` (``accuracy.Builder``)."""
    d: SyntheticData = b.data
    rng: random.Random = b.rng
    phone = one("PHONE_NUMBER")
    cn_phone = one("CN_PHONE_NUMBER", "PHONE_NUMBER")
    start = dt.datetime(2024, 1, 1)

    def add(table: str, column: str, make: Callable[[], Any], slots: Any = (), **kw: Any) -> None:
        b.add(table, column, make, slots, group=GROUP, **kw)

    def full(locale: str) -> Callable[[], str]:
        return lambda: b.full_name(locale)

    def email(locale: str) -> Callable[[], str]:
        return lambda: b.email(locale)

    # A municipality's citizen register, Dutch.
    nl = d.faker("nl_NL")
    add("burgers", "volledige_naam", full("nl_NL"), one("PERSON"))
    add("burgers", "geboortedatum", lambda: f"{d.birth_date():%d-%m-%Y}", one("DATE_TIME"))
    add("burgers", "woonplaats", lambda: str(nl.city()), one("LOCATION"))
    add("burgers", "postcode", lambda: str(nl.postcode()), one("LOCATION"))

    # A telecom's call detail records, English.
    add("cdr", "calling_number", lambda: e164(rng, d, "US"), phone)
    add("cdr", "called_number", lambda: e164(rng, d, rng.choice(("US", "GB", "DE"))), phone)
    add("cdr", "imei", lambda: imei(rng))
    add("cdr", "cell_id", lambda: f"310-260-{rng.randint(1000, 65535)}-{rng.randint(1, 999)}")

    # A hotel, Italian.
    add("prenotazioni", "ospite", full("it_IT"), one("PERSON"))
    add("prenotazioni", "email_ospite", email("it_IT"), one("EMAIL_ADDRESS"))
    add("prenotazioni", "cellulare", lambda: mobile(rng, "IT"), phone)
    add("prenotazioni", "data_arrivo", lambda: d.timestamp(start, 300).date(), kind="date")
    add("prenotazioni", "codice_prenotazione", lambda: f"BK{rng.randrange(10**8):08X}")

    # A gym, German.
    add("mitglieder", "mitglied", full("de_DE"), one("PERSON"))
    add("mitglieder", "geburtstag", d.birth_date, one("DATE_TIME"), kind="date")
    add("mitglieder", "bankverbindung", d.iban, one("IBAN_CODE"))
    add("mitglieder", "letzter_besuch", lambda: f"{d.timestamp(start, 200):%d.%m.%Y %H:%M}")

    # A dating app, English.
    dating = (
        "Text me on {phone} if you want to grab a coffee this weekend!",
        "Haha that sounds fun, where do you usually go hiking?",
        "My number is {phone}, this app keeps logging me out.",
        "Not really into sports but I love cooking and old movies.",
    )
    add("matches", "first_name", lambda: d.first_last("en_US")[0], one("PERSON"))
    add("matches", "birthday", lambda: f"{d.birth_date(1970, 2005):%m/%d/%Y}", one("DATE_TIME"))
    add("matches", "last_seen_ip", d.ipv4, one("IP_ADDRESS"))
    add(
        "matches",
        "message",
        lambda: b.sentence(dating, phone=lambda: d.phone("US")),
        phone,
        category="free text",
    )

    # A letting agent, Dutch and Spanish.
    add("huurders", "huurder", full("nl_NL"), one("PERSON"))
    add("huurders", "telefoonnummer", lambda: mobile(rng, "NL"), phone)
    add("inquilinos", "nombre_completo", full("es_ES"), one("PERSON"))
    add("inquilinos", "movil", lambda: mobile(rng, "ES"), phone)

    # A payroll, French.
    add("paie", "salarie", full("fr_FR"), one("PERSON"))
    add("paie", "iban_salarie", d.iban, one("IBAN_CODE"))
    add("paie", "matricule", lambda: f"E{rng.randrange(10**5):05d}")

    # A clinical trial, English.
    add("trial_subjects", "subject_code", lambda: f"SUBJ-{rng.randint(1, 40):03d}-{rng.randrange(10**4):04d}")
    add("trial_subjects", "investigator", lambda: f"Dr. {b.full_name('en_GB')}", one("PERSON"))

    # A marketplace's sellers, Portuguese (Portugal) and English.
    add("vendedores", "nome_vendedor", full("pt_PT"), one("PERSON"))
    add("vendedores", "telemovel", lambda: mobile(rng, "PT"), phone)
    add("vendedores", "morada", lambda: d.one_line_address("pt_PT"), one("LOCATION"))
    add(
        "sellers",
        "shop_url",
        lambda: f"https://market.example.com/shop/{d.faker('en_US').user_name()}",
        one("URL"),
    )

    # App analytics, English: traps.
    add("analytics", "device_model", lambda: rng.choice(("iPhone 14", "Pixel 8", "Galaxy S23", "Redmi Note 12")))
    add("analytics", "client_ip", lambda: str(d.faker("en_US").ipv6()), one("IP_ADDRESS"))
    add("analytics", "email_opt_in", lambda: rng.choice((True, False)), kind="boolean")

    # A membership and a booking system, Chinese.
    zh = d.faker("zh_CN")
    add("会员", "联系人", lambda: b.full_name("zh_CN"), one("PERSON"))
    add("会员", "联系电话", d.cn_mobile, cn_phone)
    add("会员", "所在城市", lambda: str(zh.city()), one("LOCATION"))
    add("会员", "注册时间", lambda: f"{d.timestamp(start, 300):%Y-%m-%d %H:%M:%S}")
    add("门店", "门店名称", lambda: rng.choice(("北京朝阳店", "上海徐汇店", "广州天河店", "深圳南山店", "杭州西湖店")))
    add("预订", "入住人", lambda: b.full_name("zh_CN"), one("PERSON"))
    add("预订", "房型", lambda: rng.choice(("大床房", "双床房", "豪华套房", "家庭房")))

    # A shop, Japanese.
    ja = d.faker("ja_JP")
    add("顧客", "氏名", lambda: str(ja.name()), one("PERSON"))
    add("顧客", "電話番号", lambda: mobile(rng, "JP"), phone)
    add("顧客", "住所", lambda: str(ja.address()), one("LOCATION"))
    add("顧客", "メールアドレス", lambda: str(ja.email()), one("EMAIL_ADDRESS"))

    # Personal data behind misleading names.
    misleading = "misleading name"
    add("legacy_export", "field_a", full("it_IT"), one("PERSON"), category=misleading)
    add("legacy_export", "x2", lambda: str(nl.iban()), one("IBAN_CODE"), category=misleading)
