"""Main-content extraction on small hand-written pages: parse, boilerplate, scoring, rules, page kind."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scraper.config import Rules
from scraper.errors import ConfigError
from scraper.extract import extract
from scraper.extract.content import Content, extract_content
from scraper.extract.parse import parse_html
from scraper.extract.render import to_markdown
from scraper.extract.rules import select_text
from scraper.models import Article

PROSE = (
    "The council voted on Tuesday to expand the city's bus network, adding four routes that will "
    "connect the northern suburbs with the hospital district, according to the transport office."
)
PROSE_2 = (
    "Officials said the new routes would run every ten minutes at peak times, and that fares would "
    "stay the same until the end of next year, when a review of the whole network is due."
)
PROSE_3 = (
    "Residents who spoke at the meeting welcomed the plan, although several asked why the western "
    "districts, where many older people live, had again been left out of the first phase."
)
ZH_1 = "市政府周二宣布，将在北部郊区新增四条公交线路，连接医院片区和大学城，预计明年春季开通运营。"
ZH_2 = "交通部门表示，新线路高峰时段每十分钟一班，票价保持不变，并将在年底对整个线网进行评估。"
ZH_3 = "不少市民在听证会上表示欢迎，但也有人询问西部城区为何再次没有被纳入第一阶段的建设计划。"


@dataclass
class Meta:
    """Stand-in for the metadata step's result: only what content reads."""

    title: str | None = None
    published: dt.date | dt.datetime | None = None


def run(html: str, rules: Rules | None = None, meta: Meta | None = None) -> Content:
    tree = parse_html(html)
    assert tree is not None
    return extract_content(tree, rules or Rules(), meta or Meta())


def page(body: str, head: str = "<title>T</title>") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


ARTICLE = f"<article><p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE_3}</p></article>"


# --- parse_html -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n", "\x00\x01"])
def test_parse_html_returns_none_without_elements(text):
    assert parse_html(text) is None


@pytest.mark.parametrize(
    "text",
    ["plain\ttext\r\n", "a\x00b\x0bc\x1f", "é\x01中\x7f", "x\ufffey\uffff", "\ud800\x08", "😀\x0c"],
)
def test_control_characters_go_as_the_regex_removes_them(text):
    from scraper.extract.parse import _CONTROL_CHARS_RE, without_control_chars

    assert without_control_chars(text) == _CONTROL_CHARS_RE.sub("", text)


def test_parse_html_drops_control_characters_lxml_would_replace():
    assert parse_html("<p>a\x00b\x0bc\ufffe</p>").findtext(".//p") == "abc"


def test_parse_html_accepts_str_with_xml_encoding_declaration():
    tree = parse_html('<?xml version="1.0" encoding="ISO-8859-1"?>\n<html><body><p>café</p></body></html>')
    assert tree is not None
    assert tree.findtext(".//p") == "café"


def test_parse_html_repairs_broken_markup():
    tree = parse_html("<div><p>one<p>two</div></span><table><tr><td>cell")
    assert tree is not None
    assert [p.text for p in tree.iter("p")] == ["one", "two"]
    assert tree.findtext(".//td") == "cell"


# --- never raise ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["<html>", "plain text, no tags", "<p>", "<body></body>", "<<<>>>&&&"])
def test_garbage_input_gives_content_without_raising(text):
    tree = parse_html(text)
    assert tree is not None
    result = extract_content(tree, Rules(), Meta())
    assert isinstance(result.text, str)
    assert "\n\n\n" not in result.text


def test_deeply_nested_five_megabytes_keeps_its_text():
    depth = 5 * 1024 * 1024 // 11
    html = "<div>" * depth + PROSE + "</div>" * depth
    tree = parse_html(html)
    assert tree is not None
    result = extract_content(tree, Rules(), Meta())
    assert "bus network" in result.text


@pytest.mark.parametrize("tag", ["font", "div", "blockquote", "table"])
def test_nesting_past_the_parser_depth_limit_loses_no_text(tag):
    """libxml2 stops at depth 2048 and drops the rest; unclosed tags on old pages get there."""
    html = f"<p>{PROSE}</p>" + f"<{tag}>" * 3000 + "<p>deep inside the nest</p>" + f"<p>{PROSE_3}</p>"
    tree = parse_html(html)
    assert tree is not None
    text = tree.text_content()
    assert "deep inside the nest" in text
    assert PROSE_3[:40] in text


def test_one_div_of_many_br_lines_keeps_every_line():
    # each <br> line is a paragraph of the same text <div> (checking the <div> once per line
    # made 20,000 lines take two minutes; speed is measured in benchmarks, not here)
    html = page("<div>" + "<br>".join([PROSE] * 8000) + "</div>")
    result = run(html)
    assert result.text.count(PROSE) == 8000


def test_extract_on_bytes_noise_raises_only_extract_error():
    from scraper.errors import ExtractError
    from scraper.extract import extract

    with pytest.raises(ExtractError):
        extract(b"\x00\x01")


# --- boilerplate --------------------------------------------------------------------------------


def test_nav_footer_share_and_related_are_removed():
    html = page(
        '<header><a href="/">Home</a> <a href="/news">News</a></header>'
        '<nav><ul><li><a href="/a">Politics section</a></li>'
        '<li><a href="/b">Sport section</a></li></ul></nav>'
        f'<div class="main">{ARTICLE}'
        '<div class="share-buttons">Share on Facebook Share on Twitter</div>'
        '<div class="related-posts"><h3>Related</h3>'
        "<p>Another story about the city budget and its effects</p></div>"
        "</div>"
        "<footer><p>About us, contact, jobs and the newsletter sign-up page</p></footer>"
    )
    text = run(html).text
    assert text == f"{PROSE}\n\n{PROSE_2}\n\n{PROSE_3}"


def test_copyright_and_icp_lines_are_removed():
    html = page(
        f"<div id='content'><p>{ZH_1}</p><p>{ZH_2}</p><p>{ZH_3}</p>"
        "<p>Copyright © 2024 Example News. All rights reserved.</p>"
        "<p>京ICP备12345678号 京公网安备11010502030001号</p>"
        "<p>版权所有 未经授权禁止转载</p>"
        "<p>Partners: Alpha | Beta | Gamma | Delta</p></div>"
    )
    text = run(html).text
    assert ZH_1 in text
    assert ZH_3 in text
    for gone in ("Copyright", "ICP", "公网安备", "版权所有", "Partners"):
        assert gone not in text


def test_br_separated_paragraphs_become_paragraphs():
    html = page(
        '<div class="nav"><a href="/">Home</a></div>'
        f'<div class="text">{PROSE}<br><br>{PROSE_2}<br/><br/>{PROSE_3}</div>'
    )
    assert run(html).text == f"{PROSE}\n\n{PROSE_2}\n\n{PROSE_3}"


def test_whitespace_inside_paragraphs_is_normalised():
    html = page(f"<article><p>  {PROSE.replace(' ', '   ')}\n</p><p>{PROSE_2}</p><p>{PROSE_3}</p></article>")
    text = run(html).text
    assert text.split("\n\n")[0] == PROSE


def test_split_containers_are_merged():
    html = page(
        '<div id="wrap"><div class="menu-list"><a href="/x">Index</a></div>'
        f'<div class="story-part"><p>{PROSE}</p><p>{PROSE_2}</p></div>'
        f'<div class="story-part"><p>{PROSE_3}</p><p>{PROSE}</p></div></div>'
    )
    text = run(html).text
    assert PROSE_2 in text
    assert PROSE_3 in text
    assert "Index" not in text


def test_split_containers_with_deeply_nested_text_are_merged():
    # quanta-1 (readability test pages): the body sits in several same-class blocks, the
    # first one's paragraphs six levels down, too deep for scores to reach the block.
    deep = "<div><div><div><div><div>" + f"<p>{PROSE}</p><p>{PROSE_2}</p>" + "</div></div></div></div></div>"
    html = page(
        '<div id="post">'
        f'<div class="acf-content scale1 mt2">{deep}</div>'
        '<figure class="wide"><figcaption>A photograph of the depot.</figcaption></figure>'
        f'<div class="acf-content scale1 mt2"><p>{PROSE_3}</p><p>{PROSE}</p><p>{PROSE_2}</p></div>'
        f'<div class="teasers"><div><div><div><div><div><p>{PROSE_3}</p></div></div></div></div></div></div>'
        "</div>"
    )
    text = run(html).text
    assert text.startswith(PROSE)
    assert text.count(PROSE_3) == 1


def test_section_whose_id_is_its_heading_slug_is_kept():
    # readability mercurial: Sphinx gives each section its heading's slug, "sharing-..."
    html = page(
        '<div class="content"><div class="section" id="intro">'
        f"<h2>Intro</h2><p>{PROSE}</p><p>{PROSE_2}</p></div>"
        '<div class="section" id="sharing-with-a-single-developer">'
        f"<h2>Sharing with a single developer</h2><p>{PROSE_3}</p></div>"
        '<div id="sharing-buttons"><a href="/fb">Facebook</a> <a href="/tw">Twitter</a></div></div>'
    )
    text = run(html).text
    assert PROSE_3 in text
    assert "Twitter" not in text


def test_inline_link_with_a_widget_name_inside_a_sentence_is_kept():
    # readability clean-links: glossary links named "popup" are words of the text
    html = page(
        f'<article><p>I am a <a href="#" class="popup">rather elderly</a> man. {PROSE}</p>'
        f'<p>{PROSE_2}</p><div class="popup"><a href="/x">Close this window</a></div></article>'
    )
    text = run(html).text
    assert text.startswith("I am a rather elderly man.")
    assert "Close" not in text


def test_gallery_caption_list_gives_way_to_the_article():
    # readability bug-1255978: a 50-caption slideshow outscores the article it illustrates
    items = "".join(
        f"<li><h2>{i}/30 Photo title</h2><p>Caption {i}, with a comma, and another one, {PROSE_3}</p></li>"
        for i in range(30)
    )
    html = page(
        f'<div class="text-wrapper"><p>{PROSE}</p><p>{PROSE_2}</p>'
        f'<div class="type-gallery"><div class="scroller"><ul class="legends">{items}</ul></div></div>'
        f"<p>{PROSE_3}</p><p>{PROSE}</p></div>"
    )
    text = run(html).text
    assert text.startswith(PROSE)
    assert "Caption 7," not in text
    assert text.endswith(PROSE)


def test_gallery_page_without_other_text_keeps_its_captions():
    items = "".join(f"<li><p>Caption {i}, with a comma, {PROSE_3}</p></li>" for i in range(8))
    html = page(f'<div class="gallery"><ul>{items}</ul></div><div class="footer-note">About us</div>')
    assert "Caption 7," in run(html).text


def test_hidden_block_beside_visible_prose_is_dropped():
    # readability visibility-hidden: the hidden half of the article is not read
    html = page(
        f'<article><h1>Lorem</h1><div style="visibility: hidden;"><p>{PROSE}</p><p>{PROSE_2}</p>'
        f"<p>{PROSE}</p></div><h2>Foo</h2><div><p>{PROSE_3}</p><p>{PROSE_2}</p></div></article>"
    )
    text = run(html).text
    assert text.endswith(f"{PROSE_3}\n\n{PROSE_2}")
    assert PROSE not in text


def test_hidden_article_is_kept_when_nothing_else_is_prose():
    html = page(f'<nav>Home</nav><div style="display:none"><p>{PROSE}</p><p>{PROSE_2}</p></div>')
    assert PROSE_2 in run(html).text


def test_chart_labels_placed_over_a_graphic_are_dropped():
    # readability nytimes-4: an ai2html chart's labels sit at percent coordinates
    labels = "".join(
        f'<div class="g-aiAbs" style="top:{i * 9}.5%;margin-top:-9px;left:10.6%;width:55px;"><p>${i}00</p>'
        "<p>billion</p></div>"
        for i in range(8)
    )
    html = page(f"<article><p>{PROSE}</p><div class='graphic'>{labels}</div><p>{PROSE_2}</p></article>")
    assert run(html).text == f"{PROSE}\n\n{PROSE_2}"


def test_layout_table_takes_the_cell_not_the_footer():
    html = page(
        "<table><tr><td class='left'><a href='/1'>Home</a><br><a href='/2'>Archive</a><br>"
        "<a href='/3'>Contact</a></td>"
        f"<td>{PROSE}<br><br>{PROSE_2}<br><br>{PROSE_3}</td></tr>"
        "<tr><td colspan='2'>Copyright 2003 Example Times, all rights reserved. Webmaster</td></tr></table>"
    )
    text = run(html).text
    assert text.startswith(PROSE)
    assert PROSE_3 in text
    assert "Copyright" not in text
    assert "Archive" not in text


def test_cjk_page_picks_the_chinese_article_over_a_longer_link_list():
    links = "".join(f'<li><a href="/n{i}">第{i}条新闻标题在这里显示出来</a></li>' for i in range(40))
    html = page(
        f'<div class="list"><ul>{links}</ul></div>'
        f'<div class="box"><p>{ZH_1}</p><p>{ZH_2}</p><p>{ZH_3}</p></div>'
    )
    text = run(html).text
    assert text == f"{ZH_1}\n\n{ZH_2}\n\n{ZH_3}"


def test_title_and_byline_are_stripped_from_the_body_start():
    html = page(
        "<div class='article'><h1>City expands bus network</h1>"
        "<p>· 2021-06-29 · Source: NO.26 JULY 1, 2021</p>"
        f"<p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE_3}</p></div>"
    )
    meta = Meta(title="City expands bus network", published=dt.date(2021, 6, 29))
    assert run(html, meta=meta).text.startswith(PROSE)


def test_headings_and_list_items_are_own_paragraphs_and_in_html():
    html = page(
        f"<article><p>{PROSE}</p><h2>What changes</h2>"
        f"<ul><li>Four new routes</li><li>Same fares</li></ul><p>{PROSE_2}</p><p>{PROSE_3}</p></article>"
    )
    result = run(html)
    assert "\n\nWhat changes\n\nFour new routes\n\nSame fares\n\n" in result.text
    assert "<h2>What changes</h2>" in result.html
    assert "<ul>\n<li>Four new routes</li>\n<li>Same fares</li>\n</ul>" in result.html


def test_html_keeps_links_and_escapes_text():
    html = page(
        f'<article><p>{PROSE} See <a href="/report?a=1&amp;b=2">the report</a> &lt;here&gt;.</p>'
        f"<p>{PROSE_2}</p><p>{PROSE_3}</p></article>"
    )
    result = run(html)
    assert '<a href="/report?a=1&amp;b=2">the report</a> &lt;here&gt;.' in result.html
    assert "the report <here>." in result.text


def test_table_rows_are_own_paragraphs():
    html = page(
        f"<article><p>{PROSE}</p><table><tr><th>Route</th><th>Every</th></tr>"
        f"<tr><td>42</td><td>10 min</td></tr></table><p>{PROSE_2}</p><p>{PROSE_3}</p></article>"
    )
    text = run(html).text
    assert "\n\nRoute Every\n\n42 10 min\n\n" in text


# --- rules --------------------------------------------------------------------------------------


def test_rules_body_takes_precedence_and_drop_runs_first():
    html = page(
        f'<div class="main"><p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE_3}</p></div>'
        '<div class="teaser"><p>A short teaser that the site editor wants. '
        '<span class="ad">BUY NOW</span></p></div>'
    )
    rules = Rules(body="div.teaser", drop=(".ad",))
    assert run(html, rules=rules).text == "A short teaser that the site editor wants."


def test_rules_body_that_matches_nothing_falls_back_to_generic():
    html = page(ARTICLE)
    assert run(html, rules=Rules(body="#does-not-exist")).text.startswith(PROSE)


def test_rules_drop_removes_a_generic_looking_paragraph():
    html = page(f"<article><p>{PROSE}</p><p class='promo-x'>{PROSE_2}</p><p>{PROSE_3}</p></article>")
    text = run(html, rules=Rules(drop=("p.promo-x",))).text
    assert PROSE_2 not in text
    assert PROSE_3 in text


def test_select_text_reads_text_or_value_attributes():
    tree = parse_html(
        page(
            "<span class='by'>  Jane   Doe </span><span class='by'>second</span>"
            "<time datetime='2024-05-01'></time>",
            head='<meta property="article:published_time" content="2024-05-01T10:00:00Z">',
        )
    )
    assert select_text(tree, ".by") == "Jane Doe"
    assert select_text(tree, "time") == "2024-05-01"
    assert select_text(tree, 'meta[property="article:published_time"]') == "2024-05-01T10:00:00Z"
    assert select_text(tree, ".missing") is None
    assert select_text(tree, None) is None


def test_invalid_selector_is_a_config_error():
    tree = parse_html(page(ARTICLE))
    with pytest.raises(ConfigError, match="invalid CSS selector"):
        select_text(tree, "div[[")


# --- page kind ----------------------------------------------------------------------------------


def test_dated_prose_is_an_article():
    assert run(page(ARTICLE), meta=Meta(published=dt.date(2024, 3, 1))).page_kind == "article"


def test_og_article_marks_prose_as_an_article_without_a_date():
    head = '<title>T</title><meta property="og:type" content="article">'
    assert run(page(ARTICLE, head=head)).page_kind == "article"


def test_undated_unmarked_prose_is_a_service_page():
    assert run(page(ARTICLE)).page_kind == "service"


@pytest.mark.parametrize(
    ("ld_type", "kind"),
    [("Product", "product"), ("DiscussionForumPosting", "forum"), ("ItemList", "listing")],
)
def test_json_ld_type_names_the_kind(ld_type, kind):
    head = f'<title>T</title><script type="application/ld+json">{{"@type": "{ld_type}"}}</script>'
    assert run(page(ARTICLE, head=head)).page_kind == kind


def test_thread_of_dated_posts_is_a_forum():
    posts = "".join(
        f'<div class="post"><time datetime="2024-03-0{i}">March {i}, 2024</time><p>{PROSE}</p></div>'
        for i in range(1, 6)
    )
    assert run(page(posts), meta=Meta(published=dt.date(2024, 3, 1))).page_kind == "forum"


def _dated_posts_page(head: str) -> str:
    """Prose in five blocks, each stamped with its own <time>: a thread's shape."""
    posts = "".join(
        f'<div class="post"><time datetime="2024-03-0{i}">March {i}, 2024</time><p>{PROSE}</p></div>'
        for i in range(1, 6)
    )
    return page(posts, head='<title>T</title><meta name="date" content="2024-03-01">' + head)


OG_ARTICLE = '<meta property="og:type" content="article">'


def test_a_dated_page_marked_as_an_article_stays_one_beside_dated_blocks():
    # latercera.com, golfpost.de, oetv.at (trafilatura set): comments' or related teasers'
    # <time> elements read as a forum's posts, and the crawl dropped the article as "a forum page".
    from scraper.extract import extract

    url = "https://news.example.com/politics/bus-routes-123"
    assert extract(_dated_posts_page(OG_ARTICLE), url).page_kind == "article"
    assert extract(_dated_posts_page(""), url).page_kind == "forum"  # unmarked: still a thread


def test_a_forum_address_still_makes_a_marked_page_a_forum():
    from scraper.extract import extract

    url = "https://example.com/threads/bus-routes.123/"
    assert extract(_dated_posts_page(OG_ARTICLE), url).page_kind == "forum"


def test_a_short_dated_post_among_many_links_is_an_article_when_marked_as_one():
    # mdr.de, homify.de, wordpress.com blogs (trafilatura set): a short post beside many linked
    # headlines read as a listing.
    from scraper.extract import extract

    teasers = "".join(
        f'<div class="item"><h3><a href="/story/{i}">Headline number {i} about the city budget</a></h3></div>'
        for i in range(20)
    )
    short = "The council approved four new bus routes on Monday. They start in May and cost 2 million."
    body = f"<main><p>{short}</p><p>{short}</p>{teasers}</main>"
    head = '<title>T</title><meta name="date" content="2024-03-01">'
    url = "https://news.example.com/city/budget-123"
    marked = '<script type="application/ld+json">{"@type": "NewsArticle"}</script>'
    assert extract(page(body, head=head + marked), url).page_kind == "article"
    assert extract(page(body, head=head), url).page_kind == "listing"


def test_listing_page_kind():
    teasers = "".join(
        f'<div class="item"><h3><a href="/story/{i}">Headline number {i} about the city budget</a></h3>'
        f"<span>2 hours ago</span></div>"
        for i in range(20)
    )
    assert run(page(f"<main>{teasers}</main>")).page_kind == "listing"


@pytest.mark.parametrize(
    ("url", "head", "kind"),
    [
        # long undated prose reads as a service page, unless its address says post
        ("https://example.com/about-us/", "", "service"),
        ("https://example.com/blog/four-new-bus-routes", "", "article"),
        ("https://example.com/2024/03/four-new-bus-routes/", "", "article"),
        # addresses and software of forums and manuals beat the shape of the text
        ("https://example.com/threads/four-new-bus-routes.12345/", "", "forum"),
        ("https://example.com/showthread.php?t=12345", "", "forum"),
        ("https://example.com/bus/routes", '<meta name="generator" content="Discourse 3.2">', "forum"),
        ("https://example.com/docs/routes/planning.html", "", "documentation"),
        ("https://example.com/r/a.html", '<meta name="generator" content="Sphinx 7.1">', "documentation"),
    ],
)
def test_address_and_software_settle_the_page_kind(url, head, kind):
    from scraper.extract import extract

    assert extract(page(ARTICLE, head="<title>T</title>" + head), url).page_kind == kind


def test_shop_category_path_makes_a_product_listing_a_collection():
    from scraper.extract import extract

    cards = "".join(
        f'<div class="card"><h3><a href="/products/sheet-{i}">Linen sheet set number {i}, washed</a></h3>'
        f"<span>$129.00</span></div>"
        for i in range(20)
    )
    html = page(f"<main>{cards}</main>")
    assert extract(html, "https://shop.example.com/news-today").page_kind == "listing"
    assert extract(html, "https://shop.example.com/collections/sheets").page_kind == "collection"


def test_a_structured_verdict_stands_against_the_address():
    from scraper.extract import extract

    head = '<title>T</title><script type="application/ld+json">{"@type": "Product"}</script>'
    assert extract(page(ARTICLE, head=head), "https://example.com/docs/manual").page_kind == "product"


def test_headline_with_site_suffix_and_pager_line_are_stripped():
    html = page(
        "<div class='article'><h1>市区新增四条公交线路</h1>"
        "<p>第1页/共1页 &lt;&lt; 上一页 | 下一页 &gt;&gt;</p>"
        f"<p>{ZH_1}</p><p>{ZH_2}</p><p>{ZH_3}</p></div>"
    )
    meta = Meta(title="市区新增四条公交线路_新闻中心_示例网")
    assert run(html, meta=meta).text == f"{ZH_1}\n\n{ZH_2}\n\n{ZH_3}"


# --- regression pages (tests/fixtures/content/<slug>: expected.json + page.html or a "page" path) ---

CONTENT_FIXTURES = Path(__file__).parent / "fixtures" / "content"
CASES = sorted(p.name for p in CONTENT_FIXTURES.iterdir() if (p / "expected.json").exists())


def _fixture(slug: str) -> tuple[dict[str, Any], Article]:
    expected = json.loads((CONTENT_FIXTURES / slug / "expected.json").read_text(encoding="utf-8"))
    # "page" names a page kept in another fixture folder, so one page is stored once
    html = (CONTENT_FIXTURES / slug / expected.get("page", "page.html")).read_text(encoding="utf-8")
    return expected, extract(html, expected["url"])


@pytest.mark.parametrize("slug", CASES)
def test_fixture_keeps_the_main_text(slug):
    expected, article = _fixture(slug)
    text = " ".join(article.text.split())
    assert expected["must_contain"]
    for snippet in expected["must_contain"]:
        assert " ".join(snippet.split()) in text


@pytest.mark.parametrize("slug", CASES)
def test_fixture_drops_the_furniture(slug):
    expected, article = _fixture(slug)
    for snippet in expected["must_not_contain"]:
        assert snippet not in article.text


@pytest.mark.parametrize("slug", CASES)
def test_fixture_page_kind(slug):
    expected, article = _fixture(slug)
    assert article.page_kind == expected.get("page_kind", "article")


# --- text furniture -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Pubblicato il 19 Febbraio 2020 Ultima modifica 19 Febbraio 2020 12:02",
        "Aktualisiert: 11.04.2020, 10:27",
        "Publié le 3 mars 2021 à 14h05",
        "Published June 3, 2020 at 3:15 pm",
    ],
)
def test_datelines_are_dropped(line):
    html = page(f"<article><p>{line}</p><p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE_3}</p></article>")
    assert run(html).text == f"{PROSE}\n\n{PROSE_2}\n\n{PROSE_3}"


def test_sentence_with_a_date_stays():
    line = "On June 3, 2020 the council announced that the depot would close within two years."
    html = page(f"<article><p>{line}</p><p>{PROSE}</p><p>{PROSE_2}</p></article>")
    assert line in run(html).text


def test_many_dated_lines_are_data_not_datelines():
    items = "".join(f"<p>{PROSE}</p><p>March {i}, 2024</p>" for i in range(1, 5))
    assert run(page(f"<article>{items}</article>")).text.count("2024") == 4


def test_related_box_and_credit_lines_are_dropped():
    html = page(
        f"<article><p>{PROSE}</p><p>Foto: Sascha Klahn</p><p>{PROSE_2}</p>"
        "<p>Lesen Sie auch: Neue Buslinien im Norden</p>"
        "<h3>Mehr zum Thema</h3><p><a href='/a'>Busse fahren öfter</a></p><p>Tram bis 2030</p></article>"
    )
    assert run(html).text == f"{PROSE}\n\n{PROSE_2}"


def test_boilerplate_named_wrapper_around_the_article_stays():
    html = page(
        f"<div class='with-sidebar-layout'><article><p>{PROSE}</p><p>{PROSE_2}</p></article>"
        "<div class='sidebar'><a href='/x'>Apply now</a></div></div>"
        "<footer><p>About us. Contact. Careers.</p></footer>"
    )
    text = run(html).text
    assert PROSE in text
    assert "Apply now" not in text


def test_unclosed_button_that_swallowed_the_article_keeps_it():
    html = page(f"<header><button>Menu<main><article><p>{PROSE}</p><p>{PROSE_2}</p></article></main>")
    assert PROSE in run(html).text


# --- markdown ------------------------------------------------------------------------------------


def test_markdown_renders_headings_lists_tables_links_and_emphasis():
    html = (
        "<h2>The routes</h2><p>Fares stay the <em>same</em>, says the <a href='/office'>office</a>.</p>"
        "<ul><li>Route <strong>1</strong></li><li>Route 2</li></ul><ol><li>one</li><li>two</li></ol>"
        "<table><tr><td>Route</td><td>Every</td></tr><tr><td>1</td><td>10 min</td></tr></table>"
        "<blockquote><p>We are pleased.</p></blockquote><pre>a  b\n c</pre>"
    )
    assert to_markdown(html) == (
        "## The routes\n\n"
        "Fares stay the *same*, says the [office](/office).\n\n"
        "- Route **1**\n- Route 2\n\n"
        "1. one\n2. two\n\n"
        "| Route | Every |\n| --- | --- |\n| 1 | 10 min |\n\n"
        "> We are pleased.\n\n"
        "```\na  b\n c\n```"
    )


def test_markdown_escapes_syntax_in_text_and_handles_empty_input():
    assert to_markdown("<p>a_b *c* [1]</p>") == r"a\_b \*c\* \[1\]"
    assert to_markdown("") == ""


def test_content_html_round_trips_to_markdown():
    html = page(
        f"<article><h2>Routes</h2><p>{PROSE}</p><ul><li>North line</li><li>South line</li></ul>"
        f"<p>{PROSE_2} <em>Really.</em></p></article>"
    )
    markdown = to_markdown(run(html).html)
    assert "## Routes" in markdown
    assert "- North line\n- South line" in markdown
    assert "*Really.*" in markdown


def test_lead_image_caption_is_dropped_but_captions_inside_the_text_stay():
    html = (
        "<html><body><article><h1>Buses</h1>"
        "<div class='featured-image'><img src='a.jpg'>"
        "<p class='wp-caption-text'>The new depot at dawn</p></div>"
        f"<p>{PROSE}</p><figure><img src='b.jpg'>"
        "<figcaption>Drivers at the hospital stop</figcaption></figure>"
        f"<p>{PROSE_2}</p><p>{PROSE_3}</p></article></body></html>"
    )
    text = extract(html, "https://example.org/a").text
    assert "The new depot at dawn" not in text
    assert "Drivers at the hospital stop" in text
    assert PROSE in text


@pytest.mark.parametrize(
    "line", ["Lea más: El alcalde inaugura la línea", "VEA TAMBIÉN: Nuevas rutas en el norte"]
)
def test_teaser_link_lines_are_dropped(line):
    html = (
        f"<html><body><article><p>{PROSE}</p><p><a href='/x'>{line}</a></p>"
        f"<p>{PROSE_2}</p></article></body></html>"
    )
    text = extract(html, "https://example.org/a").text
    assert line not in text
    assert PROSE_2 in text


@pytest.mark.parametrize(
    "line",
    [
        "Subscribe now to our weekly edition for the full story.",
        "Follow The Courier on Twitter and Instagram for breaking news.",
        "War der Artikel nützlich?",
    ],
)
def test_calls_to_action_in_the_article_flow_are_dropped(line):
    html = f"<html><body><article><p>{PROSE}</p><p>{line}</p><p>{PROSE_2}</p></article></body></html>"
    text = extract(html, "https://example.org/a").text
    assert line not in text
    assert PROSE_2 in text


def test_link_only_lines_after_the_last_prose_paragraph_are_dropped():
    html = (
        f"<html><body><article><p>{PROSE}</p><p><a href='/b'>Bus drivers strike again</a></p>"
        f"<p>{PROSE_2}</p><p><a href='/c'>Here is the new timetable</a></p></article></body></html>"
    )
    text = extract(html, "https://example.org/a").text
    assert "Here is the new timetable" not in text
    assert "Bus drivers strike again" in text


def test_featured_image_caption_is_dropped_after_the_lede_too():
    html = (
        "<html><body><article><h1>Buses</h1>"
        f"<p>{PROSE}</p><div class='td-post-featured-image'><figure><img src='a.jpg'>"
        "<figcaption>The new depot at dawn</figcaption></figure></div>"
        f"<p>{PROSE_2}</p><figure><img src='b.jpg'><figcaption>Drivers at the stop</figcaption></figure>"
        f"<p>{PROSE_3}</p></article></body></html>"
    )
    text = extract(html, "https://example.org/a").text
    assert "The new depot at dawn" not in text
    assert "Drivers at the stop" in text
    assert PROSE_2 in text


@pytest.mark.parametrize(
    "credit",
    [
        "<span class='img-author'>Mike Blake/Reuters files</span>",
        "<span itemprop='creator'>Mike Blake/Reuters files</span>",
        "<span class='media__caption--source'>Mike Blake/Reuters files</span>",
    ],
)
def test_credit_elements_in_a_caption_are_dropped_and_the_caption_stays(credit):
    html = (
        f"<html><body><article><h1>Buses</h1><p>{PROSE}</p><figure><img src='b.jpg'>"
        f"<figcaption><span>Drivers at the stop.</span> {credit}</figcaption></figure>"
        f"<p>{PROSE_2}</p><p>{PROSE_3}</p></article></body></html>"
    )
    text = extract(html, "https://example.org/a").text
    assert "Drivers at the stop." in text
    assert "Reuters files" not in text


def test_a_source_named_element_outside_figures_stays():
    html = (
        f"<html><body><article><h1>Buses</h1><p>{PROSE}</p>"
        "<p class='source'>Timetable of the city transport office</p>"
        f"<p>{PROSE_2}</p><p>{PROSE_3}</p></article></body></html>"
    )
    assert "Timetable of the city transport office" in extract(html, "https://example.org/a").text


@pytest.mark.parametrize(
    "line",
    [
        "Leave a Comment",
        "Keine Kommentare (Kommentare erscheinen erst nach unserer Freigabe)",
        "Sie sind aktuell nicht eingeloggt.",
        "If you enjoyed reading this post, please consider supporting us.",
        "We want to hear what you think about this article.",
        "Inhaltsverzeichnis",
    ],
)
def test_comment_prompts_and_calls_to_action_are_dropped(line):
    html = (
        f"<html><body><article><h1>Buses</h1><p>{PROSE}</p><p>{PROSE_2}</p>"
        f"<p>{line}</p><p>{PROSE_3}</p></article></body></html>"
    )
    text = extract(html, "https://example.org/a").text
    assert line not in text
    assert PROSE_3 in text


@pytest.mark.parametrize(
    "heading",
    ["Verwandte Beiträge", "Das Thema könnte dich auch interessieren:", "Mehr zum Thema auf example.org"],
)
def test_related_headings_drop_the_teasers_under_them(heading):
    html = (
        f"<html><body><article><h1>Buses</h1><p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE_3}</p>"
        f"<h3>{heading}</h3><p><a href='/b'>Neue Busse für den Norden</a></p></article></body></html>"
    )
    text = extract(html, "https://example.org/a").text
    assert heading not in text
    assert "Neue Busse für den Norden" not in text
    assert PROSE_3 in text


# --- teaser cards inside the main block ---------------------------------------------------------

DATED = Meta(title="Buses", published=dt.date(2024, 3, 5))


SUMMARY = "A one-line summary of another story on the same site, long enough not to read as a link list."


def card(n: int, summary: str = SUMMARY, href: str = "") -> str:
    href = href or f"/news/2024/other-story-{n}"
    return (
        f'<div class="card"><a href="{href}"><img src="/i/{n}.jpg"></a>'
        f'<h3><a href="{href}">Other headline number {n}</a></h3><p>{summary}</p></div>'
    )


def test_a_grid_of_teaser_cards_after_the_text_is_dropped():
    grid = '<div class="grid">' + "".join(card(n) for n in range(3)) + "</div>"
    html = page(f"<article><p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE_3}</p>{grid}</article>")
    text = run(html, meta=DATED).text
    assert PROSE_3 in text
    assert "Other headline number" not in text
    assert SUMMARY not in text


def test_a_single_teaser_card_with_an_image_after_the_text_is_dropped():
    html = page(f"<article><p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE_3}</p>{card(1)}</article>")
    assert SUMMARY not in run(html, meta=DATED).text


def test_teaser_cards_followed_by_more_text_stay():
    grid = '<div class="grid">' + "".join(card(n) for n in range(3)) + "</div>"
    html = page(f"<article><p>{PROSE}</p><p>{PROSE_2}</p>{grid}<p>{PROSE_3}</p></article>")
    text = run(html, meta=DATED).text
    assert "Other headline number 2" in text
    assert SUMMARY in text


def test_a_listicle_made_of_cards_stays():
    items = "".join(card(n, summary=PROSE_2, href=f"https://shop.example/item-{n}") for n in range(4))
    html = page(f"<article><p>{PROSE}</p><div class='list'>{items}</div></article>")
    text = run(html, meta=DATED).text
    assert "Other headline number 3" in text
    assert text.count(PROSE_2) == 4


def test_headings_linking_to_an_anchor_on_the_page_stay():
    sections = '<div class="grid">' + "".join(card(n, href=f"#s{n}") for n in range(3)) + "</div>"
    html = page(f"<article><p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE_3}</p>{sections}</article>")
    assert SUMMARY in run(html, meta=DATED).text


# --- complementary blocks: sidebars and <aside> ------------------------------------------------

SHORT_POST = (
    "<div class='post'><h1>Doing nothing</h1><p>Doing nothing is an option too, they say.</p>"
    "<p>I tried it for a day, and it worked.</p></div>"
)


@pytest.mark.parametrize(
    "sidebar",
    [
        f"<div id='sidebar'><div class='textwidget'><p>{PROSE}</p><p>{PROSE_2}</p></div></div>",
        f"<div role='complementary'><p>{PROSE}</p><p>{PROSE_2}</p></div>",
    ],
)
def test_a_sidebars_prose_does_not_make_a_short_post_a_listing(sidebar):
    text = run(page(f"<div id='wrapper'>{SHORT_POST}{sidebar}</div>")).text
    assert "I tried it for a day" in text
    assert PROSE not in text


def test_a_right_column_named_as_a_layout_is_not_a_sidebar():
    html = page(f"<div class='with-sidebar-layout'>{ARTICLE}</div><div class='sidebar'><p>Ad.</p></div>")
    assert PROSE_3 in run(html).text


def test_a_long_discussion_does_not_make_an_article_one_block_among_many():
    posts = "".join(
        f"<li class='forum-fil'><div class='forum-message'><p>{text}</p></div></li>"
        for text in (PROSE, PROSE_2, PROSE_3, PROSE, PROSE_2, PROSE_3, PROSE_2, PROSE_3)
    )
    html = page(
        "<div class='main'><div class='text'><h1>Buses</h1><p>An article about the bus network, by us, "
        "which is about as long as a paragraph of a short news item gets, and then a little longer: it "
        "names the routes, the suburbs they join and the day the first buses run.</p><p>It is shorter "
        "than what its readers wrote under it, and says so plainly, in a sentence or two.</p></div></div>"
        f"<div class='discussion'><ul class='forum'>{posts}</ul></div>"
        "<div class='site-info'><p>Copyleft notes, of the site.</p></div>",
        head="<title>Buses</title><meta property='og:type' content='article'>",
    )
    text = run(html, meta=DATED).text
    assert "shorter than what its readers wrote" in text
    assert PROSE not in text


def test_the_standfirst_under_the_h1_is_kept_when_a_sticky_bar_repeats_the_title():
    html = page(
        "<div class='content'><h1>Bus routes</h1><div class='chapo'><p>Four new routes, and the "
        "same fares: what the council decided, and why it matters.</p></div>"
        f"<div class='sticky-title'>Bus routes</div><div class='body'>{ARTICLE}</div></div>"
    )
    text = run(html, meta=Meta(title="Bus routes")).text
    assert "what the council decided" in text
    assert PROSE_3 in text


def test_a_header_beside_the_body_gives_its_standfirst_but_not_its_meta_line():
    header = (
        "<div class='article-header'><div class='kicker'>Transport: the council's new plan</div>"
        "<p>Four new routes, and the same fares, for now: what the council decided, why, and why "
        "it matters, in short.</p>"
        "<div class='line'>Published by the city desk in the transport section</div></div>"
    )
    html = page(f"<div class='post'>{header}<div class='body'>{ARTICLE}</div></div>")
    text = run(html).text
    assert "what the council decided" in text
    assert PROSE_3 in text
    assert "city desk" not in text


@pytest.mark.parametrize("name", ["infobox-left", "side-box"])
def test_a_box_named_as_beside_the_text_is_not_merged_into_it(name):
    box = f"<div class='{name}'><p>Contact: the press office answers questions, weekdays, by phone.</p>"
    box += f"<p>{PROSE_2.replace('Officials', 'Spokespeople')}</p></div>"
    html = page(f"<div class='container'><div class='body'>{ARTICLE}</div>{box}</div>")
    text = run(html).text
    assert PROSE_3 in text
    assert "press office" not in text


def test_a_landing_page_of_cards_keeps_every_cards_description():
    cards = "".join(
        f"<div class='row-item'><h3><a href='/learn/{n}'>Learn topic {n}</a></h3>"
        f"<div class='item-description'><div class='item-body'>A course on topic {n}, with a quiz.</div>"
        "</div></div>"
        for n in range(6)
    )
    intro = (
        "<div class='item-description'><div class='item-body'>Explore our growing collection of courses, "
        "each written by an expert, and follow the modules in order, or dip into the topics you need, "
        "whenever you like, at your own pace, for free.</div></div>"
    )
    html = page(f"<main><div class='intro'>{intro}</div><div class='rows'>{cards}</div></main>")
    text = run(html).text
    assert "Explore our growing collection" in text
    assert "A course on topic 5" in text


def test_a_thread_is_dated_by_its_opening_post_not_its_last_reply():
    from scraper.extract import extract

    posts = "".join(
        f'<div class="message"><time datetime="2024-0{m}-0{m}T10:00:00">{m}.{m}.2024</time>'
        f"<p>{PROSE}</p></div>"
        for m in (3, 5, 7, 8, 9)
    )
    # the page declares the latest reply's time as its own (seen on forum software)
    head = '<title>T</title><meta property="article:published_time" content="2024-09-09T10:00:00">'
    article = extract(page(posts, head=head), "https://forum.example.com/threads/bus-routes.123/")
    assert article.page_kind == "forum"
    assert str(article.published)[:10] == "2024-03-03"


# ---- block choice (issue 10): customer reviews are not a product's text ----


@pytest.mark.parametrize("section", ["product-reviews-accordion", "customer_review-R2WO9R59YX9HYB"])
def test_a_product_description_wins_over_its_longer_customer_reviews(section):
    reviews = "".join(f"<div class='review-card'><p>{text}</p></div>" for text in (PROSE, PROSE_2, PROSE_3))
    html = page(
        "<div class='product'><h1>Trail pack</h1><div class='description'><p>Keep your day's gear "
        "within easy reach in this pack, with pockets galore for quick access to all your "
        "essentials.</p><p>Ripstop nylon main body fabric has a durable water repellent finish.</p>"
        f"</div></div><div class='{section}'>{reviews}</div>",
        head="<title>Trail pack</title><meta property='og:type' content='product'>",
    )
    text = run(html).text
    assert "pockets galore" in text
    assert PROSE not in text


# --- leaks at the edges of Chinese news pages (cwced-zh-dev) ----------------------------------


def test_a_chinese_mail_signup_promo_opening_the_text_is_dropped():
    # book.sina.com.cn: a red linked line before the chapter text
    promo = "<p><a href='http://tech.example.com/mail.shtml'>立刻注册新浪免费邮箱，激活1G空间</a></p>"
    text = run(page(f"<div id='content'>{promo}<p>{ZH_1}</p><p>{ZH_2}</p><p>{ZH_3}</p></div>")).text
    assert ZH_1 in text
    assert "免费邮箱" not in text


def test_chinese_source_comment_and_editor_lines_after_the_text_are_dropped():
    tail = (
        "<p>来源：新闻晨报</p><p>转自《北京科技报》</p><p>发表评论</p><p>打印本页</p>"
        "<p>扫一扫在手机打开当前页</p><p>【编辑:刘欢】 返回搜狐，查看更多</p>"
    )
    text = run(page(f"<div id='content'><p>{ZH_1}</p><p>{ZH_2}</p><p>{ZH_3}</p>{tail}</div>")).text
    assert ZH_3 in text
    for gone in ("来源", "北京科技报", "发表评论", "打印本页", "扫一扫", "编辑", "返回搜狐"):
        assert gone not in text


@pytest.mark.parametrize(
    "byline", ["光明日报记者 王建宏 张文攀", "本报实习生 刘国栋 周炜", "新京报记者 彭冲 山东冠县报道"]
)
def test_a_chinese_reporters_line_is_dropped(byline):
    body = f"<div id='content'><p>{ZH_1}</p><p>{ZH_2}</p><p>{byline}</p><p>{ZH_3}</p></div>"
    text = run(page(body)).text
    assert ZH_3 in text
    assert byline not in text


def test_a_related_reports_box_and_the_legal_notices_closing_a_chinese_page_are_dropped():
    # cn.news.yahoo.com: "相关报道：" with dated teasers, then two notices with their prose
    teasers = "".join(f"<p>·夫妻勾结受贿近37万 原局长被判{n}年（2005-04-01 15:57PM）</p>" for n in range(4))
    notice = (
        "<p>雅虎中国著作权声明</p><p>雅虎中国的所有内容均由其内容合作方根据协议提供。根据有关规定，"
        "未经内容合作方书面许可，任何单位或个人不得转载、摘编或以其他方式使用上述内容。</p>"
        "<p>雅虎中国传输内容声明</p><p>雅虎中国在网上传输的所有内容均由内容合作方提供，"
        "该等内容合作方负责其所发布的内容的真实性、准确性和合法性。</p>"
    )
    more = (
        "<p>据介绍，新线路沿途设置二十六个站点，覆盖三所中学和两家社区医院，日均客流预计超过两万人次。</p>"
        "<p>市交通局负责人说，线路开通后将根据客流情况及时调整发车间隔，并同步优化周边道路的信号配时。</p>"
        "<p>此外，部分站点还将试点设置电子站牌，乘客可以实时查询车辆到站时间，减少候车时间和不确定性。</p>"
    )
    body = (
        f"<div id='content'><p>{ZH_1}</p><p>{ZH_2}</p><p>{ZH_3}</p>{more}"
        f"<p>相关报道：</p>{teasers}{notice}</div>"
    )
    text = run(page(body)).text
    assert ZH_3 in text
    for gone in ("相关报道", "受贿", "著作权声明", "合作方"):
        assert gone not in text


# --- leaks at the edges of English articles ----------------------------------------------------


@pytest.mark.parametrize(
    "notice",
    [
        "We may earn a commission when you buy through links on our site.",
        "This post may contain affiliate links. Read my full disclosure.",
        "As an Amazon Associate I earn from qualifying purchases.",
    ],
)
def test_an_affiliate_disclosure_is_dropped(notice):
    html = page(f"<article><p><em>{notice}</em></p><p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE_3}</p></article>")
    text = run(html).text
    assert PROSE in text
    assert notice not in text


def test_prose_about_affiliate_programs_stays():
    line = "Affiliate programs: streamers earn a commission when viewers buy games via affiliate links."
    html = page(f"<article><p>{PROSE}</p><p>{line}</p><p>{PROSE_2}</p><p>Like this:</p></article>")
    text = run(html).text
    assert line in text
    assert "Like this" not in text


def test_the_wordpress_likes_widget_text_is_dropped():
    # WordPress.com (Jetpack) likes: the widget's iframe is gone, its label and placeholder stay as text
    likes = (
        "<div class='sharedaddy sd-block sd-like jetpack-likes-widget-wrapper'>"
        "<h3 class='sd-title'>Like this:</h3><div class='likes-widget-placeholder'>"
        "<span class='button'><span>Like</span></span> <span class='loading'>Loading…</span></div></div>"
    )
    text = run(page(f"<article><p>{PROSE}</p><p>{PROSE_2}</p>{likes}</article>")).text
    assert PROSE_2 in text
    assert "Like" not in text
    assert "Loading" not in text


@pytest.mark.parametrize(
    "name", ["optin-box", "mc4wp-form-fields", "inline-sign-up", "emailSignupForm", "klaviyo-form-x1"]
)
def test_a_newsletter_box_named_by_its_plugin_is_dropped(name):
    box = (
        f"<div class='{name}'><h3>The weekly briefing</h3>"
        "<p>Join 20,000 readers who get our best reporting, every Friday, for free.</p></div>"
    )
    html = page(f"<article><p>{PROSE}</p><p>{PROSE_2}</p>{box}<p>{PROSE_3}</p></article>")
    text = run(html).text
    assert PROSE_3 in text
    assert "20,000 readers" not in text
    assert "weekly briefing" not in text


# ---- paragraphs read from the body's flattening (flatten.paragraphs_inside) -----------------------

FLAT_PAGE = (
    "<html><body><p>Before <b>bold</b> text</p>"
    '<div id="block"><p>One <a href="/x">link</a> here</p>intro<br>line two<p><em>Emphasis</em></p></div>'
    '<a href="/y"><div id="in-link"><p>Linked block</p></div></a>'
    '<em><div id="in-em"><p>Emphasised block</p></div></em>'
    '<blockquote><div id="in-quote"><p>Quoted block</p></div></blockquote>'
    "<span id='inline'>Inline</span></body></html>"
)


def _para_fields(paras):
    return [(p.container, p.text, p.link_chars, p.quote, p.weight, p.keep_breaks, p.html) for p in paras]


def test_paragraphs_inside_a_block_are_what_flattening_it_gives():
    from scraper.extract.flatten import flatten, paragraphs_inside

    tree = parse_html(FLAT_PAGE)
    body = tree.find("body")
    block = body.get_element_by_id("block")
    read = paragraphs_inside(flatten(body), block)
    assert read is not None
    assert _para_fields(read) == _para_fields(flatten(block))
    assert [p.text for p in read] == ["One link here", "intro", "line two", "Emphasis"]


@pytest.mark.parametrize("element_id", ["in-link", "in-em", "in-quote", "inline"])
def test_paragraphs_inside_refuses_a_block_the_walk_reaches_with_state(element_id):
    from scraper.extract.flatten import flatten, paragraphs_inside

    body = parse_html(FLAT_PAGE).find("body")
    assert paragraphs_inside(flatten(body), body.get_element_by_id(element_id)) is None


@pytest.mark.parametrize(
    "line",
    [
        "This post may contain affiliate links.",
        "Affiliate disclosure: see our policy.",
        "Some commissionable links are below.",
        "As an Amazon Associate I earn from qualifying purchases.",
        "We may earn a small commission when you buy.",
        "I'd receive compensation for this.",
        "THIS GUIDE USES AFFILIATE LINKS",
    ],
)
def test_every_disclosure_holds_a_hint_word(line):
    from scraper.extract.boilerplate import DISCLOSURE_HINT_RE, DISCLOSURE_RE
    from scraper.extract.lines import is_boilerplate_text

    assert DISCLOSURE_RE.search(line)
    assert DISCLOSURE_HINT_RE.search(line)
    assert is_boilerplate_text(line)
