"""Rules added in round 2 of the accuracy work (benchmarks/accuracy_holdout2.py and the two
misses of benchmarks/accuracy_holdout.py).

Each test pins one general rule with data made here, not the benchmark's own columns, and
each rule has its negatives: place names, product words and categories must not become
people.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import pytest
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from govkit.demo import SyntheticData
from govkit.detect.columns import ColumnClassifier, ColumnSample, ColumnVerdict
from govkit.detect.engine import DetectionEngine
from govkit.detect.han_names import MIN_DISTINCT, SURNAMES, han_name_share, split_name
from govkit.detect.names import hints_for


@pytest.fixture(scope="module")
def classifier(engine: DetectionEngine) -> ColumnClassifier:
    return ColumnClassifier(engine)


def classify(classifier: ColumnClassifier, column: str, values: Sequence[object], table: str = "t") -> ColumnVerdict:
    return classifier.classify(ColumnSample(table, column, "text", list(values)))


def entities(verdict: ColumnVerdict) -> set[str]:
    return {e.entity_type for e in verdict.entities}


def faker(locale: str, seed: int = 11) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


def chinese_names(locale: str = "zh_CN", n: int = 200) -> list[str]:
    fake = faker(locale)
    return [f"{fake.last_name()}{fake.first_name()}" for _ in range(n)]


# -- Chinese personal names from their values ----------------------------------------------------

#: Cities that start with a character that is also a surname (成, 武, 郑, 金, 黄, 马, 沈 ...).
SURNAME_LIKE_CITIES = ["成都", "武汉", "郑州", "金华", "黄山", "马鞍山", "沈阳", "南宁", "周口", "许昌",
                       "常州", "温州", "徐州", "苏州", "杭州", "邢台", "安庆", "吉林", "高雄", "林芝"]  # fmt: skip
PRODUCTS = ["无线鼠标", "保温杯", "蓝牙耳机", "机械键盘", "雨伞", "王老吉", "李宁跑鞋", "张小泉剪刀", "陈醋",
            "黄酒", "周黑鸭", "刘家香", "马克杯", "金龙鱼", "白酒", "高压锅", "石英表", "方便面", "文具盒",
            "田园沙拉"]  # fmt: skip


@pytest.mark.parametrize("locale", ["zh_CN", "zh_TW"])
def test_chinese_names_are_told_from_their_values(locale: str) -> None:
    assert han_name_share(Counter(chinese_names(locale))) >= 0.8


def test_split_name_knows_compound_surnames() -> None:
    assert split_name("欧阳娜娜") == ("欧阳", "娜娜")
    assert split_name("王伟") == ("王", "伟")
    assert split_name("王府井大街") is None  # five characters
    assert split_name("张家港市") is None  # a place suffix
    assert split_name("Wang Wei") is None


@pytest.mark.parametrize(
    "values",
    [
        [random.Random(i).choice(SURNAME_LIKE_CITIES) for i in range(200)],
        SURNAME_LIKE_CITIES * 10,
        [random.Random(i).choice(PRODUCTS) for i in range(200)],
        [f"{c}市" for c in ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周")] * 20,
        ["王伟", "李娜", "张敏", "刘洋", "陈静"] * 40,  # five names repeated: a category, not people
        [str(faker("zh_CN").city_name()) for _ in range(200)],
        [str(faker("zh_CN").province()) for _ in range(200)],
        [str(faker("zh_CN").word()) for _ in range(200)],
    ],
    ids=["surname-like cities", "cities once each", "products", "x市", "five names", "faker cities",
         "provinces", "words"],
)  # fmt: skip
def test_places_products_and_categories_are_not_chinese_names(values: list[str]) -> None:
    assert han_name_share(Counter(values)) == 0.0


@given(st.lists(st.text(alphabet="北上广深天重西东南京海杭州市区路店房", min_size=2, max_size=3), max_size=60))
def test_values_not_starting_with_a_surname_are_never_names(values: list[str]) -> None:
    if all(v[0] not in SURNAMES for v in values):
        assert han_name_share(Counter(values)) == 0.0


@given(st.lists(st.sampled_from(chinese_names(n=40)), max_size=MIN_DISTINCT * 3))
def test_han_name_share_is_a_share(values: list[str]) -> None:
    share = han_name_share(Counter(values))
    assert 0.0 <= share <= 1.0
    if len(set(values)) < MIN_DISTINCT:
        assert share == 0.0


def test_chinese_names_under_an_unknown_column_name_are_people(classifier: ColumnClassifier) -> None:
    verdict = classify(classifier, "col_b", chinese_names(), table="import_x")
    assert entities(verdict) == {"PERSON"}
    assert verdict.rule == "values look like"


@pytest.mark.parametrize(
    "values",
    [
        [random.Random(i).choice(SURNAME_LIKE_CITIES) for i in range(200)],
        [random.Random(i).choice(PRODUCTS) for i in range(200)],
        [str(faker("zh_CN").city()) for _ in range(200)],
    ],
    ids=["cities", "products", "faker cities"],
)
def test_chinese_places_and_products_are_not_people(classifier: ColumnClassifier, values: list[str]) -> None:
    assert "PERSON" not in entities(classify(classifier, "col_b", values, table="import_x"))


# -- more terms: roles that are people, Dutch, Italian, Japanese ----------------------------------


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("收件人", "PERSON"), ("寄件人", "PERSON"), ("收货人", "PERSON"), ("客户姓名", "PERSON"),
        ("入住人", "PERSON"), ("Empfänger", "PERSON"), ("ansprechpartner", "PERSON"),
        ("destinataire", "PERSON"), ("destinatario", "PERSON"), ("remetente", "PERSON"),
        ("cognome", "PERSON"), ("voornaam", "PERSON"), ("achternaam", "PERSON"), ("氏名", "PERSON"),
        ("住所", "LOCATION"), ("indirizzo", "LOCATION"), ("straat", "LOCATION"), ("woonplaats", "LOCATION"),
        ("città", "LOCATION"), ("geboortedatum", "DATE_TIME"), ("data_di_nascita", "DATE_TIME"),
        ("生年月日", "DATE_TIME"), ("電話番号", "PHONE_NUMBER"), ("telefoonnummer", "PHONE_NUMBER"),
        ("cellulare", "PHONE_NUMBER"), ("メールアドレス", "EMAIL_ADDRESS"), ("rekeningnummer", "IBAN_CODE"),
        ("bankverbindung", "IBAN_CODE"),
    ],
)  # fmt: skip
def test_round2_name_hints(column: str, expected: str) -> None:
    hints = hints_for(column)
    assert hints
    assert hints[0].entity_type == expected
    assert hints[0].strength >= 0.8


def test_role_terms_do_not_fire_inside_other_words() -> None:
    assert not any(h.entity_type == "PERSON" for h in hints_for("sendero_id"))
    assert not any(h.entity_type == "PERSON" for h in hints_for("商品名称"))


def test_japanese_customers(classifier: ColumnClassifier) -> None:
    fake = faker("ja_JP")
    assert entities(classify(classifier, "氏名", [str(fake.name()) for _ in range(150)], table="顧客")) == {"PERSON"}
    addresses = [str(fake.address()) for _ in range(150)]
    assert entities(classify(classifier, "住所", addresses, table="顧客")) == {"LOCATION"}


# -- a weak name term with a word for whose name it is ------------------------------------------


def test_weak_name_term_next_to_a_people_word_is_strong() -> None:
    assert hints_for("nom_eleve")[0].strength == 0.8
    assert hints_for("nombre_cliente")[0].strength >= 0.8
    assert hints_for("nom_produit")[0].strength < 0.5
    assert hints_for("account_name")[0].strength < 0.5  # "Main Savings" is an account's name


def test_bare_surnames_under_a_weak_term_with_a_people_word(classifier: ColumnClassifier) -> None:
    fake = faker("fr_FR")
    verdict = classify(classifier, "nom_eleve", [str(fake.last_name()) for _ in range(200)], table="classe_3e")
    assert entities(verdict) == {"PERSON"}


def test_product_words_under_a_weak_term_stay_unnamed(classifier: ColumnClassifier) -> None:
    products = ["Chaise", "Table", "Lampe", "Tapis", "Miroir", "Coussin", "Bureau", "Étagère"]
    values = [random.Random(i).choice(products) for i in range(200)]
    assert "PERSON" not in entities(classify(classifier, "nom_produit", values, table="catalogue"))


# -- "cell": a phone only when the values validate ----------------------------------------------


def test_cell_tower_ids_are_not_phone_numbers(classifier: ColumnClassifier) -> None:
    rng = random.Random(5)
    values = [f"310-260-{rng.randint(1000, 65535)}-{rng.randint(1, 999)}" for _ in range(200)]
    assert entities(classify(classifier, "cell_id", values, table="cdr")) == set()


def test_a_cell_column_of_valid_numbers_is_a_phone_column(classifier: ColumnClassifier) -> None:
    data = SyntheticData(seed=3)
    values = [data.phone("US") for _ in range(200)]
    assert entities(classify(classifier, "cell", values, table="contacts")) == {"PHONE_NUMBER"}
