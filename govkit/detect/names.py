"""What a column's name says about its content.

Names are strong hints and weak proof: ``email_verified`` holds booleans, ``name`` in a
``genre`` table holds genres. So this module only produces *evidence* (entity, strength, the
term that matched); :mod:`govkit.detect.columns` weighs it against the values.

Terms cover English, German, French, Spanish/Portuguese, Italian, Dutch, Japanese, Chinese
characters and pinyin (including the initial-letter abbreviations Chinese schemas use, such
as ``sfzh`` for 身份证号). A term matches a whole token of the name, or a run of consecutive tokens written
together (``firstname`` = ``first`` + ``name``), never an arbitrary substring: ``tel`` must
not fire inside ``hotel``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: (entity, strength, terms). Strength is how sure the name alone makes us, 0..1.
_LEXICON: list[tuple[str, float, tuple[str, ...]]] = [
    ("EMAIL_ADDRESS", 0.9, ("email", "e_mail", "emailaddress", "mail", "mailaddress", "courriel",
                             "correo", "邮箱", "电子邮件", "电子邮箱", "youxiang", "yx", "emailadresse",
                             "mailadresse", "adresseelectronique", "correoelectronico",
                             "emailadres", "indirizzoemail", "メール", "メールアドレス", "电邮")),
    ("PHONE_NUMBER", 0.9, ("phone", "phonenumber", "telephone", "tel", "telefon", "telefono",
                            "telephone", "téléphone", "telefone", "mobile", "mobil",
                            "cellphone", "handy", "fax", "telefax", "portable", "celular",
                            "telefonnummer", "mobilnummer", "handynummer", "rufnummer", "faxnummer",
                            "movil", "móvil", "telemovel", "telemóvel",
                            "电话", "手机", "手机号", "手机号码", "电话号码", "联系电话", "传真",
                            "shouji", "sjh", "dianhua", "lxdh", "msisdn",
                            "telefoon", "telefoonnummer", "mobiel", "mobielnummer", "cellulare",
                            "numerotelefono", "電話", "電話番号", "携帯", "携帯電話", "手機", "聯絡電話")),
    # "cell" is also a spreadsheet cell, a cell tower (cell_id) or a prison cell: its
    # values must be phone numbers that validate, the name alone is not enough.
    ("PHONE_NUMBER", 0.6, ("cell",)),
    ("PERSON", 0.85, ("firstname", "lastname", "first_name", "last_name", "fullname", "surname",
                      "givenname", "familyname", "forename", "middlename", "maidenname",
                      "vorname", "nachname", "familienname", "prenom", "prénom", "nomdefamille",
                      "nombre", "apellido", "apellidos", "sobrenome", "nome", "姓名", "名字",
                      "联系人", "xingming", "xm", "realname", "username_real",
                      "customername", "contactname", "employeename", "personname", "holder",
                      "nomcomplet", "nombrecompleto", "kundenname",
                      "cardholder", "accountholder", "recipient", "patientname",
                      # Roles that are always people, in the languages above and Dutch,
                      # Italian and Japanese: the name of the role is the column's name.
                      "empfänger", "empfaenger", "absender", "ansprechpartner", "kontoinhaber",
                      "inhaber", "destinataire", "expediteur", "expéditeur", "titulaire",
                      "destinatario", "remitente", "remetente", "titular", "mittente",
                      "nomecompleto", "nominativo", "cognome", "voornaam", "achternaam",
                      "volledigenaam", "huurder", "inquilino", "addressee", "sender",
                      "收件人", "寄件人", "收货人", "发件人", "收款人", "付款人", "持卡人", "入住人",
                      "户主", "负责人", "经办人", "乘客", "客户名", "氏名", "名前", "お名前",
                      "shoujianren", "sjr", "lianxiren", "lxr")),
    ("PERSON", 0.45, ("name", "nom", "naam", "contact", "owner", "author", "composer", "artist")),
    # User names and handles are online identifiers of a person (no USERNAME type exists, so
    # PERSON); the values must still have a name's form ("Mike", "CAMERON.NITZSCHE").
    ("PERSON", 0.8, ("username", "loginname", "screenname", "nickname", "reviewer", "userhandle")),
    ("LOCATION", 0.85, ("address", "addr", "street", "streetaddress", "adresse", "strasse",
                        "straße", "anschrift", "rue", "direccion", "dirección", "endereco",
                        "endereço", "地址", "住址", "家庭住址", "dizhi", "zhuzhi", "postcode",
                        "postalcode", "zip", "zipcode", "plz", "postleitzahl", "codepostal",
                        "邮编", "youbian", "codigopostal", "códigopostal", "cep", "morada",
                        "domicilio", "wohnadresse", "lieferadresse", "rechnungsadresse",
                        "adres", "straat", "straatnaam", "indirizzo", "住所", "郵便番号",
                        "收货地址", "收件地址")),
    # A city column holds places whatever the table; "state" or "region" may be a status.
    ("LOCATION", 0.8, ("city", "town", "ort", "wohnort", "stadt", "ville", "ciudad", "cidade",
                       "localidad", "localidade", "municipio", "commune", "城市", "chengshi",
                       "城市名", "woonplaats", "città", "citta", "comune", "所在地")),
    ("LOCATION", 0.6, ("state", "province", "region", "county", "district", "省份",
                       "country", "land", "pays", "pais", "país", "国家")),
    # Coordinates: a place only where the row is a person or an address (table context,
    # below); the values must be numbers in range (columns.py, _coordinate_share).
    ("LOCATION", 0.5, ("latitude", "longitude", "lat", "lng", "lon", "geolat", "geolng")),
    ("DATE_TIME", 0.9, ("birthdate", "birth_date", "dateofbirth", "dob", "birthday", "born",
                        "geburtsdatum", "geburtstag", "datenaissance", "naissance",
                        "fechanacimiento", "nacimiento", "nascimento", "出生日期", "生日", "出生", "csrq",
                        "chusheng", "shengri", "deathdate", "dateofdeath", "geboortedatum",
                        "datadinascita", "datanascita", "生年月日")),
    ("CN_RESIDENT_ID", 0.9, ("sfzh", "sfz", "身份证", "身份证号", "身份证号码", "公民身份号码",
                             "shenfenzheng", "shenfenzhenghao", "idcard", "idcardno",
                             "idcardnumber", "residentid", "nationalid", "idnumber", "idno")),
    ("CREDIT_CARD", 0.9, ("creditcard", "cardnumber", "cardno", "ccnumber", "pan",
                          "kartennummer", "kreditkarte", "carte", "tarjeta", "cartao", "信用卡")),
    ("CN_BANK_CARD", 0.9, ("bankcard", "银行卡", "银行卡号", "yinhangka", "yhk", "yhkh")),
    ("IBAN_CODE", 0.95, ("iban", "bankaccount", "accountnumber", "kontonummer", "rib",
                         "rekeningnummer", "bankverbindung")),
    ("IP_ADDRESS", 0.85, ("ip", "ipaddress", "ipaddr", "clientip", "remoteaddr", "remoteip",
                          "sourceip", "ipv4", "ipv6")),
    ("US_SSN", 0.95, ("ssn", "socialsecurity", "socialsecuritynumber")),
    ("UK_NHS", 0.9, ("nhs", "nhsnumber", "nhsno")),
    ("UK_NINO", 0.9, ("nino", "nationalinsurance", "nationalinsuranceno", "nationalinsurancenumber",
                      "ninumber", "nino_number")),
    ("CN_PASSPORT", 0.6, ("passport", "passportno", "passportnumber", "护照", "护照号",
                          "huzhao", "reisepass", "passeport", "pasaporte")),
    ("URL", 0.5, ("url", "website", "homepage", "webpage", "link", "profileurl")),
]

#: Tokens that turn a hint into a property *of* the data, not the data itself:
#: ``email_verified``, ``phone_count``, ``has_address``, ``name_hash``.
_NEGATORS = frozenset({
    "verified", "verify", "confirmed", "valid", "validated", "is", "has", "flag", "enabled",
    "count", "cnt", "num_of", "type", "kind", "status", "hash", "hashed", "md5", "sha1",
    "sha256", "template", "format", "domain", "provider", "opt", "optin", "optout", "consent",
    "bounced", "length", "len", "updated", "created", "modified",
})

#: Negators of one entity only. A key (``address_id``, ``city_id``, ``contact_fk``) points at a
#: row, it holds no place or name; (not for e-mail: ``email_id`` is an e-mail address in many
#: schemas). ``CompanyName``, ``ContactTitle``, ``job_title``: a company's name and a person's
#: job title are not a person's name.
_KEY_WORDS = frozenset({"id", "ids", "key", "fk", "pk", "uuid", "guid"})
_ENTITY_NEGATORS: dict[str, frozenset[str]] = {
    "LOCATION": _KEY_WORDS,
    "PERSON": _KEY_WORDS | frozenset({
        "company", "companies", "firm", "business", "organisation", "organization", "org",
        "title", "job", "position", "role", "product", "brand", "shop", "store", "firma",
        "societe", "société", "empresa", "azienda", "bedrijf", "unternehmen",
    }),
}
#: Terms for coordinates, which need a place-describing table to count (see hints_for).
COORDINATE_TERMS = frozenset({"latitude", "longitude", "lat", "lng", "lon", "geolat", "geolng"})
#: Weak place terms: only as strong as a city where the row is a person or an address.
_WEAK_PLACE_TERMS = frozenset({"state", "province", "county", "district", "country", "省份", "land",
                               "pays", "pais", "país", "国家"})

#: Words for "address" that, next to an e-mail or network term, mean that kind of address.
_ADDRESS_WORDS = frozenset({"address", "addr", "adresse", "direccion", "dirección", "endereco", "endereço"})
_ADDRESS_OWNERS = frozenset({"EMAIL_ADDRESS", "IP_ADDRESS", "URL", "MAC_ADDRESS"})

#: Compound terms are matched after removing separators, so they are stored that way.
_ENTRIES: list[tuple[str, float, str]] = sorted(
    {
        (entity, strength, term.replace("_", "").lower())
        for entity, strength, terms in _LEXICON
        for term in terms
    },
    key=lambda e: (-len(e[2]), -e[1]),
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
#: Han characters and Japanese kana (\u3040-\u30ff) carry no separators between words.
_SPLIT = re.compile(r"[^0-9A-Za-z\u00c0-\u024f\u3040-\u30ff\u4e00-\u9fff]+")
_HAN_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]+")


@dataclass(frozen=True, slots=True)
class NameHint:
    """A column name's vote for an entity type."""

    entity_type: str
    strength: float
    term: str
    negated_by: str | None = None

    @property
    def effective_strength(self) -> float:
        return 0.0 if self.negated_by else self.strength


def tokens(name: str) -> list[str]:
    """Split ``customerEmail_Address`` / ``客户手机号`` into lower-case tokens."""
    spaced = _CAMEL.sub(" ", name)
    out: list[str] = []
    for part in _SPLIT.split(spaced):
        if not part:
            continue
        # Han characters carry no separators; keep runs whole and match by containment below.
        out.append(part.lower())
    return out


def hints_for(column: str, table: str = "") -> list[NameHint]:
    """Every entity the column name points at, strongest first.

    ``table`` sharpens ambiguous names: ``name`` in ``customer`` is likely a person,
    ``name`` in ``genre`` is not (the values decide either way).
    """
    parts = tokens(column)
    hints: dict[str, NameHint] = {}
    used: set[int] = set()
    for entity, strength, term in _ENTRIES:
        span = _find_term(parts, term)
        if span is None or used.intersection(span):
            continue
        used.update(span)
        negators = _NEGATORS | _ENTITY_NEGATORS.get(entity, frozenset())
        negator = next((parts[i] for i in range(len(parts)) if i not in span and parts[i] in negators), None)
        if term in COORDINATE_TERMS:
            # Coordinates describe a person only as the position of their address.
            strength = 0.8 if _about_people(table) or _about_addresses(table) else 0.0
            if not strength:
                continue
        elif entity == "LOCATION" and term in _WEAK_PLACE_TERMS and (_about_people(table) or _about_addresses(table)):
            # "state", "district", "country" of a customer or of an address row are parts of a
            # postal address, not a status or a sales region ("region" stays weak).
            strength = 0.8
        if entity == "PERSON" and strength < 0.5 and (
            _about_people(table) or any(_PEOPLE_ROLE.fullmatch(parts[i]) for i in range(len(parts)) if i not in span)
        ):
            # "name" in a customers table, "nom_eleve", "nombre_cliente": strong enough
            # with name-shaped values (a bare surname is a single word).
            strength = 0.8
        if entity not in hints or hints[entity].strength < strength:
            hints[entity] = NameHint(entity, strength, term, negator)
    location = hints.get("LOCATION")
    if location is not None and location.term in _ADDRESS_WORDS and _ADDRESS_OWNERS & hints.keys():
        # "adresse_email", "direccion_ip": the address of an e-mail box or a host, not a
        # place. English writes these as one compound term ("email_address", "ip_address").
        del hints["LOCATION"]
    return sorted(hints.values(), key=lambda h: -h.effective_strength)


def _find_term(parts: list[str], term: str) -> range | None:
    """Indices of the tokens that spell ``term`` (one token, or several written together)."""
    for first in range(len(parts)):
        if _HAN_RUN.fullmatch(term) and term in parts[first]:
            return range(first, first + 1)
        joined = ""
        for last in range(first, min(first + 4, len(parts))):
            joined += parts[last]
            if joined == term:
                return range(first, last + 1)
            if not term.startswith(joined):
                break
    return None


_PEOPLE_TABLES = re.compile(
    r"customer|client|user|person|people|employee|staff|member|patient|contact|student|"
    r"account|subscriber|kunde|mitarbeiter|客户|用户|员工|会员|患者|kehu|yonghu|yuangong|"
    r"eleve|élève|etudiant|étudiant|schueler|schüler|alumno|aluno|leerling|guest|ospite|"
    r"huesped|huésped|tenant|locataire|mieter|huurder|inquilino|passenger|passager|pasajero|"
    r"paciente|klant|学生|住户|租户|乘客|旅客|顾客|顧客",
    re.IGNORECASE,
)
#: A word of the column itself that says whose name it is (``nom_eleve``, ``nombre_cliente``,
#: ``member_name``). Whole tokens only, and not "account" or "contact": an account's or a
#: contact record's name may be a label such as "Main Savings".
_PEOPLE_ROLE = re.compile(
    r"(?:customer|client|cliente|user|person|employee|staff|member|patient|paciente|student|"
    r"kunde|mitarbeiter|eleve|élève|etudiant|étudiant|schueler|schüler|alumno|aluno|studente|"
    r"leerling|guest|gast|ospite|huesped|huésped|tenant|locataire|mieter|huurder|inquilino|"
    r"passenger|passager|pasajero|klant|salarie|salarié|employe|employé|empleado|dipendente|"
    r"werknemer|medewerker|socio|adherent|adhérent|abonne|abonné|titular|titulaire)s?"
)


_ADDRESS_TABLES = re.compile(r"(?:^|[^a-z])(?:address|addresses|adresse|adressen|direccion|endereco|地址)s?$",
                             re.IGNORECASE)


def _about_addresses(table: str) -> bool:
    """A table whose rows are postal addresses (``address``, ``customer_address``)."""
    short = table.split(".")[-1]
    return bool(short) and bool(_ADDRESS_TABLES.search(short.replace("_", " ")))


def about_people(table: str) -> bool:
    """Whether the table name says its rows are people (customers, staff, patients ...)."""
    return _about_people(table)


def _about_people(table: str) -> bool:
    return bool(table) and bool(_PEOPLE_TABLES.search(table))
