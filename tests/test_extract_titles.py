"""The title step: which heading or declared title is the headline, and how its text is read."""

from __future__ import annotations

import pytest

from scraper.config import Rules
from scraper.extract.metadata import extract_metadata
from scraper.extract.parse import parse_html


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
