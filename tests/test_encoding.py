"""decode_html: BOM, then the HTTP header, then <meta>, then detection (WHATWG order)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from scraper.encoding import (
    decode_html,
    normalize_label,
    repair_double_utf8,
    sniff_meta_charset,
    wide_encoding,
)
from scraper.extract import extract

GBK_ONLY = "朱镕基"  # 镕 is in GBK (and GB18030) but not in GB2312
ZH_TEXT = (
    "<p>朱镕基总理今天在北京会见了来访的外国客人，双方就经济合作问题深入交换了意见。"
    "会谈在友好的气氛中进行。</p>"
)
FR_TEXT = (
    "<p>Le café était très crème, à Besançon où l'été dure. "
    "Ça coûte cher — naïve façade, élève déjà prêt.</p>"
)
DE_TEXT = "<p>Die Straße für Grüße ist schön und größer als gedacht. Das Mädchen läuft über die Brücke.</p>"
RU_TEXT = (
    "<p>Президент России сегодня провёл встречу с министрами, обсуждались вопросы экономики и бюджета.</p>"
)


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>t</title></head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("bom", "codec", "name"),
    [(codecs.BOM_UTF8, "utf-8", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
     (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be")],
)  # fmt: skip
def test_bom_wins_over_everything(bom: bytes, codec: str, name: str) -> None:
    raw = bom + page(FR_TEXT, '<meta charset="iso-8859-1">').encode(codec)
    text, used = decode_html(raw, "windows-1251")
    assert used == name
    assert "très crème" in text
    assert not text.startswith("\ufeff")


def test_header_wins_over_meta() -> None:
    raw = page(FR_TEXT, '<meta charset="utf-8">').encode("cp1252")
    text, used = decode_html(raw, "windows-1252")
    assert used == "cp1252"
    assert "très crème" in text


def test_header_that_does_not_fit_falls_through_to_meta() -> None:
    # The header claims UTF-8, but the bytes are GBK and say so in <meta>.
    raw = page(ZH_TEXT, '<meta charset="gbk">').encode("gbk")
    text, used = decode_html(raw, "utf-8")
    assert used == "gb18030"
    assert GBK_ONLY in text


@pytest.mark.parametrize("label", ["gb2312", "GB2312", "gbk", "x-gbk", "csgb2312"])
def test_gb2312_meta_reads_as_gb18030(label: str) -> None:
    raw = page(ZH_TEXT, f'<meta http-equiv="Content-Type" content="text/html; charset={label}">').encode(
        "gbk"
    )
    text, used = decode_html(raw)
    assert used == "gb18030"
    assert GBK_ONLY in text
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")  # why the superset matters: strict GB2312 cannot read the page


def test_gb2312_header_reads_as_gb18030() -> None:
    text, used = decode_html(page(ZH_TEXT).encode("gbk"), "gb2312")
    assert used == "gb18030"
    assert GBK_ONLY in text


def test_undeclared_utf8() -> None:
    text, used = decode_html(page(ZH_TEXT + FR_TEXT).encode("utf-8"))
    assert used == "utf-8"
    assert GBK_ONLY in text
    assert "très" in text


@pytest.mark.parametrize(
    ("body", "codec", "expected", "snippet"),
    [
        (FR_TEXT, "cp1252", "cp1252", "très crème, à Besançon"),
        (DE_TEXT, "cp1252", "cp1252", "Straße für Grüße"),
        (ZH_TEXT, "gbk", "gb18030", GBK_ONLY),
        (RU_TEXT, "cp1251", "cp1251", "Президент России"),
    ],
)
def test_undeclared_legacy_encodings_are_detected(body: str, codec: str, expected: str, snippet: str) -> None:
    text, used = decode_html(page(body).encode(codec))
    assert used == expected
    assert snippet in text


def test_unknown_labels_are_ignored() -> None:
    raw = page(FR_TEXT, '<meta charset="no-such-charset">').encode("utf-8")
    assert decode_html(raw, "also-bogus") == (raw.decode("utf-8"), "utf-8")


def test_xml_declaration_counts_as_a_declaration() -> None:
    raw = ('<?xml version="1.0" encoding="windows-1251"?>' + page(RU_TEXT)).encode("cp1251")
    assert sniff_meta_charset(raw) == "cp1251"
    assert "Президент" in decode_html(raw)[0]


@pytest.mark.parametrize(
    ("label", "name"),
    [("utf-8", "utf-8"), ("UTF8", "utf-8"), ("latin1", "cp1252"), ("iso-8859-1", "cp1252"),
     ("ascii", "cp1252"), ("gb2312", "gb18030"), ("shift_jis", "cp932"), ("euc-kr", "cp949"),
     ("utf-16", "utf-8"), ("nonsense", None), (None, None), ('"utf-8"', "utf-8")],
)  # fmt: skip
def test_normalize_label(label: str | None, name: str | None) -> None:
    assert normalize_label(label) == name


@pytest.mark.parametrize(
    ("codec", "label"),
    [("utf-16-be", "utf-16be"), ("utf-16-le", "utf-16le"), ("utf-16-be", "utf-16"), ("utf-16-le", "utf-16"),
     ("utf-32-be", "utf-32be"), ("utf-32-le", "utf-32")],
)  # fmt: skip
def test_utf16_and_utf32_in_the_header_without_bom(codec: str, label: str) -> None:
    raw = page(FR_TEXT).encode(codec)
    text, used = decode_html(raw, label)
    assert used == codec
    assert "très crème" in text
    assert wide_encoding(raw, label) == codec


@pytest.mark.parametrize("bom_codec", ["utf-32-le", "utf-32-be"])
def test_utf32_bom(bom_codec: str) -> None:
    raw = "\ufeff".encode(bom_codec) + page(FR_TEXT).encode(bom_codec)
    text, used = decode_html(raw)
    assert used == bom_codec
    assert text.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("tail", [b"", b"\xd8"])
def test_header_utf16_over_a_utf8_body_is_ignored(tail: bytes) -> None:
    # Even-length UTF-8 decodes as UTF-16 (into CJK-looking nonsense); a body without a 0x00 byte
    # cannot be UTF-16 HTML, whatever the header says.
    raw = page(FR_TEXT).encode("utf-8") + tail
    assert wide_encoding(raw, "utf-16be") is None
    text, used = decode_html(raw, "utf-16be")
    assert used == "utf-8"
    assert "très crème" in text


def test_meta_utf16_is_still_read_as_utf8() -> None:
    # A <meta> cannot declare UTF-16: the page was read as ASCII-compatible bytes to find it.
    raw = page(FR_TEXT, '<meta charset="utf-16">').encode("utf-8")
    assert wide_encoding(raw, None) is None
    assert decode_html(raw) == (raw.decode("utf-8"), "utf-8")


def test_header_utf16_that_does_not_decode_falls_through() -> None:
    raw = page(FR_TEXT).encode("utf-16-be")[:-1]  # a byte short: not UTF-16 any more
    assert wide_encoding(raw, "utf-16be") == "utf-16-be"
    _, used = decode_html(raw, "utf-16be")
    assert used != "utf-16-be"


# Faithful reductions of undeclared legacy pages --------------------------------------------------------
# A news page of a few KB: ASCII markup, scripts and links around a short article, with no BOM,
# no header and no <meta> charset. Old CMSes cut multi-byte characters in half when they truncate
# teasers, so the second variant of each page has one such cut (the zol.com.cn page below has two).

ZOL_PAGE = Path(__file__).parent / "fixtures" / "pages" / "zol-bbs-gbk-undeclared" / "page.html"
NEWS_TEXT = {
    "zh": "新华社北京6月29日电 记者从国家统计局获悉，"
    "今年前五个月，全国规模以上工业企业实现利润总额同比增长百分之八点三。"
    "统计局工业司高级统计师表示，五月份工业生产继续恢复，企业利润较快增长，其中装备制造业利润增长明显。"
    "专家认为，随着稳增长政策持续发力，市场需求逐步回暖，企业经营状况有望进一步改善。",
    "zh-tw": "中央社記者台北二十九日電 行政院今天召開記者會，說明明年度總預算編列情形。"
    "主計總處表示，明年度歲出規模約二兆八千億元，較今年增加百分之三點五，其中社會福利、教育科學文化與國防支出占比最高。"
    "官員指出，政府將持續推動產業升級與公共建設，預算案將於下週送立法院審議。",
    "ja": "東京都は二十九日、新型コロナウイルスの感染者が新たに確認されたと発表した。"
    "都の担当者によると、感染者の多くは二十代から三十代の若い世代で、飲食店での会食を通じて感染が広がったとみられる。"
    "都は引き続き、手洗いやマスクの着用など基本的な感染対策を徹底するよう呼びかけている。",
    "ko": "서울시는 이십구일 올해 상반기 대중교통 이용객이 지난해보다 크게 늘었다고 밝혔다. "
    "시 관계자는 지하철과 버스 이용객이 모두 증가했으며 특히 출퇴근 시간대 혼잡도가 높아졌다고 설명했다. "
    "서울시는 혼잡 완화를 위해 배차 간격을 줄이고 노선을 조정하는 방안을 검토하고 있다.",
    "ru": "Правительство России в понедельник утвердило план мероприятий "
    "по поддержке малого и среднего бизнеса. "
    "Как сообщили в пресс-службе кабинета министров, документ предусматривает снижение налоговой нагрузки, "
    "льготные кредиты и упрощение отчётности для предпринимателей в регионах.",
    "fr": "Le gouvernement a présenté mercredi un projet de loi visant à réduire "
    "la consommation d'énergie des "
    "bâtiments publics. Selon le ministère, les collectivités devront rénover leurs écoles et leurs hôpitaux "
    "d'ici à 2030, une échéance jugée trop courte par plusieurs élus. « Ça coûte cher », a déclaré un maire.",
}
NAV = "".join(
    f'<li class="nav-item"><a href="/section/{i}/index.html" class="nav-link">{word}</a></li>'
    for i, word in enumerate(["Home", "News", "World", "Business", "Tech", "Sports", "Video"])
)
SCRIPT = (
    "<script type=\"text/javascript\">var _hmt=_hmt||[];(function(){var hm=document.createElement('script');"
    "hm.src='//hm.example.com/hm.js?0123456789abcdef';var s=document.getElementsByTagName('script')[0];"
    "s.parentNode.insertBefore(hm,s);})();window.adConfig={slot:'top-banner',size:[728,90],lazy:true};</script>"
)


def news_page(text: str, head: str = "") -> str:
    """A markup-heavy news page around one short article, with a teaser of it in a related-links box."""
    return (
        f"<!DOCTYPE html>\n<html><head>{head}<title>{text[:20]}</title>\n"
        '<style type="text/css">body{margin:0;font:14px/1.6 Arial}.nav{background:#c00}</style>\n'
        f'{SCRIPT}</head>\n<body><div id="top" class="nav"><ul>{NAV}</ul></div>\n{SCRIPT}\n'
        f'<div class="article"><h1>{text[:20]}</h1><div class="info">2021-06-29 10:23</div>\n'
        f'<div class="content"><p>{text}</p></div></div>\n'
        f'<div class="related"><ul><li><a href="/a/1.html">{text[:40]}</a></li></ul></div>\n'
        f'<div class="footer"><ul>{NAV}</ul><p>Copyright 2021 example.com</p></div>\n{SCRIPT}</body></html>\n'
    )


def cut_teaser(raw: bytes) -> bytes:
    """The page with the last byte of its teaser dropped: a multi-byte character cut in half."""
    end = raw.index(b'</a></li></ul></div>\n<div class="footer"')
    return raw[: end - 1] + raw[end:]


@pytest.mark.parametrize(
    ("lang", "codec", "expected"),
    [
        ("zh", "gbk", "gb18030"),
        ("zh-tw", "big5", "big5hkscs"),
        ("ja", "shift_jis", "cp932"),
        ("ko", "euc_kr", "cp949"),
        ("zh", "utf-8", "utf-8"),
        ("ru", "utf-8", "utf-8"),
    ],
)
def test_undeclared_multibyte_page_with_a_cut_character(lang: str, codec: str, expected: str) -> None:
    text, used = decode_html(cut_teaser(news_page(NEWS_TEXT[lang]).encode(codec)))
    assert used == expected
    assert NEWS_TEXT[lang] in text


def test_the_zol_page_without_a_declaration_is_gbk() -> None:
    text, used = decode_html(ZOL_PAGE.read_bytes())
    assert used == "gb18030"
    assert "《太行山上》主要讲述八路军总司令朱德率领刚刚改编完的八路军三个主力师东渡黄河" in text
    assert text.count("\ufffd") == 2  # the two bytes that are not GBK, and nothing else


@pytest.mark.parametrize("label", ["iso-8859-1", "windows-1251", "gb2312"])
def test_utf8_bytes_beat_a_stale_legacy_label(label: str) -> None:
    raw = news_page(NEWS_TEXT["fr"] + NEWS_TEXT["ru"], f'<meta charset="{label}">').encode("utf-8")
    for body in (raw, raw.replace("à".encode(), "à".encode()[:1], 1)):  # clean, and with one cut character
        text, used = decode_html(body)
        assert used == "utf-8"
        assert NEWS_TEXT["ru"] in text


def test_a_label_that_leaves_bad_bytes_is_weighed_against_detection() -> None:
    # Labelled Big5, but the bytes are GBK: Big5 leaves a handful of bad characters among mojibake.
    text, used = decode_html(news_page(NEWS_TEXT["zh"], '<meta charset="big5">').encode("gbk"))
    assert (used, NEWS_TEXT["zh"] in text) == ("gb18030", True)
    # A right label over a cut character keeps its word, though GBK reads those bytes too.
    raw = cut_teaser(news_page(NEWS_TEXT["ko"], '<meta charset="euc-kr">').encode("euc_kr"))
    text, used = decode_html(raw)
    assert (used, NEWS_TEXT["ko"] in text) == ("cp949", True)


def _double_encoded(text: str, codec: str) -> str:
    """What a CMS that read UTF-8 bytes as `codec` and wrote them back as UTF-8 stores.

    Bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D: "”" ends in 0x9D) pass through
    as their Latin-1 characters, as MySQL's latin1 does.
    """
    return "".join(chr(b) if codec == "latin-1" else _cp1252_char(b) for b in text.encode("utf-8"))


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_double_encoded_utf8_is_repaired(codec: str) -> None:
    # Python's docs in wcxb-dev (dev_0666): "itertools â\x80\x94 Functions"; cp1252 gives "â€”".
    text = "itertools — Functions. It’s a café, “quoted”, 中文 and 😀."
    assert repair_double_utf8(_double_encoded(text, codec)) == text


def test_a_run_takes_only_the_bytes_its_lead_byte_needs() -> None:
    # "Ã©" then a real "®": the run regex sees three characters, the repair uses two.
    assert repair_double_utf8("cafÃ©® and Ã© and Ã¨") == "café® and é and è"


@pytest.mark.parametrize(
    "text",
    [
        "Ça va? Très bien, à bientôt. Ärger über Öl. São Paulo, Ñandú, Âme.",  # real Latin text
        "One quoted example of mojibake: CafÃ© and Ã¨.",  # two runs: below MOJIBAKE_MIN_RUNS
        "Ã© Ã¨ but Ã then nothing valid: Ã\u00ff",
    ],
)
def test_text_that_is_not_double_encoded_is_left_alone(text: str) -> None:
    assert repair_double_utf8(text) == text


def test_extract_repairs_a_double_encoded_page_from_bytes_and_from_text() -> None:
    body = "<p>" + "It’s the café’s “best” day — again. " * 8 + "</p>"
    head = "<title>A DIY Investor’s Guide</title>"
    page = f"<html><head>{head}</head><body><h1>A DIY Investor’s Guide</h1>{body}</body></html>"
    broken = _double_encoded(page, "cp1252")
    for given in (broken, broken.encode("utf-8")):
        article = extract(given, url="https://example.com/guide/")
        assert article.title == "A DIY Investor’s Guide"
        assert "It’s the café’s “best” day — again." in article.text
        assert "â€" not in article.text
