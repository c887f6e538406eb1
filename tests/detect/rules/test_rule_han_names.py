"""Rule ``han-names``."""

from __future__ import annotations

from govkit.detect.columns import ColumnClassifier, ColumnSample
from tests.detect.rules.conftest import fake, found_by

HAN_NAMES = [fake("zh_CN", seed=i).name() for i in range(80)]
HAN_WORDS = ["苹果", "香蕉", "电脑", "手机", "桌子", "椅子", "书包", "铅笔", "水杯", "雨伞"] * 8


def test_chinese_names_by_their_form(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("t", "xm2", "text", HAN_NAMES))
    assert found_by(verdict) == {"PERSON": "han-names"}


def test_chinese_words_are_not_names(classifier: ColumnClassifier) -> None:
    assert classifier.classify(ColumnSample("t", "xm2", "text", HAN_WORDS)).entities == []
