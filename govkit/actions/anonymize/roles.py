"""What a column holds, read from its name: the role that lets operators fit the column.

The inventory says a column holds ``PERSON`` or ``LOCATION``; that is not enough to anonymize
it usefully. A ``FirstName`` column faked with full names ("Dr. Carolyn Erickson") or a
``Country`` column generalized "to city" (which it cannot be) gives an analyst nothing. The
role says which: ``first_name``, ``last_name``, ``full_name``, ``user_name``, ``company``;
``street``, ``postcode``, ``city``, ``region``, ``country``; ``coordinate`` (one latitude or
longitude). The plan uses it to choose the
Faker provider of ``fake`` and the level of ``generalize``, and to find the row's other
location columns (``BillingAddress`` goes with ``BillingCity`` and ``BillingCountry``), so
that a fake name is drawn in the locale of the row's country and a street is generalized
to the row's city.

Names are split into lower-case tokens (``BillingPostalCode`` -> billing, postal, code;
``first_name`` -> first, name); Chinese column names are matched as words (姓名, 地址...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Person roles (for ``fake``) and the Faker provider that draws each.
PERSON_PROVIDERS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "full_name": "name",
    "user_name": "user_name",
    "company": "company",
    "street": "street_address",
    "city": "city",
}
#: Location roles, finest first (the location hierarchy's levels below ``*``).
LOCATION_LEVELS = ("street", "postcode", "city", "region", "country")

_SPLIT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\x00-\x7f]+")

# (role, token sets any of which must all be present); first match wins, so order matters.
_RULES: tuple[tuple[str, tuple[frozenset[str], ...]], ...] = tuple(
    (role, tuple(frozenset(words.split()) for words in alternatives)) for role, alternatives in (
        ("user_name", ("username", "user name", "login", "handle", "nickname", "screen name", "userid", "用户名")),
        ("first_name", ("first name", "firstname", "fname", "forename", "given name", "givenname", "名字", "名")),
        ("last_name", ("last name", "lastname", "lname", "surname", "family name", "familyname", "姓")),
        ("company", ("company", "organization", "organisation", "employer", "business", "公司", "单位")),
        ("postcode", ("postcode", "postal code", "postalcode", "zip", "zipcode", "plz", "cep", "邮编", "邮政编码")),
        ("country", ("country", "nation", "国家", "国籍")),
        ("region", ("state", "province", "region", "county", "prefecture", "district", "省", "省份")),
        ("coordinate", ("latitude", "longitude", "lat", "lng", "lon", "long", "纬度", "经度")),
        ("city", ("city", "town", "municipality", "城市", "市")),
        ("street", ("address", "street", "addr", "line1", "address1", "地址", "街道", "住址", "dizhi")),
        ("full_name", ("full name", "fullname", "name", "contact", "composer", "author", "姓名", "xingming")),
    )
)
#: tokens that make an "address" something else
_NOT_STREET = frozenset({"email", "mail", "ip", "mac", "web", "url", "wallet", "e"})


def tokens(name: str) -> list[str]:
    """``BillingPostalCode`` -> ``["billing", "postal", "code"]``; ``姓名`` stays one token."""
    return [t.lower() for t in _SPLIT.findall(name)]


def role_of(name: str) -> str | None:
    """The role of a column called ``name`` (see the module doc), or None."""
    words = set(tokens(name))
    if not words:
        return None
    for role, alternatives in _RULES:
        for needed in alternatives:
            if needed <= words or (len(needed) == 1 and "".join(tokens(name)) in needed):
                if role == "street" and words & _NOT_STREET:
                    return None
                return role
    return None


def _prefix(name: str, role: str) -> list[str]:
    """The tokens of ``name`` that are not its role's words (``BillingCity`` -> ``["billing"]``)."""
    words = tokens(name)
    role_words = {w for r, alternatives in _RULES if r == role for a in alternatives for w in a}
    return [w for w in words if w not in role_words and w not in ("code", "name", "line")]


def siblings(column: str, columns: Sequence[str]) -> dict[str, str]:
    """The other location columns of ``column``'s row, by role: for ``BillingAddress`` in
    Invoice, ``{"city": "BillingCity", "country": "BillingCountry", ...}``.

    A sibling with the same prefix wins (``BillingCity`` for ``BillingAddress``); otherwise
    the only column of that role, if there is just one.
    """
    own = role_of(column)
    mine = _prefix(column, own) if own else tokens(column)
    found: dict[str, str] = {}
    for role in ("street", "postcode", "city", "region", "country"):
        if role == own:
            continue
        candidates = [c for c in columns if c != column and role_of(c) == role]
        same = [c for c in candidates if _prefix(c, role) == mine]
        if same:
            found[role] = same[0]
        elif len(candidates) == 1:
            found[role] = candidates[0]
    return found


# -- countries: Faker locales and ISO codes ---------------------------------------------------------

#: country (lower-case name, or ISO 3166 alpha-2 code) -> (ISO code, Faker locale)
_COUNTRIES: dict[str, tuple[str, str]] = {}
for _names, _code, _locale in (
    ("united states|usa|us|united states of america|america", "US", "en_US"),
    ("united kingdom|uk|gb|great britain|england|scotland|wales", "GB", "en_GB"),
    ("canada|ca", "CA", "en_CA"), ("australia|au", "AU", "en_AU"), ("new zealand|nz", "NZ", "en_NZ"),
    ("ireland|ie", "IE", "en_IE"), ("india|in", "IN", "en_IN"), ("germany|de|deutschland", "DE", "de_DE"),
    ("austria|at|österreich", "AT", "de_AT"), ("switzerland|ch|schweiz", "CH", "de_CH"),
    ("france|fr", "FR", "fr_FR"), ("belgium|be|belgique|belgië", "BE", "nl_BE"),
    ("netherlands|nl|the netherlands|holland", "NL", "nl_NL"), ("spain|es|españa", "ES", "es_ES"),
    ("mexico|mx|méxico", "MX", "es_MX"), ("argentina|ar", "AR", "es_AR"), ("chile|cl", "CL", "es_CL"),
    ("colombia|co", "CO", "es_CO"), ("portugal|pt", "PT", "pt_PT"), ("brazil|br|brasil", "BR", "pt_BR"),
    ("italy|it|italia", "IT", "it_IT"), ("norway|no|norge", "NO", "no_NO"), ("sweden|se|sverige", "SE", "sv_SE"),
    ("denmark|dk|danmark", "DK", "da_DK"), ("finland|fi|suomi", "FI", "fi_FI"), ("poland|pl|polska", "PL", "pl_PL"),
    ("czech republic|czechia|cz", "CZ", "cs_CZ"), ("hungary|hu", "HU", "hu_HU"), ("greece|gr", "GR", "el_GR"),
    ("turkey|tr|türkiye", "TR", "tr_TR"), ("russia|ru|russian federation", "RU", "ru_RU"),
    ("ukraine|ua", "UA", "uk_UA"), ("romania|ro", "RO", "ro_RO"), ("china|cn|中国|prc", "CN", "zh_CN"),
    ("taiwan|tw", "TW", "zh_TW"), ("japan|jp|日本", "JP", "ja_JP"), ("korea|south korea|kr", "KR", "ko_KR"),
    ("vietnam|vn|viet nam", "VN", "vi_VN"), ("thailand|th", "TH", "th_TH"), ("indonesia|id", "ID", "id_ID"),
    ("philippines|ph", "PH", "en_PH"), ("israel|il", "IL", "he_IL"), ("iran|ir", "IR", "fa_IR"),
    ("egypt|eg", "EG", "ar_EG"), ("saudi arabia|sa", "SA", "ar_SA"), ("nigeria|ng", "NG", "en_NG"),
    ("kenya|ke", "KE", "en_KE"), ("south africa|za", "ZA", "zu_ZA"),
):
    for _name in _names.split("|"):
        _COUNTRIES[_name] = (_code, _locale)


def country_code(value: object) -> str | None:
    """The ISO 3166 alpha-2 code of a country name or code (``"USA"`` -> ``"US"``), or None."""
    if not isinstance(value, str):
        return None
    found = _COUNTRIES.get(value.strip().lower())
    return found[0] if found else None


def locale_of(value: object) -> str | None:
    """The Faker locale of a country (``"Brazil"`` -> ``"pt_BR"``), or None if unknown."""
    if not isinstance(value, str):
        return None
    found = _COUNTRIES.get(value.strip().lower())
    return found[1] if found else None
