"""robots.py: RFC 9309 rules over Protego, on small robots.txt fixtures."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from scraper.robots import MAX_ROBOTS_BYTES, RobotsPolicy, policy_from_response, robots_url

FIXTURES = Path(__file__).parent / "fixtures" / "discover"
SITE = "https://www.example.com"


@pytest.fixture
def groups_txt() -> str:
    return (FIXTURES / "robots-groups.txt").read_text(encoding="utf-8")


@pytest.fixture
def ours(groups_txt) -> RobotsPolicy:
    return RobotsPolicy.parse(groups_txt, "scraper")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", True),
        ("/drafts/one.html", False),
        ("/shop", False),
        ("/shop/cart", False),
        ("/shop/catalogue/item-1", True),  # longer Allow beats shorter Disallow
        ("/shop/catalogue/secret", True),  # "secret$" Allow is longer than the Disallow
        ("/shop/catalogue/secret/page", False),  # "$" anchors: only the exact path is allowed
        ("/private/x.html", True),  # the "*" group does not apply once our group matches
    ],
)
def test_our_group_rules(ours, path, allowed):
    assert ours.allowed(SITE + path) is allowed


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/private/x.html", False),
        ("/private/press/release.html", True),  # longest match wins: Allow /private/press/
        ("/report.pdf", False),  # "*" and "$"
        ("/report.pdf?download=1", True),  # "$" means end of the URL, query included
        ("/search?lang=en&q=x", False),  # "*" in the middle
        ("/search?lang=en", True),
        ("/drafts/one.html", True),
    ],
)
def test_star_group_rules(groups_txt, path, allowed):
    assert RobotsPolicy.parse(groups_txt, "somebot").allowed(SITE + path) is allowed


def test_full_user_agent_string_matches_our_token(groups_txt):
    policy = RobotsPolicy.parse(groups_txt, "Mozilla/5.0 (compatible; scraper/0.1; +https://example.org)")
    assert not policy.allowed(SITE + "/drafts/x")
    assert policy.allowed(SITE + "/private/x")


def test_group_with_several_user_agents_and_disallow_all(groups_txt):
    assert not RobotsPolicy.parse(groups_txt, "otherbot").allowed(SITE + "/drafts/x")
    assert not RobotsPolicy.parse(groups_txt, "badbot").allowed(SITE + "/anything")
    # robots.txt itself is always fetchable
    assert RobotsPolicy.parse(groups_txt, "badbot").allowed(SITE + "/robots.txt")


def test_crawl_delay_is_capped(ours, groups_txt):
    assert ours.crawl_delay(cap=30.0) == 30.0
    assert ours.crawl_delay(cap=600.0) == 120.0
    assert RobotsPolicy.parse(groups_txt, "somebot").crawl_delay(cap=30.0) == 1.0
    assert RobotsPolicy.parse("User-agent: *\nDisallow: /x\n", "scraper").crawl_delay(cap=30.0) is None
    assert RobotsPolicy.parse("User-agent: *\nCrawl-delay: soon\n", "scraper").crawl_delay(5.0) is None


def test_request_rate_gives_a_delay_when_no_crawl_delay():
    text = (FIXTURES / "robots-request-rate.txt").read_text(encoding="utf-8")
    policy = RobotsPolicy.parse(text, "scraper")
    assert policy.crawl_delay(cap=60.0) == 5.0  # 2 requests per 10 s
    assert policy.crawl_delay(cap=1.0) == 1.0
    assert not policy.allowed(SITE + "/tmp/a")


def test_sitemaps_keeps_absolute_http_urls_in_order(ours):
    assert ours.sitemaps() == [
        "https://www.example.com/sitemap-index.xml",
        "https://www.example.com/news-sitemap.xml",
    ]


def test_allow_all():
    policy = RobotsPolicy.allow_all()
    assert policy.allowed(SITE + "/private/anything")
    assert policy.crawl_delay(cap=10.0) is None
    assert policy.sitemaps() == []


def test_byte_order_mark_does_not_hide_the_first_group():
    policy = RobotsPolicy.parse("\ufeffUser-agent: *\nDisallow: /x\n", "scraper")
    assert not policy.allowed(SITE + "/x/y")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/a/b?c=d#e", "https://www.example.com/robots.txt"),
        ("HTTP://User:pw@WWW.Example.COM:80/x", "http://www.example.com/robots.txt"),
        ("https://example.com:8443/x", "https://example.com:8443/robots.txt"),
        ("http://[::1]:8080/x", "http://[::1]:8080/robots.txt"),
        ("https://example.com", "https://example.com/robots.txt"),
    ],
)
def test_robots_url(url, expected):
    assert robots_url(url) == expected


@pytest.mark.parametrize("url", ["ftp://example.com/x", "/relative/path", "mailto:a@example.com"])
def test_robots_url_rejects_non_http(url):
    with pytest.raises(ValueError, match="http"):
        robots_url(url)


def test_2xx_parses_the_body():
    policy = policy_from_response(200, b"User-agent: *\nDisallow: /secret\n", "scraper")
    assert policy is not None
    assert not policy.allowed(SITE + "/secret/x")
    assert policy.allowed(SITE + "/public")


def test_2xx_without_body_allows_everything():
    policy = policy_from_response(204, None, "scraper")
    assert policy is not None
    assert policy.allowed(SITE + "/anything")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
def test_4xx_allows_everything(status):
    policy = policy_from_response(status, b"User-agent: *\nDisallow: /\n", "scraper")
    assert policy is not None
    assert policy.allowed(SITE + "/private")


@pytest.mark.parametrize("status", [None, 429, 500, 502, 503, 599, 100, 600])
def test_5xx_429_and_network_errors_mean_skip_the_host(status):
    assert policy_from_response(status, b"User-agent: *\nAllow: /\n", "scraper") is None


def test_unfollowed_redirect_counts_as_unavailable(caplog):
    with caplog.at_level(logging.WARNING, logger="scraper.crawl.robots"):
        policy = policy_from_response(301, b"", "scraper")
    assert policy is not None
    assert policy.allowed(SITE + "/x")
    assert "redirect" in caplog.text


def test_only_the_first_500_kib_are_read(caplog):
    head = b"User-agent: *\nDisallow: /early\n"
    padding = b"# padding line to push the next rule past the limit\n" * (MAX_ROBOTS_BYTES // 50)
    tail = b"Disallow: /late\n"
    body = head + padding + tail
    assert len(head + padding) > MAX_ROBOTS_BYTES
    with caplog.at_level(logging.WARNING, logger="scraper.crawl.robots"):
        policy = policy_from_response(200, body, "scraper")
    assert policy is not None
    assert not policy.allowed(SITE + "/early/x")
    assert policy.allowed(SITE + "/late/x")
    assert "only the first" in caplog.text
    # the same body under the limit obeys both rules (the limit, not the parser, dropped /late)
    small = policy_from_response(200, head + tail, "scraper")
    assert small is not None
    assert not small.allowed(SITE + "/late/x")


def test_a_line_cut_at_the_limit_is_dropped_not_shortened():
    # "Allow: /private-but-public" cut to "Allow: /priv" would open all of /private.
    head = b"User-agent: *\nDisallow: /priv\n"
    filler = b"#" * (MAX_ROBOTS_BYTES - len(head) - 13) + b"\n"
    body = head + filler + b"Allow: /private-but-public\n"
    assert body[:MAX_ROBOTS_BYTES].endswith(b"\nAllow: /priv")
    policy = policy_from_response(200, body, "scraper")
    assert policy is not None
    assert not policy.allowed(SITE + "/private/x")


def test_invalid_utf8_is_tolerated():
    policy = policy_from_response(200, b"User-agent: *\n\xff\xfe junk\nDisallow: /x\n", "scraper")
    assert policy is not None
    assert not policy.allowed(SITE + "/x")
