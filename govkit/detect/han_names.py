"""Chinese personal names told from their values alone.

The English NER model cannot read ``张伟`` or ``欧阳娜娜``, and Chinese schemas name the
column after the role (收件人, 入住人, 持卡人, 负责人 ...), not after "name", so a column
of Chinese names under a term the lexicon lacks went unreported. Chinese names have a form
that random Chinese text does not: two to four Han characters, the first one (or two) a
surname from a short, very unevenly used list. A few surnames (王, 李, 张, 刘, 陈 ...)
carry a large share of any list of people, which is what sets names apart from city
names, product names, room types or statuses that happen to start with a surname
character. So a column is called names only when

* most values (80%) are surname + one or two characters (two or three after a compound
  surname), none ending in a place or shop suffix (市, 县, 路, 店 ...);
* the values are many and varied (not a category column: 已支付, 待发货 ...);
* the ten commonest surnames start at least a fifth of them, and the surnames repeat
  far more than the given names do.
"""

from __future__ import annotations

import re
from collections import Counter

#: Common surnames, simplified and traditional (about 300: they cover over 95% of people).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万"
    "钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包"
    "宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳"
    "时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇"
    "栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚"
    "皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容"
    "敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公湛宾戎勾茅"
    "利於居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    "陳張黃劉楊趙吳許鄭謝葉蕭賴羅呂蔣鍾蘇莊盧顏孫鄧馬溫藍紀連馮歐湯鄒龔嚴韓陸錢譚駱顧萬粘"
)
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
     "夏侯", "轩辕", "令狐", "端木", "歐陽", "司馬", "諸葛", "長孫"}
)  # fmt: skip
#: The commonest surnames: in any list of Chinese people they start a large share of names.
TOP_SURNAMES = frozenset("王李张刘陈杨黄赵吴周陳張黃劉楊趙吳")

#: Last characters of places, shops, rooms and things, never of a given name in practice.
_NOT_GIVEN_NAME_END = frozenset("市省县区镇乡村路街道巷号店馆院楼房厅室州湾岛山河湖港站场园庄寺桥门")

_HAN = re.compile(r"^[\u4e00-\u9fff]{2,4}$")

#: Thresholds (see the module docstring).
MIN_SHARE = 0.8
MIN_DISTINCT = 8
MIN_DISTINCT_RATIO = 0.3
MIN_TOP_SHARE = 0.2


def split_name(value: str) -> tuple[str, str] | None:
    """(surname, given name) when ``value`` has the form of a Chinese personal name."""
    text = value.strip().replace("\u00b7", "")
    if not _HAN.match(text) or text[-1] in _NOT_GIVEN_NAME_END:
        return None
    if text[:2] in COMPOUND_SURNAMES and 3 <= len(text) <= 4:
        return text[:2], text[2:]
    if text[0] in SURNAMES and 2 <= len(text) <= 3:
        return text[0], text[1:]
    return None


def han_name_share(texts: Counter[str]) -> float:
    """Share of the values that are Chinese personal names, judged as a column; 0.0 where
    the column as a whole does not read as a list of people (see the module docstring)."""
    n = sum(texts.values())
    if not n or len(texts) < MIN_DISTINCT or len(texts) / n < MIN_DISTINCT_RATIO:
        return 0.0
    surnames: Counter[str] = Counter()
    given: set[str] = set()
    for value, count in texts.items():
        parts = split_name(value)
        if parts is not None:
            surnames[parts[0]] += count
            given.add(parts[1])
    named = sum(surnames.values())
    share = named / n
    if share < MIN_SHARE:
        return 0.0
    top = sum(c for s, c in surnames.items() if s in TOP_SURNAMES)
    # Surnames repeat: fewer distinct surnames than distinct given names.
    if top / named < MIN_TOP_SHARE or len(surnames) >= len(given):
        return 0.0
    return share
