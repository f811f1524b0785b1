"""discover.py: links, pagination, feeds and sitemaps from real and hand-written fixtures."""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import json
import logging
import re
import threading
import tracemalloc
import zlib
from pathlib import Path

import lxml.html
import pytest

from scraper.discover import (
    FeedItem,
    Link,
    SitemapUrl,
    extract_links,
    find_feeds,
    find_pagination,
    matches_scope,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)

FIXTURES = Path(__file__).parent / "fixtures" / "discover"
FLOWFX_URL = "https://flowfx.de/blog/copy-paste-from-tmux-to-system-clipboard/"
UTC = dt.timezone.utc


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# ---- links -------------------------------------------------------------------------------------


def test_links_of_a_real_page_are_absolute_and_fragment_free():
    links = extract_links(fixture_text("flowfx-tmux.html"), FLOWFX_URL)
    urls = [link.url for link in links]
    assert "https://flowfx.de/about/" in urls
    assert "https://flowfx.de/blog/how-to-get-rid-of-github-notifications/" in urls  # "../" resolved
    assert "https://flowfx.de/rss.xml" in urls
    assert FLOWFX_URL in urls  # href="." is the page itself
    assert all(url.startswith(("http://", "https://")) and "#" not in url for url in urls)
    assert len(urls) == len(set(urls))
    assert urls.count("https://flowfx.de/contact/") == 1  # "../../contact/#impressum" is the same page
    nofollow = [link for link in links if link.nofollow]
    assert [link.url for link in nofollow] == ["https://getnikola.com"]


def test_links_honour_base_href_skip_other_schemes_and_dedupe_in_order():
    html = """<html><head><base href="/section/"></head><body>
      <a href="story-1.html">Story one</a>
      <a href="javascript:void(0)">js</a> <a href=" JavaScript:alert(1)">JS</a>
      <a href="mailto:desk@example.com">mail</a> <a href="tel:+441234">tel</a>
      <a href="data:text/html,hi">data</a> <a href="ftp://example.com/f">ftp</a>
      <a href="#top">top</a> <a href="">empty</a> <a>no href</a> <a href="http://[::1">bad ipv6</a>
      <a href="story-1.html#comments"><img src="x.png"></a>
      <a href="/story-2.html"></a>
      <a href="/story-2.html" rel="NoFollow  ugc">Story   two
      </a>
      <a href="
        story-3.html">split across lines</a>
      <a href="//cdn.example.com/x">protocol-relative</a>
    </body></html>"""
    links = extract_links(html, "https://news.example.com/index.html")
    assert links == [
        Link("https://news.example.com/section/story-1.html", "Story one", None),
        Link("https://news.example.com/story-2.html", "Story two", None),  # text filled from the 2nd
        Link("https://news.example.com/section/story-3.html", "split across lines", None),
        Link("https://cdn.example.com/x", "protocol-relative", None),
    ]


def test_rel_is_recorded_and_nofollow_detected():
    html = '<a href="/a" rel="NoFollow  ugc">A</a><a href="/b" rel="noopener">B</a>'
    first, second = extract_links(html, "https://example.com/")
    assert (first.rel, first.nofollow) == ("nofollow ugc", True)
    assert (second.rel, second.nofollow) == ("noopener", False)


def test_base_href_with_another_scheme_is_ignored():
    html = '<base href="javascript:alert(1)"><a href="x.html">x</a>'
    assert [link.url for link in extract_links(html, "https://example.com/dir/")] == [
        "https://example.com/dir/x.html"
    ]


def test_links_accept_a_parsed_tree_and_odd_inputs():
    tree = lxml.html.document_fromstring('<p><a href="/x">x</a></p>')
    assert [link.url for link in extract_links(tree, "https://example.com/")] == ["https://example.com/x"]
    assert extract_links("", "https://example.com/") == []
    assert extract_links("  \n <!-- nothing --> ", "https://example.com/") == []
    declared = '<?xml version="1.0" encoding="utf-8"?><html><body><a href="/é">é</a></body></html>'
    assert [link.url for link in extract_links(declared, "https://example.com/")] == ["https://example.com/é"]


# ---- feeds discovery ---------------------------------------------------------------------------


def test_feed_of_a_real_page():
    assert find_feeds(fixture_text("flowfx-tmux.html"), FLOWFX_URL) == ["https://flowfx.de/rss.xml"]


def test_feed_types_and_wordpress_rest_links():
    html = """<html><head>
      <link rel="alternate" type="application/rss+xml; charset=UTF-8" href="/feed/">
      <link rel="Alternate" type="application/atom+xml" href="https://example.com/atom.xml">
      <link rel="alternate" type="application/feed+json" href="feed.json">
      <link rel="alternate" type="application/json" title="Blog JSON Feed" href="/blog.json">
      <link rel="alternate" type="application/json" title="JSON" href="/wp-json/wp/v2/posts/1">
      <link rel="alternate" type="application/json+oembed" href="/wp-json/oembed/1.0/embed?url=x">
      <link rel="alternate" hreflang="de" href="/de/">
      <link rel="stylesheet" type="text/css" href="/style.css">
      <link rel="alternate" type="application/rss+xml" href="/feed/">
      <link rel="alternate" type="application/rss+xml" href="mailto:x@example.com">
    </head><body><a href="/rss.xml" type="application/rss+xml">a link is not announced</a></body></html>"""
    assert find_feeds(html, "https://example.com/blog/post") == [
        "https://example.com/feed/",
        "https://example.com/atom.xml",
        "https://example.com/blog/feed.json",
        "https://example.com/blog.json",
    ]


# ---- pagination --------------------------------------------------------------------------------


def _listing(next_anchor: str) -> str:
    return f"""<html><body><nav><a href="/about">About</a><a href="/next-steps">Next steps</a></nav>
      <article><a href="/story-1">Story 1</a></article>
      <div class="footer-links">{next_anchor}</div></body></html>"""


@pytest.mark.parametrize(
    "anchor",
    [
        '<a href="/list?page=2">Next</a>',
        '<a href="/list?page=2">Next page »</a>',
        '<a href="/list?page=2">›</a>',
        '<a href="/list?page=2"> » </a>',
        '<a href="/list?page=2">下一页</a>',
        '<a href="/list?page=2">Nächste Seite</a>',
        '<a href="/list?page=2">Suivant →</a>',
        '<a href="/list?page=2">Siguiente</a>',
        '<a href="/list?page=2">次へ</a>',
        '<a href="/list?page=2">Следующая</a>',
        '<a href="/list?page=2" aria-label="Next page"><svg></svg></a>',
        '<a href="/list?page=2" class="btn pagination__next"><span></span></a>',
        '<ul><li class="next"><a href="/list?page=2">2</a></li></ul>',
        '<a href="/list?page=2" rel="next">More stories</a>',
    ],
)
def test_next_page_in_several_languages_and_markups(anchor):
    found = find_pagination(_listing(anchor), "https://example.com/list")
    assert found == ["https://example.com/list?page=2"]


def test_no_pagination_on_a_page_without_a_pager():
    assert find_pagination(_listing('<a href="/contact">Contact</a>'), "https://example.com/list") == []


def test_rel_next_comes_first_and_pager_links_follow():
    html = """<html><head><link rel="next" href="/page/2/"></head><body>
      <nav class="navigation pagination"><div class="nav-links">
        <span aria-current="page" class="page-numbers current">1</span>
        <a class="page-numbers" href="/page/3/">3</a>
        <a class="page-numbers" href="/">1</a>
        <a class="next page-numbers" href="/page/2/">Next</a>
      </div></nav>
      <ul class="pager"><li><a href="/page/9/">9</a></li></ul>
      <a href="/page/2/#top">Next</a></body></html>"""
    assert find_pagination(html, "https://example.com/") == [
        "https://example.com/page/2/",
        "https://example.com/page/3/",  # in a pager; "/" is the page itself and left out
        "https://example.com/page/9/",
    ]


def test_pagination_of_real_pages():
    # rel=next first, then the other link of its <ul class="pager"> (the previous post)
    assert find_pagination(fixture_text("flowfx-tmux.html"), FLOWFX_URL) == [
        "https://flowfx.de/blog/how-to-get-rid-of-github-notifications/",
        "https://flowfx.de/blog/auf-gehts-freiburg-kampfen-und-siegen/",
    ]
    zh = find_pagination(
        fixture_text("gamersky-zh.html"), "https://ol.gamersky.com/news/201909/1220000.shtml"
    )
    assert "https://wap.gamersky.com/news/Content-1220000_2.html" in zh
    assert not any(url.startswith("javascript") for url in zh)


# ---- feeds -------------------------------------------------------------------------------------


def test_rss2():
    items = parse_feed(fixture_bytes("rss2.xml"), "https://news.example.com/rss")
    assert items == [
        FeedItem(
            "https://news.example.com/2024/03/budget.html", "Council approves budget", utc(2024, 3, 5, 13, 30)
        ),
        FeedItem("https://news.example.com/2024/03/relative.html", "Relative link item", utc(2024, 3, 4, 8)),
        FeedItem("https://news.example.com/2024/03/guid-only.html", "Guid only", None),
    ]


def test_rss1_rdf():
    items = parse_feed(fixture_bytes("rss1.rdf"), "https://blog.example.org/index.rdf")
    assert [(item.url, item.title, item.published) for item in items] == [
        ("https://blog.example.org/a", "First RDF item", utc(2024, 1, 1, 1, 30)),
        ("https://blog.example.org/b", "Second RDF item", utc(2024, 1, 2)),
    ]


def test_atom_with_xml_base_and_link_choice():
    items = parse_feed(fixture_bytes("atom.xml"), "https://atom.example.net/feed.atom")
    assert items == [
        FeedItem(
            "https://atom.example.net/blog/posts/1.html",
            "Fish & chips",
            dt.datetime(2024, 2, 29, 6, 30, 0, 250000, tzinfo=UTC),
        ),
        FeedItem("https://other.example.net/two", "Only updated, link without rel", utc(2024, 3, 2, 10, 20)),
    ]


def test_json_feed():
    items = parse_feed(fixture_bytes("feed.json"), "https://json.example.com/feed.json")
    assert items == [
        FeedItem("https://json.example.com/one", "One", utc(2024, 1, 10, 9)),
        FeedItem("https://json.example.com/two", "Two by id", utc(2024, 1, 11)),
        FeedItem("https://json.example.com/three", "Relative three", None),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05T14:30:00+01:00", utc(2024, 3, 5, 13, 30)),
        ("2024-03-05T14:30:00Z", utc(2024, 3, 5, 14, 30)),
        ("2024-03-05t14:30:00z", utc(2024, 3, 5, 14, 30)),
        ("2024-03-05 14:30:00-0530", utc(2024, 3, 5, 20, 0)),
        ("2024-03-05T14:30", utc(2024, 3, 5, 14, 30)),  # no zone: taken as UTC
        ("2024-03-05", utc(2024, 3, 5)),
        ("2024-03-05T14:30:00.123456789Z", dt.datetime(2024, 3, 5, 14, 30, 0, 123456, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 14:30:00 GMT", utc(2024, 3, 5, 14, 30)),
        ("Tue, 05 Mar 2024 14:30:00 -0000", utc(2024, 3, 5, 14, 30)),
        ("5 Mar 2024 14:30 EST", utc(2024, 3, 5, 19, 30)),
        ("2024-02-30", None),
        ("yesterday", None),
        ("", None),
        ("Tue, 05 Foo 2024 14:30:00 GMT", None),
    ],
)
def test_feed_dates_are_aware_utc(text, expected):
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"url": "https://e.com/a", "date_published": text}],
    }
    (item,) = parse_feed(json.dumps(doc).encode(), "https://e.com/feed.json")
    assert item.published == expected
    if expected is not None:
        assert item.published.tzinfo == UTC


def test_max_items_counts_distinct_items():
    entries = "".join(f"<item><link>https://e.com/{n % 50}</link></item>" for n in range(200))
    data = f"<rss><channel>{entries}</channel></rss>".encode()
    items = parse_feed(data, "https://e.com/rss", max_items=20)
    assert [item.url for item in items] == [f"https://e.com/{n}" for n in range(20)]
    assert len(parse_feed(data, "https://e.com/rss")) == 50


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"{not json",
        b'["a", "list"]',
        b'{"items": "nope"}',
        b"\x00\x01\x02",
        b"<<<>>>",
        b"<html>",
    ],
)
def test_broken_feeds_give_nothing_and_never_raise(data, caplog):
    with caplog.at_level(logging.WARNING, logger="scraper.crawl.discover"):
        assert parse_feed(data, "https://e.com/feed") == []


def test_xxe_in_a_feed_reads_no_file():
    items = parse_feed(fixture_bytes("xxe-feed.xml"), "https://www.example.com/rss")
    assert items == [FeedItem("https://www.example.com/item.html", None, None)]
    assert "root:" not in repr(items)


# ---- sitemaps ----------------------------------------------------------------------------------


def test_sitemap_index():
    sitemap = parse_sitemap(fixture_bytes("sitemap-index.xml"), "https://www.example.com/sitemap.xml")
    assert sitemap.urls == []
    assert sitemap.sitemaps == [
        "https://www.example.com/sitemap-posts.xml.gz",
        "https://www.example.com/sitemap-pages.xml",
    ]
    assert not sitemap.truncated


def test_news_sitemap():
    sitemap = parse_sitemap(fixture_bytes("sitemap-news.xml"), "https://www.example.com/news.xml")
    assert sitemap.urls == [
        SitemapUrl(
            "https://www.example.com/business/article55.html", utc(2024, 3, 5), utc(2024, 3, 4, 18, 20, 30)
        ),
        SitemapUrl("https://www.example.com/business/article56.html", None, None),
    ]


def test_gzip_is_found_by_its_magic_not_its_name():
    data = fixture_bytes("sitemap-gz.xml")
    assert data[:2] == b"\x1f\x8b"
    sitemap = parse_sitemap(data, "https://www.example.com/sitemaps/gz.xml")
    assert [url.loc for url in sitemap.urls] == [
        "https://www.example.com/gz/1.html",
        "https://www.example.com/gz/2.html",
        "https://www.example.com/sitemaps/gz/3.html",
    ]
    assert sitemap.urls[0].lastmod == utc(2024, 1, 1)
    assert not sitemap.truncated


def test_text_sitemap():
    sitemap = parse_sitemap(fixture_bytes("sitemap.txt"), "https://www.example.com/sitemap.txt")
    assert [url.loc for url in sitemap.urls] == [
        "https://www.example.com/a.html",
        "https://www.example.com/b.html",
        "https://www.example.com/relative/c.html",
    ]


def test_a_feed_served_as_sitemap_gives_its_items():
    sitemap = parse_sitemap(fixture_bytes("rss2.xml"), "https://news.example.com/rss")
    assert [url.loc for url in sitemap.urls][:1] == ["https://news.example.com/2024/03/budget.html"]
    assert sitemap.urls[0].lastmod == utc(2024, 3, 5, 13, 30)


def test_billion_laughs_is_not_expanded():
    sitemap = parse_sitemap(fixture_bytes("billion-laughs.xml"), "https://www.example.com/s.xml")
    # libxml2 stops at its amplification limit; the <url> it was reading is dropped, not cut short
    assert sitemap.urls == []


def test_xxe_reads_no_local_file():
    sitemap = parse_sitemap(fixture_bytes("xxe-sitemap.xml"), "https://www.example.com/s.xml")
    assert [url.loc for url in sitemap.urls] == ["https://www.example.com/fine.html"]
    assert "root:" not in repr(sitemap)


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 (one test owns it)

    def do_GET(self):
        type(self).hits.append(self.path)
        body = b'<!ENTITY secret "REMOTE-SECRET">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def dtd_server():
    _CountingHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_external_dtds_are_neither_fetched_nor_read(dtd_server, tmp_path):
    local_dtd = tmp_path / "evil.dtd"
    local_dtd.write_text('<!ENTITY secret "LOCAL-SECRET">', encoding="utf-8")
    for doctype in (
        f'<!DOCTYPE urlset SYSTEM "{dtd_server}/evil.dtd">',
        f'<!DOCTYPE urlset SYSTEM "{local_dtd.as_uri()}">',
        f'<!DOCTYPE urlset [<!ENTITY % remote SYSTEM "{dtd_server}/param.dtd"> %remote;]>',
    ):
        data = (
            f'<?xml version="1.0"?>{doctype}<urlset><url><loc>https://e.com/&secret;</loc></url>'
            "<url><loc>https://e.com/ok</loc></url></urlset>"
        ).encode()
        sitemap = parse_sitemap(data, "https://e.com/s.xml")
        assert [url.loc for url in sitemap.urls] == ["https://e.com/ok"]
        assert "SECRET" not in repr(sitemap)
    assert _CountingHandler.hits == []


def test_nesting_past_the_depth_limit_is_harmless():
    data = (
        b"<urlset><url><loc>https://e.com/a</loc></url>" + b"<x>" * 5000 + b"<url><loc>https://e.com/b</loc>"
    )
    sitemap = parse_sitemap(data, "https://e.com/s.xml")
    assert [url.loc for url in sitemap.urls] == ["https://e.com/a"]


def test_malformed_sitemap_is_read_as_far_as_possible():
    sitemap = parse_sitemap(fixture_bytes("malformed-sitemap.xml"), "https://www.example.com/s.xml")
    assert "https://www.example.com/ok-1.html" in [url.loc for url in sitemap.urls]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<",
        b"<html><body><h1>404 Not Found</h1></body></html>",
        b"\x1f\x8b\x08\x00garbage-after-the-gzip-magic",
        b"\x1f\x8b",
        b"\xff\xfe<\x00u\x00",
    ],
)
def test_broken_sitemaps_give_nothing_and_never_raise(data, caplog):
    with caplog.at_level(logging.WARNING, logger="scraper.crawl.discover"):
        sitemap = parse_sitemap(data, "https://www.example.com/s.xml")
    assert sitemap.urls == []
    assert sitemap.sitemaps == []


def test_truncated_gzip_keeps_what_was_inflated():
    xml = "".join(f"<url><loc>https://e.com/{n}</loc></url>" for n in range(2000))
    data = gzip.compress(f"<urlset>{xml}</urlset>".encode())
    sitemap = parse_sitemap(data[: len(data) // 2], "https://e.com/s.xml")
    assert 0 < len(sitemap.urls) < 2000
    assert sitemap.urls[0].loc == "https://e.com/0"


def _gzip_bomb(decoded_mib: int) -> bytes:
    """A gzipped sitemap: one <url>, then decoded_mib MiB of blanks (about 1000:1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(b"<urlset><url><loc>https://e.com/first</loc></url>")]
    blanks = b" " * (1024 * 1024)
    parts += [packer.compress(blanks) for _ in range(decoded_mib)]
    parts.append(packer.flush())
    return b"".join(parts)


def test_gzip_bomb_stops_at_max_bytes_with_bounded_memory():
    bomb = _gzip_bomb(200)
    assert len(bomb) < 300 * 1024
    cap = 2 * 1024 * 1024
    tracemalloc.start()
    try:
        sitemap = parse_sitemap(bomb, "https://e.com/s.xml", max_bytes=cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sitemap.truncated
    assert [url.loc for url in sitemap.urls] == ["https://e.com/first"]
    # the decoded text is held about twice (inflate buffer, then the text parsed); never the 200 MiB
    assert peak < 2.5 * cap + 1024 * 1024, f"peak {peak} bytes"


def test_plain_body_over_max_bytes_is_cut_and_flagged():
    xml = "".join(f"<url><loc>https://e.com/{n}</loc></url>" for n in range(1000)).encode()
    sitemap = parse_sitemap(b"<urlset>" + xml + b"</urlset>", "https://e.com/s.xml", max_bytes=len(xml) // 2)
    assert sitemap.truncated
    assert 0 < len(sitemap.urls) < 1000


@pytest.mark.parametrize("packed", [False, True])
def test_a_url_cut_by_max_bytes_is_dropped_not_shortened(packed):
    xml = b"<urlset><url><loc>https://e.com/first</loc></url><url><loc>https://e.com/second</loc></url>"
    text = b"https://e.com/first\nhttps://e.com/second\n"
    for body in (xml, text):
        cap = body.index(b"second") + 3  # the cut leaves "https://e.com/sec"
        data = gzip.compress(body) if packed else body
        sitemap = parse_sitemap(data, "https://e.com/s.xml", max_bytes=cap)
        assert sitemap.truncated
        assert [url.loc for url in sitemap.urls] == ["https://e.com/first"]


@pytest.mark.parametrize(("count", "truncated"), [(100, False), (101, True), (250, True)])
def test_max_urls(count, truncated):
    xml = "".join(f"<url><loc>https://e.com/{n}</loc></url>" for n in range(count))
    sitemap = parse_sitemap(f"<urlset>{xml}</urlset>".encode(), "https://e.com/s.xml", max_urls=100)
    assert len(sitemap.urls) == min(count, 100)
    assert sitemap.truncated is truncated
    assert sitemap.urls[-1].loc == f"https://e.com/{min(count, 100) - 1}"


def test_max_urls_applies_to_text_and_index_sitemaps():
    text = "\n".join(f"https://e.com/{n}" for n in range(30)).encode()
    assert len(parse_sitemap(text, "https://e.com/s.txt", max_urls=10).urls) == 10
    index = "".join(f"<sitemap><loc>https://e.com/{n}.xml</loc></sitemap>" for n in range(30))
    sitemap = parse_sitemap(f"<sitemapindex>{index}</sitemapindex>".encode(), "https://e.com/", max_urls=10)
    assert (len(sitemap.sitemaps), sitemap.truncated) == (10, True)


# ---- robots sitemaps and scope -----------------------------------------------------------------


def test_sitemaps_from_robots():
    urls = sitemaps_from_robots(fixture_text("robots-groups.txt"), "https://www.example.com/robots.txt")
    assert urls == [
        "https://www.example.com/sitemap-index.xml",
        "https://www.example.com/news-sitemap.xml",
        "https://www.example.com/relative-sitemap.xml",
    ]
    assert sitemaps_from_robots("SITEMAP:   ftp://x.com/s.xml\nsitemap:\n", "https://x.com/robots.txt") == []


def test_matches_scope():
    allow = [re.compile(r"^https://news\.example\.com/20\d\d/"), re.compile(r"/live/")]
    deny = [re.compile(r"\.pdf$"), re.compile(r"/2019/")]
    assert matches_scope("https://news.example.com/2024/a.html", allow, deny)
    assert matches_scope("https://other.example.com/live/feed", allow, deny)
    assert not matches_scope("https://news.example.com/about", allow, deny)
    assert not matches_scope("https://news.example.com/2024/a.pdf", allow, deny)  # deny wins
    assert not matches_scope("https://news.example.com/2019/a.html", allow, deny)
    assert matches_scope("https://anything.example/x", [], [])
    assert not matches_scope("https://anything.example/x.pdf", [], deny)
