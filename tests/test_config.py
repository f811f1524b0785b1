"""load_config: the valid fixture loads; each broken one is one line naming the file and the key path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import FetchConfig, StorageConfig, load_config, sources_from_urls
from scraper.errors import ConfigError

CONFIGS = Path(__file__).parent / "fixtures" / "config"


def test_valid_config_loads_every_new_key():
    cfg = load_config(CONFIGS / "valid.yaml")
    assert cfg.fetch.proxy == "http://user:secret@proxy.example:3128"
    assert cfg.fetch.headers == (("Accept-Language", "en, zh;q=0.8"),)
    [news] = cfg.sources
    assert news.rules.drop == (".share", "aside:not(.keep)")
    assert news.rules.body == "div.story > p, article[data-kind='text']"
    fetch = news.fetch_config(cfg.fetch)
    assert fetch.user_agent == "news-bot/2"
    assert fetch.proxy == "https://proxy.example:8443"
    assert dict(fetch.headers) == {"Accept-Language": "de", "X-Api-Key": "abc"}


BROKEN = [
    (
        "start-urls-string.yaml",
        'sources[0].start_urls must be a list of URLs; write start_urls: ["https://news.example/"]',
    ),
    ("bad-selector.yaml", "sources[0].rules.body is not a valid CSS selector ("),
    ("bad-drop-selector.yaml", "sources[1].rules.drop[1] is not a valid CSS selector ("),
    ("bad-proxy.yaml", "fetch.proxy must be an http(s) proxy URL"),
    ("bad-source-proxy.yaml", "sources[0].proxy must be an http(s) proxy URL"),
    ("bad-header-name.yaml", "fetch.headers: 'X-Forwarded-For: 1.2.3.4' is not a valid name"),
    ("bad-cookie-name.yaml", "sources[0].cookies: 'session id' is not a valid name"),
    ("bad-header-value.yaml", "fetch.headers.X-Note must not contain control characters"),
    ("empty-user-agent.yaml", "sources[0].user_agent must be a non-empty string, got ''"),
    (
        "bad-archive-max-bytes.yaml",
        "storage.archive_max_bytes must be an integer >= 1024 (bytes per file), got 100",
    ),
    ("bad-archive-flag.yaml", "storage.archive must be true or false, got 'yes'"),
    ("bad-archive-key.yaml", "unknown key 'storage.archiv_dir'; did you mean 'storage.archive_dir'?"),
]


@pytest.mark.parametrize(("name", "message"), BROKEN)
def test_broken_config_names_the_file_and_key(name, message):
    path = CONFIGS / name
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("name", "message"), BROKEN)
def test_broken_config_exits_2_in_one_line(name, message):
    result = CliRunner().invoke(cli, ["--config", str(CONFIGS / name), "stats"])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_every_broken_fixture_is_tested():
    assert {p.name for p in CONFIGS.glob("*.yaml")} == {"valid.yaml"} | {name for name, _ in BROKEN}


def test_bad_selector_message_shows_the_selector():
    with pytest.raises(ConfigError, match=r"'div\[\['$"):
        load_config(CONFIGS / "bad-selector.yaml")


def test_proxy_password_is_not_repeated_in_the_message():
    with pytest.raises(ConfigError) as caught:
        load_config(CONFIGS / "bad-proxy.yaml")
    assert "secret" not in str(caught.value)
    assert "socks5://user:***@proxy.example:1080" in str(caught.value)


@pytest.mark.parametrize("key", ["allow", "deny", "sitemaps", "feeds"])
def test_any_list_key_given_a_string_is_an_error(tmp_path, key):
    path = tmp_path / "config.yaml"
    path.write_text(
        f"sources:\n  - name: s\n    start_urls: [https://s.example/]\n    {key}: 'https://s.example/x'\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=rf"sources\[0\]\.{key} must be a list of .*; write {key}: \["):
        load_config(path)


@pytest.mark.parametrize("proxy", ["http://proxy.example:99999", "http://", "http://proxy example:3128"])
def test_proxy_must_be_a_usable_url(tmp_path, proxy):
    path = tmp_path / "config.yaml"
    path.write_text(f"fetch:\n  proxy: '{proxy}'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"fetch\.proxy must be an http"):
        load_config(path)


def test_user_agent_with_a_newline_is_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text('fetch:\n  user_agent: "bot\\r\\nX-Evil: 1"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"fetch\.user_agent must not contain control characters"):
        load_config(path)
    assert FetchConfig().user_agent  # the default stays valid


# --- sources_from_urls: `scraper crawl URL...` without configured sources ---


def test_one_source_per_host_named_without_www():
    built = sources_from_urls(
        ["https://www.a.example/news/", "https://a.example/world/", "http://b.example:8080/"],
        sitemaps=["https://a.example/sitemap.xml", "https://c.example/sitemap.xml"],
        feeds=["https://b.example:8080/rss"],
    )
    by_name = {s.name: s for s in built}
    assert list(by_name) == ["a.example", "b.example", "c.example"]
    a, b, c = by_name.values()
    assert a.start_urls == ("https://www.a.example/news/", "https://a.example/world/")
    assert a.sitemaps == ("https://a.example/sitemap.xml",)
    assert b.feeds == ("https://b.example:8080/rss",)
    assert (c.start_urls, c.sitemaps) == ((), ("https://c.example/sitemap.xml",))


def test_default_scope_is_the_urls_own_hosts():
    [a, c] = sources_from_urls(["https://www.a.example/news/"], sitemaps=["https://c.example/map.xml"])
    allow = [re.compile(p) for p in a.allow]
    assert any(p.search("https://www.a.example/other/page") for p in allow)
    assert not any(p.search("https://www.a.example.evil/") for p in allow)
    assert not any(p.search("https://elsewhere.example/") for p in allow)
    # a sitemap-only source is kept on the sitemap's host, not let loose on the web
    assert c.allow
    assert any(re.compile(p).search("https://c.example/story") for p in c.allow)


def test_options_apply_to_every_source():
    built = sources_from_urls(
        ["https://a.example/", "https://b.example/"],
        allow=[r"/news/"],
        article_pattern=r"/\d+\.html$",
        max_depth=1,
        max_pages=7,
    )
    for source in built:
        assert (source.allow, source.article_pattern, source.max_depth, source.max_pages) == (
            ("/news/",),
            r"/\d+\.html$",
            1,
            7,
        )
    [plain] = sources_from_urls(["https://a.example/"])
    assert (plain.max_depth, plain.max_pages, plain.article_pattern) == (3, 500, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"urls": ["ftp://a.example/"]}, "URL 'ftp://a.example/' is not an http(s) URL with a host"),
        ({"urls": ["a.example/news"]}, "URL 'a.example/news' is not an http(s) URL"),
        ({"urls": ["http://a.example/a b"]}, "is not an http(s) URL"),
        ({"urls": ["http://a.example:99999/"]}, "is not an http(s) URL"),
        ({"urls": [], "sitemaps": ["sitemap.xml"]}, "--sitemap 'sitemap.xml' is not an http(s) URL"),
        ({"urls": [], "feeds": ["http:///rss"]}, "--feed 'http:///rss' is not an http(s) URL"),
        (
            {"urls": ["http://a.example/"], "allow": ["(unclosed"]},
            "--allow '(unclosed' is not a valid regular",
        ),
        ({"urls": ["http://a.example/"], "article_pattern": "[x"}, "--article-pattern '[x' is not a valid"),
    ],
)
def test_bad_crawl_arguments_are_one_clear_line(kwargs, message):
    with pytest.raises(ConfigError) as caught:
        sources_from_urls(kwargs.pop("urls"), **kwargs)
    assert message in str(caught.value)


def test_the_shipped_config_yaml_spells_the_archive_defaults():
    shipped = load_config(Path(__file__).parent.parent / "config.yaml").storage
    defaults = StorageConfig()
    assert (shipped.archive, shipped.archive_dir, shipped.archive_max_bytes, shipped.archive_resources) == (
        defaults.archive, defaults.archive_dir, defaults.archive_max_bytes, defaults.archive_resources,
    )  # fmt: skip
    assert defaults.archive is True
    assert defaults.archive_max_bytes == 1024**3


def test_the_archive_folder_is_beside_the_database_unless_given(tmp_path):
    db = tmp_path / "data" / "articles.db"
    assert StorageConfig(path=str(db)).archive_path() == db.parent / "warc"
    assert StorageConfig(path=str(db), archive_dir="raw").archive_path() == db.parent / "raw"
    assert StorageConfig(path=str(db), archive_dir=str(tmp_path / "x")).archive_path() == tmp_path / "x"
    assert StorageConfig(path=str(db), archive=False).archive_path() is None
    assert StorageConfig(path=":memory:").archive_path() is None  # nowhere beside it to put files


def test_an_empty_archive_dir_means_the_default(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("storage:\n  archive_dir:\n  archive_max_bytes: 2048\n  archive_resources: true\n")
    storage = load_config(path).storage
    assert (storage.archive_dir, storage.archive_max_bytes, storage.archive_resources) == ("", 2048, True)


def test_on_postgresql_the_archive_folder_must_be_absolute():
    url = "postgresql://user:secret@db.example/corpus"
    for relative in ("", "warc"):
        with pytest.raises(
            ConfigError, match=r"^storage\.archive_dir: the database is on PostgreSQL"
        ) as caught:
            StorageConfig(path=url, archive_dir=relative).archive_path()
        assert "secret" not in str(caught.value)
    assert StorageConfig(path=url, archive_dir="/srv/warc").archive_path() == Path("/srv/warc")
    assert StorageConfig(path=url, archive=False).archive_path() is None
