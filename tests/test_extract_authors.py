"""Author extraction: sources, priority, cleaning and the names that are not the author."""

from __future__ import annotations

import json

import pytest

from scraper.config import Rules
from scraper.extract.authors import clean_author
from scraper.extract.metadata import extract_metadata
from scraper.extract.parse import parse_html


def _author(head: str, body: str, url: str = "https://www.example-news.com/2021/story.html") -> str | None:
    html = f"<html><head>{head}</head><body><h1>The headline</h1>{body}<p>Text.</p></body></html>"
    tree = parse_html(html)
    assert tree is not None
    return extract_metadata(tree, url, Rules()).author


def _ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


# JSON-LD ---------------------------------------------------------------------------------------


def test_author_reference_is_resolved_through_the_graph():
    """Yoast writes author: {"@id": ...} and puts the Person elsewhere in @graph."""
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "Article",
                "headline": "The headline",
                "author": {"@id": "https://x.example/#/person/1"},
            },
            {"@type": "Person", "@id": "https://x.example/#/person/1", "name": "Giovanni Gaggero"},
        ],
    }
    assert _author(_ld(graph), "") == "Giovanni Gaggero"


def test_json_ld_names_lose_their_html_entities():
    assert (
        _author(_ld({"@type": "Article", "author": {"name": "Maria &amp; Katerina"}}), "")
        == "Maria & Katerina"
    )


def test_json_ld_person_name_list_gives_every_name():
    data = {"@type": "Review", "author": {"@type": "Person", "name": ["Jared Newman", "Sam Singleton"]}}
    assert _author(_ld(data), "") == "Jared Newman, Sam Singleton"


# The outlet posing as the author ----------------------------------------------------------------


def test_outlet_in_meta_gives_way_to_the_visible_byline():
    head = '<meta name="author" content="finanztreff.de">'
    assert (
        _author(head, "<p>Von David Hutzler, dpa</p>", "https://www.finanztreff.de/news/x") == "David Hutzler"
    )


def test_organization_author_gives_way_to_a_byline_with_by():
    head = _ld({"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Motorsport-Total.com"}})
    body = '<div class="author">von Juliane Ziegengeist</div>'
    assert _author(head, body) == "Juliane Ziegengeist"


def test_outlet_is_kept_when_no_person_is_named():
    head = '<meta property="og:site_name" content="Swoogo"><meta name="author" content="Swoogo">'
    body = "<nav><ul><li>Solutions by Event Type</li></ul></nav>"
    assert _author(head, body) == "Swoogo"


def test_site_name_as_author_does_not_overrule_an_explicit_byline():
    head = (
        '<meta property="og:site_name" content="Jobs &amp; Hire">'
        '<meta name="author" content="Jobs &amp; Hire">'
    )
    body = '<p class="meta">By <a href="/reporters/jose">Jose de la Cruz</a></p>'
    assert _author(head, body) == "Jose de la Cruz"


# Names that are not the article's author --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '<ol class="commentlist"><li><div class="comment-author vcard">Art Edwards says:</div></li></ol>',
        '<form id="commentform"><p class="comment-form-author"><label>Name *</label></p></form>',
        '<div class="reviews"><span class="author">Gender &amp; Age</span></div>',
        '<div class="related-posts"><div class="author-name">Von Andreas Hoffmann</div></div>',
        '<nav><a href="/door-locks">Door Locks</a><p>By Company Size</p></nav>',
        '<div class="authorized-dealer">Authorized Dealer</div>',
        '<footer><p class="credit">Website Design by Talent Hero Media</p></footer>',
    ],
)
def test_names_outside_the_article_are_not_the_author(body):
    assert _author("", body) is None


def test_comment_authors_do_not_hide_the_post_author():
    body = """<div class="entry-meta"><span class="byline">by
    <span class="author vcard">Konstantin</span></span></div>
    <div id="comments"><span class="comment-author-link">flappy bird</span></div>"""
    assert _author("", body) == "Konstantin"


@pytest.mark.parametrize("name", ["admin", "wordpressadmin", "Webmaster", "page.head.extra.author"])
def test_cms_placeholders_are_not_names(name):
    assert _author(f'<meta name="author" content="{name}">', "") is None


# Cleaning --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("byline", "name"),
    [
        ("By Jane Doe", "Jane Doe"),
        ("Posted on September 21, 2020 by Adi Tzlil", "Adi Tzlil"),
        ("Veröffentlicht am 8. Februar 2022 von PETA-Team", "PETA-Team"),
        ("Post by changingtimes » Sat Feb 24, 2024 12:41 pm", "changingtimes"),
        ("By Shelby Loos, DVM. Reviewed by Molly Price, DVM", "Shelby Loos, DVM"),
        ("Authored by: Dr. Ehsan Jazini", "Dr. Ehsan Jazini"),
        ("By Dr. Vahid Osman - Mar 27, 2024", "Dr. Vahid Osman"),
        ("Luke KimDecember 17, 2025", "Luke Kim"),
        ("Autor: Gàbor Muniér , Datum: 15.Jun.19", "Gàbor Muniér"),
        ("Parisa Ostovari", "Parisa Ostovari"),
        ("Loïc Le Clerc", "Loïc Le Clerc"),
        ("Written By", None),
        ("Updated", None),
        ("Sign In Join Us", None),
        (") x", None),
    ],
)
def test_bylines_are_cleaned_to_the_name(byline, name):
    assert clean_author(byline) == name


def test_updated_by_is_not_the_author():
    body = '<p class="author">Updated by Jon Linkov</p><p class="byline">By Benjamin Preston</p>'
    assert _author("", body) == "Benjamin Preston"


# Several authors --------------------------------------------------------------------------------


def test_several_json_ld_authors_are_joined_as_the_byline_prints_them():
    head = _ld(
        {
            "@type": "Article",
            "author": [{"@type": "Person", "name": n} for n in ("Jared Newman", "Sam Singleton")],
        }
    )
    body = '<div class="byline">By Jared Newman and Sam Singleton</div>'
    assert _author(head, body) == "Jared Newman and Sam Singleton"


def test_byline_completes_a_single_json_ld_author():
    head = _ld({"@type": "Article", "author": {"@type": "Person", "name": "Rudolf Fischer"}})
    body = '<span class="vcard author">von Rudolf Fischer, Simon Kohler</span>'
    assert _author(head, body) == "Rudolf Fischer, Simon Kohler"


def test_every_citation_author_is_read_first_name_first():
    head = """<meta name="author" content="NH. Shear, SP. Spielberg,">
    <meta name="citation_author" content="Roy, Aniruddha">
    <meta name="citation_author" content="Patel, Jyoti">"""
    assert _author(head, "") == "Aniruddha Roy, Jyoti Patel"


# Chinese ---------------------------------------------------------------------------------------


def test_photographer_credit_is_not_the_author_and_editor_is_the_last_resort():
    body = "<p>康复病人在献血浆时拍照留念。新华社记者 才扬 摄</p><p>责任编辑： 焦鹏</p>"
    assert _author("", body) == "焦鹏"


def test_reporter_sign_off_outranks_the_editor():
    body = "<p>推动云南工业高质量发展，建立绿色制造体系。（记者 胡晓蓉）</p><p>责任编辑：孙重远</p>"
    html = f"<html lang='zh'><body><h1>标题</h1>{body}</body></html>"
    tree = parse_html(html)
    assert tree is not None
    assert extract_metadata(tree, None, Rules()).author == "胡晓蓉"


def test_chinese_label_closing_its_line_takes_the_next_line():
    body = "<td>出版社：团结出版社 作者：</td><td>罗银胜</td>"
    assert _author("", f"<table><tr>{body}</tr></table>") == "罗银胜"


def test_spaced_two_character_chinese_name_is_closed_up():
    head = '<meta name="author" content="汉斯出版社"><meta name="dc.creator" content="赵 培">'
    assert _author(head + '<meta property="og:site_name" content="汉斯出版社">', "") == "赵培"


def test_outlet_card_gives_way_to_a_reporter_label():
    body = '<div class="article-author-card">中国新闻网</div><p>新京报记者 彭冲 山东冠县报道</p>'
    assert _author("", body) == "彭冲"


# the software, the publisher and the navigation are not authors ----------------------------------


def test_an_author_tag_crediting_the_page_software_names_nobody():
    head = (
        '<meta name="generator" content="Discuz! X3.4">'
        '<meta name="author" content="Discuz! Team and Comsenz UI Team">'
    )
    assert _author(head, "") is None


def test_an_author_tag_repeating_the_publisher_gives_way_to_citation_authors():
    head = (
        '<meta name="citation_publisher" content="中文学术期刊,汉斯出版社,Hans Publishers">'
        '<meta name="Author" content="中文学术期刊,汉斯出版社,Hans Publishers">'
        '<meta name="citation_authors" content="赵  培; 李  明">'
    )
    assert _author(head, "") == "赵培, 李明"


def test_a_navigation_link_after_the_headline_is_not_a_name():
    body = (
        '<p>The headline</p><p><a href="/">首页</a> <a href="/news">新闻</a></p>'
        "<p>张三李四王五的文章正文。</p>"
    )
    assert _author('<meta http-equiv="content-language" content="zh">', body) is None


def test_a_role_word_after_a_writer_label_is_not_a_name():
    """Sina's book pages (book.sina.com.cn, cwced-zh-dev e3f3b532): the search form lists "作者" and
    then "出版社" (publisher) as options; the writer is the line under the headline."""
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        "<title>新浪读书_投身外交(3)</title></head><body><table>"
        "<tr><td class=title14 align=center><font color=red><b>投身外交(3)</b></font></td></tr>"
        "<tr><td class=l15 align=center>罗银胜 </td></tr>"
        "<tr><td class=l15 align=center><br><b>连载：<a href=/nzt/index.shtml>乔冠华才情人生</a>"
        " &nbsp;&nbsp;出版社：团结出版社 &nbsp;&nbsp;作者：<a href=/nzt/index.shtml>罗银胜</a></b></td></tr>"
        "<tr><td class=l17><p>\u3000\u3000对外宣传，也是乔冠华开国之初外交生涯的组成部分。</p></td></tr>"
        '</table><form><select name="name"><option selected value="serial">图书</option>'
        '<option value="writer">作者</option><option value="publish">出版社</option>'
        '<option value="class">分类</option></select></form></body></html>'
    )
    tree = parse_html(html)
    assert tree is not None
    url = "http://book.sina.com.cn/longbook/1097399113_qiaoguanhua/41.shtml"
    assert extract_metadata(tree, url, Rules()).author == "罗银胜"
