"""The title step: which heading or declared title is the headline, and how its text is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scraper.config import Rules
from scraper.extract import extract
from scraper.extract.metadata import extract_metadata
from scraper.extract.model.title import TITLE_MODEL_ENV, load_title_model, read_title_model
from scraper.extract.parse import parse_html
from scraper.extract.title_features import FEATURE_NAMES, TITLE_FEATURE_VERSION, page_rows
from scraper.extract.titles import clean_title


def _title(html: str, url: str | None = "https://example.com/news/a.html") -> str | None:
    tree = parse_html(html)
    assert tree is not None
    return extract_metadata(tree, url, Rules()).title


def _page(head: str, body: str) -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


# Heading text as a browser shows it ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("h1", "title"),
    [
        # Inline markup inside a word or before punctuation adds no space (wcxb-dev dev_0468,
        # readability-testpages lazy-image-2).
        ("How AI Can Cut Your Planning C<span>ycle</span> Short", "How AI Can Cut Your Planning Cycle Short"),
        ("The Story Of <em>Metroid</em>, One Of Many", "The Story Of Metroid, One Of Many"),
        # A line break or a block still separates words.
        ("Frauen im THW<br>Vergangenheit und Zukunft", "Frauen im THW Vergangenheit und Zukunft"),
    ],
)
def test_heading_text_follows_inline_and_block_markup(h1, title):
    assert _title(_page(f"<title>{title} - Site</title>", f"<h1>{h1}</h1>")) == title


@pytest.mark.parametrize(
    ("h1", "title"),
    [
        # rustdoc: a copy button inside the heading (wcxb-dev dev_4397).
        ('Crate <span>tokio</span> <button id="copy-path">Copy item path</button>', "Crate tokio"),
        # Google's devsite: a bookmark tooltip in a `hidden` element (wcxb-dev dev_3037).
        (
            "IAM overview<devsite-actions hidden><span>Stay organized with collections</span>"
            "</devsite-actions>",
            "IAM overview",
        ),
        # A theme's meta line in a nested heading (wcxb-dev dev_0330).
        (
            'Top Strategies<h3 class="date-info-title"><span>Posted on <time>July 1, 2024</time></span>'
            "<span> by infuy</span></h3>",
            "Top Strategies",
        ),
        # A date and tags line after a break, in <small> (trafilatura set, hvw-online.org).
        (
            "Zuschauerrückkehr bei den Proficlubs<br><small>02.02.2022 • Presse</small>",
            "Zuschauerrückkehr bei den Proficlubs",
        ),
    ],
)
def test_controls_and_meta_lines_inside_a_heading_are_not_its_words(h1, title):
    assert _title(_page("<title>Other words - Site</title>", f"<h1>{h1}</h1>")) == title


def test_small_and_time_opening_a_heading_still_count():
    # Only what follows the headline's first words is a meta line.
    html = _page(
        "<title>2024 Election results - Site</title>", "<h1><small>2024</small> Election results</h1>"
    )
    assert _title(html) == "2024 Election results"


def test_lone_h1_beats_a_tagline_title_that_shares_no_word_with_it():
    # reddit: <title> is the site's name and slogan on every thread (wcxb-dev, three pages).
    html = _page(
        "<title>Reddit - The heart of the internet</title>",
        "<h1>Enameled Cast Iron Pan and Metal</h1><p>I have a question about my pan.</p>",
    )
    url = "https://www.reddit.com/r/castiron/comments/1/pan/"
    assert _title(html, url) == "Enameled Cast Iron Pan and Metal"


def test_a_title_without_a_site_name_still_beats_an_unrelated_h1():
    html = _page("<title>Xfinity TV and Streaming</title>", "<h1>Watch everywhere</h1>")
    assert _title(html) == "Xfinity TV and Streaming"


# Kickers: a heading's first element that the declared titles set apart -----------------------------


def test_kicker_element_that_title_separates_is_cut():
    # Lebensmittel Praxis: <span class="subtitle"> before the headline, "Kicker - Headline - Site" in <title>.
    html = _page(
        "<title>Olympische Spiele - Getränke per Schiff ins Stadtzentrum - Lebensmittel Praxis</title>",
        '<h1><span class="subtitle">Olympische Spiele</span> Getränke per Schiff ins Stadtzentrum</h1>',
    )
    assert _title(html) == "Getränke per Schiff ins Stadtzentrum"


def test_kicker_with_screen_reader_separator_and_colon_title_is_cut():
    # ZEIT ONLINE: the ": " between kicker and headline is visually hidden; <title> reads "Kicker: Headline".
    html = _page(
        "<title>Klimaschutz: Bohren, bis es heiß wird | ZEIT ONLINE</title>",
        '<h1><span class="kicker">Klimaschutz</span><span class="visually-hidden">: </span>'
        "<span>Bohren, bis es heiß wird</span></h1>",
    )
    assert _title(html) == "Bohren, bis es heiß wird"


def test_visible_kicker_colon_is_part_of_the_headline():
    # theoriginalcopy.de: "Editor's Letter:" is printed with its colon, so readers see one headline.
    html = _page(
        "<title>Editor’s Letter: bye OC Baby, hi Bernsi Baby! - The Original Copy</title>",
        "<h1><b>Editor’s Letter:</b><i> bye OC Baby, hi Bernsi Baby!</i></h1>",
    )
    assert _title(html) == "Editor’s Letter: bye OC Baby, hi Bernsi Baby!"


def test_first_element_without_title_separator_is_not_a_kicker():
    # A brand in its own span ("<span>KALLAX</span> Shelf unit") is part of the product name.
    html = _page(
        "<title>KALLAX Shelf unit, white - IKEA</title>", "<h1><span>KALLAX</span> Shelf unit, white</h1>"
    )
    assert _title(html) == "KALLAX Shelf unit, white"


# Declared titles ------------------------------------------------------------------------------------


def test_meta_property_may_list_several_terms():
    # RDFa: one property attribute can name several terms (readability-testpages 004).
    html = _page(
        '<title>Title Element</title><meta property="x:title dc:title" content="Preferred title">', "<p>x</p>"
    )
    assert _title(html) == "Preferred title"


def test_declared_title_ends_at_a_pipe_once_the_site_name_is_gone():
    # wcxb-dev dev_4235: og:title "Headline | Tagline | Site", no heading agrees with it.
    html = _page(
        '<meta property="og:title" content="What is Mesh WiFi? | Whole Home Mesh WiFi | TP-Link">'
        '<meta property="og:site_name" content="TP-Link">',
        "<h1>Shop now</h1>",
    )
    assert _title(html) == "What is Mesh WiFi?"


def test_declared_title_keeps_a_dash_subtitle():
    html = _page('<meta property="og:title" content="Qualità Oro - Perfect Symphony, 250g Dose">', "<p>x</p>")
    assert _title(html) == "Qualità Oro - Perfect Symphony, 250g Dose"


# Headingless old pages and forum subjects (issue 10) ------------------------------------------------

TITLE_FIXTURES = Path(__file__).parent / "fixtures" / "titles"
PAGES = Path(__file__).parent / "fixtures" / "pages"


def test_headingless_page_titled_with_a_ui_word_takes_its_emphasised_line():
    # cwced-zh-dev beijingspring.com: <title>显示</title>, no heading, a centred bold headline.
    html = (TITLE_FIXTURES / "beijingspring-headingless.html").read_text(encoding="utf-8")
    url = "http://beijingspring.com/wj/ShowAnnounce.asp?boardID=2&RootID=65"
    assert extract(html, url).title == "犬儒病(上)"


@pytest.mark.parametrize("word", ["显示", "打印", "关闭", "Print", "Close"])
def test_a_ui_word_is_never_the_title(word):
    html = _page(
        f"<title>{word}</title>", "<p>" + "Some text of the article, long enough to read. " * 4 + "</p>"
    )
    assert _title(html) is None


def test_a_start_page_word_gives_way_to_an_emphasised_line():
    html = _page("<title>Home</title>", "<p align=center><b>Der Titel</b></p><p>" + "Text. " * 30 + "</p>")
    assert _title(html) == "Der Titel"


def test_an_emphasised_line_after_the_text_began_is_not_the_title():
    html = _page("<title>显示</title>", "<p>" + "正文的第一段，足够长。" * 10 + "</p><p><b>相关文章</b></p>")
    assert _title(html) is None


def test_forum_subject_label_is_not_part_of_the_title():
    # cwced-zh-dev bbs.zol.com.cn: <h1><img> 主题: 【…】【…】 【…】</h1>, no <title>.
    raw = (PAGES / "zol-bbs-gbk-undeclared" / "page.html").read_bytes()
    article = extract(raw, "http://bbs.zol.com.cn/index20050828/index_221_4487.shtml")
    assert article.title == "【2005年中国革命历史巨作】【太行山上】 【DVDSCR-RMVB】"


# The learned title chooser (model/title.py) -----------------------------------------------------------


def _write_model(path: Path, weights: dict[str, float]) -> Path:
    row = [weights.get(name, 0.0) for name in FEATURE_NAMES]
    data = {"feature_version": TITLE_FEATURE_VERSION, "enabled": True, "weights": row}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_title_model_picks_its_highest_scoring_candidate(tmp_path):
    model = read_title_model(_write_model(tmp_path / "m.json", {"src_h2": 5.0}))
    html = _page("<title>Headline - Site</title>", "<h1>Headline</h1><h2>Second heading</h2>")
    tree = parse_html(html)
    assert tree is not None
    cands, rows = page_rows(tree, "https://example.com/a", {}, None, None, "Headline")
    assert cands[model.best(rows)].text == "Second heading"


def test_a_model_trained_on_other_features_is_refused(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"feature_version": -1, "weights": [0.0]}), encoding="utf-8")
    with pytest.raises(ValueError, match="other features"):
        read_title_model(path)


def test_title_model_env_names_the_file_or_turns_it_off(tmp_path, monkeypatch):
    path = _write_model(tmp_path / "m.json", {"src_h2": 5.0})
    html = _page("<title>Headline - Site</title>", "<h1>Headline</h1><h2>Second heading</h2>")
    try:
        monkeypatch.setenv(TITLE_MODEL_ENV, str(path))
        load_title_model.cache_clear()
        assert _title(html) == "Second heading"
        monkeypatch.setenv(TITLE_MODEL_ENV, "off")
        load_title_model.cache_clear()
        assert _title(html) == "Headline"
    finally:
        monkeypatch.undo()
        load_title_model.cache_clear()


def test_the_h1_opening_title_beats_a_longer_section_heading_title_also_names():
    # wcxb-dev dev_0672 (MDN): <title>Flexbox - Learn web development | MDN</title>, a sidebar
    # heading "Learn web development" and the article's <h1>Flexbox</h1>.
    html = _page(
        "<title>Flexbox - Learn web development | MDN</title>",
        "<nav><h2>Learn web development</h2></nav><main><h1>Flexbox</h1><p>Text.</p></main>",
    )
    assert _title(html) == "Flexbox"


def test_heading_elements_are_the_xpath_union_in_document_order_across_roots():
    from lxml import etree

    from scraper.extract.titles import HEADINGS_MAX, _heading_elements

    cards = "".join(f'<div class="card-title">Card {i}</div><span class="Title">no</span>' for i in range(70))
    page = (
        '<html><body><p class="headline-kicker">Kicker</p><h1>Headline</h1><h3 itemprop="headline">X</h3>'
        '<h4 class="title">h4 is not read</h4><section class="title">nor a section</section>'
        f"{cards}</body></html><html><body><h2>After a second html</h2></body></html>"
    )
    tree = parse_html(page)
    union = etree.XPath(
        '//h1 | //h2 | //*[@itemprop="headline"] | //*[self::h3 or self::div or self::span or self::p]'
        '[contains(@class, "title") or contains(@class, "headline")]'
    )
    assert _heading_elements(tree) == union(tree)[:HEADINGS_MAX]
    assert [el.tag for el in _heading_elements(tree)[:3]] == ["p", "h1", "h3"]
    short = parse_html(page.replace(cards, ""))
    assert [el.text for el in _heading_elements(short)][-1] == "After a second html"


def test_a_kicker_its_class_names_is_cut_even_when_title_repeats_it():
    # selbst.de: <span class="article-header__roofline">, and <title> is "Wurmkiste | selbst.de".
    html = _page(
        "<title>Wurmkiste | selbst.de</title>",
        '<h1><span class="article-header__roofline">Wurmkiste</span> Wurmkiste selber bauen</h1>',
    )
    assert _title(html, "https://www.selbst.de/wurmkiste.html") == "Wurmkiste selber bauen"


def test_an_unnamed_opening_span_stays_part_of_the_headline():
    html = _page(
        "<title>Wurmkiste selber bauen | selbst.de</title>",
        "<h1><span>Wurmkiste</span> selber bauen</h1>",
    )
    assert _title(html, "https://www.selbst.de/wurmkiste.html") == "Wurmkiste selber bauen"


def test_a_heading_that_is_the_sites_domain_is_not_the_headline():
    # mdr.de: an h2 "MDR.de" matches <title>'s last segment; the headline is the other segment.
    html = _page(
        "<title>Corona-Lockerungen: Autohäuser rechnen mit langsamem Anlaufen | MDR.DE</title>",
        "<h2>MDR.de</h2><h1>Autohäuser rechnen mit langsamem Anlaufen</h1>",
    )
    assert _title(html, "https://www.mdr.de/nachrichten/autohaeuser-100.html") == (
        "Autohäuser rechnen mit langsamem Anlaufen"
    )


def test_ruby_readings_are_not_part_of_the_heading():
    # NHK News Web Easy prints each kanji's reading above it in <rt>.
    html = _page(
        "<title>NEWS WEB EASY|子どもへの体罰を禁止する法律ができる</title>",
        "<h1><ruby>子<rt>こ</rt></ruby>どもへの<ruby>体罰<rp>(</rp><rt>たいばつ</rt><rp>)</rp></ruby>"
        "を禁止する法律ができる</h1>",
    )
    url = "https://www3.nhk.or.jp/news/easy/k100/k100.html"
    assert _title(html, url) == "子どもへの体罰を禁止する法律ができる"


def test_a_one_word_h1_among_many_is_a_section_label_not_the_headline():
    # wcxb-dev dev_0274 (bluecollarelectricians.com/coupons/): ten h1s, the first a one-word label
    # that <title> also has; one shared word is no agreement, so <title> names the page.
    html = _page(
        "<title>Residential Electrician Coupons | Blue Collar Electricians</title>",
        "<h1>Coupons</h1><h1>Price Match Guarantee</h1><h1>10% Off Electrical Panel Upgrade</h1>"
        "<h1>$50.00 Off Any Electrical Repair</h1><h1>About Us</h1><h1>CONTACT US</h1>",
    )
    url = "https://www.bluecollarelectricians.com/coupons/"
    assert _title(html, url) == "Residential Electrician Coupons"
    # On a page with fewer h1s a one-word h1 stays the headline.
    html = _page("<title>Lights | Giro Sport Design</title>", "<h1>Lights</h1><h2>Front lights</h2>")
    assert _title(html, "https://www.giro.com/lights") == "Lights"


def test_a_leading_title_part_that_only_contains_the_site_name_is_kept():
    # wcxb-dev dev_4145 (a Discourse forum whose og:site_name is "Astronomy"): "New to Astronomy"
    # opens the topic's title; it names the site only in passing, so it is not cut as the site name.
    html = _page(
        "<title>New to Astronomy – Best First Telescope Recommendations? - Site Feedback - Astronomy</title>"
        '<meta property="og:title" content="New to Astronomy – Best First Telescope Recommendations?">'
        '<meta property="og:site_name" content="Astronomy">',
        "<p>I am looking for my first telescope.</p>",
    )
    url = "https://forum.astronomy.com/t/new-to-astronomy-best-first-telescope-recommendations/1555"
    assert _title(html, url) == "New to Astronomy – Best First Telescope Recommendations?"
    # A trailing part that holds the name is still the site's: "Headline - Astronomy Magazine".
    assert clean_title("Headline - Astronomy Magazine", ("Astronomy",)) == "Headline"


def test_an_animated_headings_aria_hidden_copy_is_not_read_twice():
    # wcxb-dev dev_2834 (linear.app): the words fly in as aria-hidden spans, one set for mobile,
    # one for desktop, and a visually hidden span gives the line once for screen readers.
    html = _page(
        "<title>Linear – The system for product development</title>",
        '<h1><span aria-hidden="true"><span class="show-mobile">The product</span>'
        '<span class="show-mobile">development</span><span class="hide-mobile">The product development</span>'
        '<br class="hide-mobile"><span class="hide-mobile">system for teams <br>and agents</span></span>'
        '<span class="utils_visuallyHidden">The product development system for teams and agents</span></h1>',
    )
    assert _title(html, "https://linear.app/") == "The product development system for teams and agents"
    # A heading with nothing but aria-hidden text still reads it.
    html = _page("<title>Lights | Giro</title>", '<h1><span aria-hidden="true">Lights</span></h1>')
    assert _title(html, "https://www.giro.com/lights") == "Lights"
