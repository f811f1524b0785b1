"""decode_html: BOM, then the HTTP header, then <meta>, then detection (WHATWG order)."""

from __future__ import annotations

import codecs

import pytest

from scraper.encoding import decode_html, normalize_label, sniff_meta_charset, wide_encoding

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
