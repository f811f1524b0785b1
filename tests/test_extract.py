"""extract() on saved pages (tests/fixtures/pages/<slug>/), plus unit tests of the metadata step."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from scraper import pipeline
from scraper.config import Config, FetchConfig, Rules, StorageConfig
from scraper.extract import extract
from scraper.extract.dates import find_text_dates, parse_iso, parse_url_date, published_in_line
from scraper.extract.metadata import Metadata, extract_metadata
from scraper.extract.parse import parse_html
from scraper.extract.titles import clean_title
from tests.backends import query_rows

PAGES = Path(__file__).parent / "fixtures" / "pages"
CASES = sorted(p for p in PAGES.iterdir() if (p / "expected.json").is_file())


def _norm(text: str | None) -> str:
    """Whitespace-normalised NFKC text, as the snippet tests of the trafilatura evaluation compare it."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def _meta(
    html: str, url: str | None = "https://example.com/news/a.html", rules: Rules | None = None
) -> Metadata:
    tree = parse_html(html)
    assert tree is not None
    return extract_metadata(tree, url, rules or Rules())


@pytest.fixture(params=CASES, ids=[p.name for p in CASES])
def case(request: pytest.FixtureRequest) -> tuple[dict, object]:
    folder: Path = request.param
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    article = extract((folder / "page.html").read_bytes(), expected["url"])
    return expected, article


# Saved pages ---------------------------------------------------------------------------------------


def test_there_are_enough_fixture_pages():
    origins = [json.loads((p / "expected.json").read_text(encoding="utf-8"))["origin"] for p in CASES]
    assert len([o for o in origins if not o.startswith("reconstruction")]) >= 12


def test_page_title(case):
    expected, article = case
    assert _norm(article.title) == _norm(expected["title"])


def test_page_date(case):
    expected, article = case
    assert article.published is not None
    assert article.published.isoformat()[:10] == expected["date"]


def test_page_author(case):
    expected, article = case
    if expected.get("author"):
        assert _norm(article.author or "") == _norm(expected["author"])


def test_page_language(case):
    expected, article = case
    if expected.get("language"):
        assert article.language == expected["language"]


def test_page_keeps_main_text(case):
    expected, article = case
    text = _norm(article.text)
    missing = [s for s in expected["must_contain"] if _norm(s) not in text]
    assert not missing


def test_page_drops_boilerplate(case):
    expected, article = case
    text = _norm(article.text)
    present = [s for s in expected["must_not_contain"] if _norm(s) in text]
    assert not present


def test_page_source_line(case):
    expected, article = case
    if "source" in expected:
        assert article.source == expected["source"]


def test_bjreview_text_is_exactly_the_six_paragraphs():
    folder = PAGES / "bjreview-century"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    article = extract((folder / "page.html").read_bytes(), expected["url"])
    assert article.text == expected["text"]
    assert article.text.count("\n\n") == 5
    assert article.source == "NO.26 JULY 1, 2021"
    assert article.published == dt.date(2021, 6, 29)


# Dates ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "day"),
    [
        ("2021-06-29", None, "2021-06-29"),
        ("June 29, 2021", "en", "2021-06-29"),
        ("Jun. 29 2021", "en", "2021-06-29"),
        ("29 June 2021", "en", "2021-06-29"),
        ("2021年6月29日", "zh", "2021-06-29"),
        ("2021年06月29日 10:23", "zh", "2021-06-29"),
        ("发布时间：2021-06-29", "zh", "2021-06-29"),
        ("29.06.2021", "de", "2021-06-29"),
        ("29. Juni 2021", "de", "2021-06-29"),
        ("1er juillet 2021", "fr", "2021-07-01"),
        ("29 de junio de 2021", "es", "2021-06-29"),
        ("06/29/2021", "en", "2021-06-29"),
        ("05/06/2021", "en", "2021-05-06"),
        ("05/06/2021", "fr", "2021-06-05"),
        ("Posted on 2021/6/9 by admin", "en", "2021-06-09"),
        ("2023 Jan 7", "en", "2023-01-07"),
    ],
)
def test_text_date_formats(text, lang, day):
    found = find_text_dates(text, lang)
    assert found
    assert found[0][1].isoformat() == day


@pytest.mark.parametrize("text", ["no date here", "1999-13-45", "ISBN 978-3-16-148410-0", "call 555-1234"])
def test_text_without_a_real_date(text):
    assert find_text_dates(text) == []


@pytest.mark.parametrize(
    ("line", "day"),
    [
        ("· 2021-06-29 · Source: NO.26 JULY 1, 2021", dt.date(2021, 6, 29)),
        ("Source: NO.26 JULY 1, 2021", None),
        ("Copyright © 2021-2023 Example Media", None),
        ("Updated: 2021-07-02 Published: 2021-06-29", dt.date(2021, 6, 29)),
        ("来源：新华社 2021年06月29日 10:23", None),
    ],
)
def test_published_in_line_skips_issue_copyright_and_updated(line, day):
    assert published_in_line(line, "en") == day


def test_iso_timestamp_keeps_the_page_offset():
    value = parse_iso("2021-06-29T23:10:00-05:00")
    assert isinstance(value, dt.datetime)
    assert value.utcoffset() == dt.timedelta(hours=-5)
    assert value.date() == dt.date(2021, 6, 29)


def test_iso_timestamp_without_offset_is_a_day():
    assert parse_iso("2021-06-29T10:23:00") == dt.date(2021, 6, 29)


@pytest.mark.parametrize(
    ("url", "day"),
    [
        ("http://www.bjreview.com.cn/Opinion/Voice/202106/t20210629_800251027.html", dt.date(2021, 6, 29)),
        ("https://example.com/2021/06/29/some-story/", dt.date(2021, 6, 29)),
        ("https://example.com/news/20210629/a.html", dt.date(2021, 6, 29)),
        ("https://example.com/2021-06-29-slug", dt.date(2021, 6, 29)),
        ("https://weisser-ring.example/meldungen/29-10-2021", dt.date(2021, 10, 29)),
        ("https://example.com/2021/06/slug", None),
        ("https://example.com/p/123456789012", None),
    ],
)
def test_url_dates(url, day):
    assert parse_url_date(url) == day


def test_published_prefers_json_ld_over_updated_meta():
    html = """<html><head>
    <meta property="article:modified_time" content="2022-01-01T00:00:00Z">
    <script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "Example"},
      {"@type": ["NewsArticle"], "headline": "A headline", "datePublished": "2021-06-29T08:00:00+08:00",
       "dateModified": "2022-01-01",
       "author": [{"@type": "Person", "name": "Jane Doe"}, {"name": "Li Wei"}]}]}
    </script></head><body><h1>A headline</h1></body></html>"""
    meta = _meta(html)
    assert isinstance(meta.published, dt.datetime)
    assert meta.published.isoformat() == "2021-06-29T08:00:00+08:00"
    assert meta.author == "Jane Doe, Li Wei"
    assert meta.title == "A headline"
    assert meta.site_name == "Example"


def test_time_element_marked_updated_is_skipped():
    html = """<html><body><article><h1>T</h1>
    <p>Updated <time datetime="2021-07-05">July 5</time></p>
    <p class="byline">Published <time datetime="2021-06-29">June 29</time></p>
    </article></body></html>"""
    assert _meta(html, None).published == dt.date(2021, 6, 29)


def test_date_in_comments_is_not_the_article_date():
    html = """<html><body><h1>T</h1><div class="post-meta">Posted June 29, 2021</div>
    <div class="comments"><time datetime="2021-08-01">Aug 1</time></div></body></html>"""
    assert _meta(html, None).published == dt.date(2021, 6, 29)


def test_chinese_date_line():
    html = """<html><body><h1>标题</h1><div class="info">发布时间：2021年06月29日 10:23 来源：新华社</div>
    <p>正文</p></body></html>"""
    meta = _meta(html, None)
    assert meta.published == dt.date(2021, 6, 29)
    assert meta.source == "新华社"
    assert meta.language == "zh"


# Titles -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "names", "host", "title"),
    [
        ("A century of international exchanges - Beijing Review", ("Beijing Review",), "", None),
        ("Headline | The Example Times", ("The Example Times",), "", "Headline"),
        ("The Example Times » Headline", ("The Example Times",), "", "Headline"),
        (
            "武汉的声音：有英勇的你，才有英雄的城！_新华网",
            ("新华网",),
            "",
            "武汉的声音：有英勇的你，才有英雄的城！",
        ),
        ("Story title — Example", (), "www.example.com", "Story title"),
        ("Spider-Man returns - Example", (), "example.com", "Spider-Man returns"),
        ("No separators at all", (), "example.com", "No separators at all"),
    ],
)
def test_clean_title(raw, names, host, title):
    expected = title or "A century of international exchanges"
    assert clean_title(raw, names, host) == expected


def test_title_prefers_the_h1_that_matches_the_cleaned_title():
    html = """<html><head>
    <title>Four Years Remaining » Blog Archive » Interning of Small Integers</title></head>
    <body><div id="header"><h1><a href="http://fouryears.eu">Four Years Remaining</a></h1></div>
    <h2>Interning of Small Integers</h2></body></html>"""
    assert _meta(html, "http://fouryears.eu/2019/10/21/interning/").title == "Interning of Small Integers"


def test_title_from_og_without_site_name():
    html = """<html><head><meta property="og:site_name" content="AOC media">
    <meta property="og:title" content="Pour le néolibéralisme | AOC media"><title>x</title></head>
    <body><h1 class="logo">Opinion</h1></body></html>"""
    assert _meta(html).title == "Pour le néolibéralisme"


def test_rules_selectors_win():
    html = """<html><head><title>Wrong - Site</title></head><body><h1>Wrong</h1>
    <div class="hed">Right title</div><span class="when">2020-02-03</span><span class="who">Ann Lee</span>
    <span class="from">Source: Reuters</span></body></html>"""
    rules = Rules(title=".hed", date=".when", author=".who", source=".from")
    meta = _meta(html, rules=rules)
    assert (meta.title, meta.published, meta.author, meta.source) == (
        "Right title",
        dt.date(2020, 2, 3),
        "Ann Lee",
        "Reuters",
    )


# Authors, canonical URL, the rest ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "body", "author"),
    [
        ('<meta name="author" content="Jane Doe">', "", "Jane Doe"),
        (
            '<meta property="article:author" content="https://facebook.com/jane">',
            '<p class="byline">By Jane Doe</p>',
            "Jane Doe",
        ),
        (
            '<script type="application/ld+json">{"@type": "BlogPosting", "author": "Jane Doe"}</script>',
            "",
            "Jane Doe",
        ),
        (
            '<script type="application/ld+json">'
            '{"@type": "Article", "author": {"@type": "Person", "name": "Jane"}}'
            "</script>",
            "",
            "Jane",
        ),
        ("", '<span class="author">作者：张三</span>', "张三"),
        ("", "<p>By Jane Doe</p>", "Jane Doe"),
        ("", "<p>记者 李四 报道</p>", "李四"),
        ("", "<p>记者走访发现</p>", None),
    ],
)
def test_author_forms(head, body, author):
    html = f"<html><head>{head}</head><body><h1>T</h1>{body}</body></html>"
    assert _meta(html).author == author


@pytest.mark.parametrize(
    ("link", "url", "canonical"),
    [
        (
            '<link rel="canonical" href="/news/a.html">',
            "https://example.com/news/a.html?utm_source=x",
            "https://example.com/news/a.html",
        ),
        ('<link rel="canonical" href="/">', "https://example.com/news/a.html", None),
        ('<link rel="canonical" href="https://other.example.org/">', "https://example.com/news/a.html", None),
        (
            '<meta property="og:url" content="https://example.com/news/b.html">',
            None,
            "https://example.com/news/b.html",
        ),
        ('<link rel="Canonical" href="javascript:void(0)">', "https://example.com/a", None),
    ],
)
def test_canonical_url(link, url, canonical):
    html = f"<html><head>{link}</head><body><h1>T</h1></body></html>"
    assert _meta(html, url).canonical_url == canonical


def test_section_language_description_and_site_name():
    html = """<html lang="de-AT"><head><meta property="og:site_name" content="Beispiel">
    <meta name="description" content="Kurz &amp; gut"></head><body>
    <nav class="breadcrumb"><a href="/">Start</a> &gt; <a href="/sport/">Sport</a>
    &gt; <a href="#">Titel</a></nav>
    <h1>Titel</h1></body></html>"""
    meta = _meta(html)
    assert (meta.section, meta.language, meta.description, meta.site_name) == (
        "Sport",
        "de",
        "Kurz & gut",
        "Beispiel",
    )


def test_metadata_does_not_change_the_tree():
    html = (PAGES / "bjreview-century" / "page.html").read_text(encoding="utf-8")
    tree = parse_html(html)
    before = lxml.html.tostring(tree)
    extract_metadata(tree, None, Rules())
    assert lxml.html.tostring(tree) == before


def test_broken_json_ld_is_ignored():
    html = """<html><head><script type="application/ld+json">{"@type": "Article", "headline": </script>
    <title>Real title - Site</title></head><body><h1>Real title</h1></body></html>"""
    assert _meta(html).title == "Real title"


# Dates printed under the headline, script data, titles and Chinese bylines ----------------------------


def test_updated_day_under_headline_beats_older_published_meta():
    html = """<html><head>
    <meta property="article:published_time" content="2015-04-06T10:00:00Z">
    <meta property="article:modified_time" content="2025-09-28T10:00:00Z"></head>
    <body><h1>Digital marketing</h1><p class="byline">Updated September 28, 2025</p>
    <p>Body text.</p></body></html>"""
    assert _meta(html).published == dt.date(2025, 9, 28)


def test_printed_day_that_no_metadata_names_does_not_override_it():
    html = """<html><head>
    <meta property="article:published_time" content="2015-04-06"></head>
    <body><h1>Digital marketing</h1><p>Event on March 3, 2024</p></body></html>"""
    assert _meta(html).published == dt.date(2015, 4, 6)


def test_date_under_headline_only_counts_in_short_lines():
    teaser = "Der Termin steht fest: Am 21. und 22. Mai 2022 wird sich im IGA Park in Rostock "
    teaser += "alles ums Angeln drehen."
    html = f"<html><body><h1>Fishing Show</h1><p>{teaser}</p><p>11.01.2022, 09:50 Uhr</p></body></html>"
    assert _meta(html, None).published == dt.date(2022, 1, 11)


def test_date_from_framework_script_data():
    html = """<html><head><script id="__NEXT_DATA__" type="application/json">
    {"props": {"post": {"title": "T", "publishedAt": "2024-10-04T12:00:00Z"}}}</script></head>
    <body><h2>T</h2><p>No printed date.</p></body></html>"""
    assert _meta(html, None).published.isoformat()[:10] == "2024-10-04"


def test_heading_permalink_mark_and_escaped_entities_are_dropped():
    html = """<html><head><title>Quickstart — Flask Documentation</title></head>
    <body><h1>Quickstart<a class="headerlink" href="#q">¶</a></h1></body></html>"""
    assert _meta(html).title == "Quickstart"
    html = """<html><head><title>Tools | Python, SQL &amp;#x26; AI | Site</title></head>
    <body><h1>Tools | Python, SQL &amp;#x26; AI</h1></body></html>"""
    assert _meta(html).title == "Tools | Python, SQL & AI"


def test_lone_h1_partly_agreeing_with_title_is_the_headline():
    html = """<html><head><title>Wein dekantieren: Alles Wissenswerte zusammengefasst</title></head>
    <body><h1>Wein dekantieren: Alles Wissenswerte rund um einen besonderen Schritt</h1></body></html>"""
    assert _meta(html).title == "Wein dekantieren: Alles Wissenswerte rund um einen besonderen Schritt"


def test_lone_h1_unrelated_to_title_is_not_the_headline():
    html = """<html><head><title>Privacy policy and cookies</title></head>
    <body><h1>Welcome to our shop</h1></body></html>"""
    assert _meta(html).title == "Privacy policy and cookies"


@pytest.mark.parametrize(
    ("paragraph", "author"),
    [
        ("<p>来源：新闻晨报</p><p>编辑：山石</p>", "山石"),
        ("<p>光明日报记者 王建宏 张文攀</p>", "王建宏 张文攀"),
        (
            "<p>所有的改革难道不都是利益再分配的过程吗？这是他的看法。（姚峰 上海报道）</p>",
            "姚峰",
        ),
        (
            "<p>推动云南工业高质量发展，建立高效清洁低碳循环的绿色制造体系。（记者 胡晓蓉）</p>",
            "胡晓蓉",
        ),
    ],
)
def test_chinese_bylines_and_signoffs(paragraph, author):
    html = f"<html lang='zh'><body><h1>标题</h1><p>正文第一段。</p>{paragraph}</body></html>"
    assert _meta(html).author == author


def test_the_extract_contract_is_reachable_by_every_spelling():
    """scraper.extract is the subpackage; its extract() is the contract other code names."""
    import importlib

    import scraper
    import scraper.extract.content

    assert scraper.extract.extract is importlib.import_module("scraper.extract").extract
    assert callable(scraper.extract.content.extract_content)


# A page that is only a menu -------------------------------------------------------------------------

MENU = PAGES / "nav-only-menu" / "page.html"


def test_a_page_that_is_only_a_menu_is_a_listing():
    article = extract(MENU.read_bytes(), "https://news.example/")
    assert article.page_kind == "listing"
    assert article.title == "Home"


def ingest_one(url: str, db_target: str, tmp_path: Path) -> Any:
    """pipeline.ingest of one URL on either backend (the archive in tmp_path, as PostgreSQL needs)."""
    storage = StorageConfig(path=db_target, archive_dir=str(tmp_path / "warc"))
    return pipeline.ingest([url], Config(storage=storage, fetch=FetchConfig(allow_private_addresses=True)))


def test_ingest_does_not_store_a_menu_as_an_article(server, db_target, tmp_path):
    # issue 9: `scraper ingest` of a start page that is only ~50 section links stored it as an
    # article titled "Home"; a listing is skipped with its reason, as the crawler skips it.
    # Both backends: the skip is decided before the store, and nothing reaches either.
    url = server.url("/pages/nav-only-menu/page.html")
    report = ingest_one(url, db_target, tmp_path)
    assert report.counts == {"skipped": 1}
    assert report.skips == [(url, f"no article at {url}: a listing page, links and no article text")]
    assert query_rows(db_target, "SELECT count(*) AS n FROM articles") == [{"n": 0}]
    assert query_rows(db_target, "SELECT count(*) AS n FROM article_urls") == [{"n": 0}]


JSONLD_NUL = Path(__file__).parent / "fixtures" / "pages" / "jsonld-nul" / "page.html"


def test_metadata_from_json_ld_holds_no_control_characters():
    # "\\u0000" in JSON-LD decodes to NUL, "\\udc00" to a lone surrogate: author and section kept them
    article = extract(JSONLD_NUL.read_bytes(), "https://gazette.example/harbour.html")
    fields = [article.title, article.author, article.section, article.source, article.site_name]
    assert article.author == "Jane Doe"
    assert article.section == "Local"
    assert not any(ch < " " for value in fields if value for ch in value), fields
    assert all(value.encode("utf-8") for value in fields if value)  # no lone surrogate


def test_ingest_stores_a_page_whose_json_ld_holds_nul(server, db_target, tmp_path):
    # PostgreSQL refused the NUL in the row: a StorageError that, in a crawl, stopped every run;
    # neither driver could encode the lone surrogate
    report = ingest_one(server.url("/pages/jsonld-nul/page.html"), db_target, tmp_path)
    assert report.counts == {"new": 1}
    rows = query_rows(db_target, "SELECT author, section FROM articles")
    assert rows == [{"author": "Jane Doe", "section": "Local"}]


# Language ------------------------------------------------------------------------------------------------

EN_BODY = (
    "<h1>Council approves new budget</h1><p>The city council approved the budget on Tuesday after a long "
    "debate about schools, roads and the price of public transport for the coming year.</p>"
)


@pytest.mark.parametrize(
    ("head", "html_attrs", "language"),
    [
        ('<meta http-equiv="Content-Language" content="utf-8">', "", "en"),  # a charset is not a language
        ("", 'lang="iw"', "he"),  # deprecated subtag, BCP 47's preferred value
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "inLanguage": "fr-CA"}</script>',
            "",
            "fr",
        ),
        ("", 'lang="x-default"', "en"),  # not a language: detected
    ],
)
def test_language_is_a_bcp47_primary_subtag(head, html_attrs, language):
    html = f"<html {html_attrs}><head>{head}</head><body>{EN_BODY}</body></html>"
    assert _meta(html).language == language


def test_language_of_an_undeclared_page_is_detected():
    html = """<html><body><h1>Der Stadtrat beschließt den Haushalt</h1><p>Der Stadtrat hat am Dienstag
    nach einer langen Debatte über Schulen, Straßen und die Preise im Nahverkehr den Haushalt beschlossen.</p>
    </body></html>"""
    assert _meta(html).language == "de"


def test_chinese_page_under_a_template_lang_en_is_chinese():
    html = """<html lang="en"><head><title>国家统计局：前五个月工业企业利润同比增长</title></head><body>
    <p>记者从国家统计局获悉，今年前五个月，全国规模以上工业企业实现利润总额同比增长。</p></body></html>"""
    assert _meta(html).language == "zh"


def test_the_zol_page_without_a_declaration_is_read_right():
    raw = (PAGES / "zol-bbs-gbk-undeclared" / "page.html").read_bytes()
    article = extract(raw, "http://bbs.zol.com.cn/index20050828/index_221_4487.shtml")
    assert article.language == "zh"
    assert "《太行山上》由《闪闪的红星》的编剧陆柱国执笔" in article.text
