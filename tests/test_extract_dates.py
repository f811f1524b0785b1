"""Publication dates: text formats, source priority and last resorts (scraper.extract.dates)."""

from __future__ import annotations

import datetime as dt

import pytest

from scraper.config import Rules
from scraper.extract import parse_html
from scraper.extract.dates import find_single_dates, find_text_dates, published_in_line, year_month
from scraper.extract.metadata import Metadata, extract_metadata


def _meta(html: str, url: str | None = None) -> Metadata:
    tree = parse_html(html)
    assert tree is not None
    return extract_metadata(tree, url, Rules())


def _day(value: dt.date | dt.datetime | None) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value


@pytest.mark.parametrize(
    ("text", "lang", "day"),
    [
        ("15 августа 2016, 13:43", "ru", dt.date(2016, 8, 15)),
        ("3 травня 2021", "uk", dt.date(2021, 5, 3)),
        ("12 października 2020", "pl", dt.date(2020, 10, 12)),
        ("Von: Björn Jahner | 31.10.23", "de", dt.date(2023, 10, 31)),
        ("28.01.22 / 0 Kommentare", "de", dt.date(2022, 1, 28)),
        ("26.10.13", "de", dt.date(2013, 10, 26)),
    ],
)
def test_more_text_date_formats(text, lang, day):
    assert find_text_dates(text, lang)[0][1] == day


@pytest.mark.parametrize("text", ["iOS 13.1.1", "version 1.10.22", "10.1.2.24", "Note 12.13.14"])
def test_short_year_needs_two_digit_day_and_month(text):
    assert find_text_dates(text, "de") == []


def test_mixed_separators_are_not_one_date():
    # "2004 - 01/01" is the seam between two dates, not January 1st.
    assert [day for _, day in find_text_dates("12/01/2004 - 01/01/2005", "zh")] == [
        dt.date(2004, 1, 12),
        dt.date(2005, 1, 1),
    ]


@pytest.mark.parametrize(
    "text", ["12/01/2004 - 01/01/2005", "1 May 2021 to 3 May 2021", "2021-06-01 至 2021-06-30"]
)
def test_both_ends_of_a_period_are_dropped(text):
    assert find_single_dates(text, "en") == []


def test_date_after_a_range_joiner_word_inside_text_is_kept():
    assert find_single_dates("Published 2021-06-29 - Updated 2021-07-01", "en") == [
        (10, dt.date(2021, 6, 29)),
        (31, dt.date(2021, 7, 1)),
    ]


def test_source_label_does_not_swallow_the_date_label_after_it():
    line = '作者： size="20" 来源： size="20" 发布日期： 9/17/2004 5:54:13 AM'
    assert published_in_line(line, "zh") == dt.date(2004, 9, 17)
    assert published_in_line("Source: NO.26 JULY 1, 2021", "en") is None


def test_year_month_reads_as_first_of_month():
    assert year_month("——《北京之春》1998年3月号") == dt.date(1998, 3, 1)
    assert year_month("2021年6月29日") is None


def test_json_ld_in_cdata_is_read():
    html = """<html><head><script type="application/ld+json">
    <![CDATA[
    {"@type": "NewsArticle", "headline": "A", "datePublished": "2001-10-29T01:59:14Z"}
    ]]>
    </script></head><body><h1>A</h1><p>On 7 April 2008 something happened.</p></body></html>"""
    assert _day(_meta(html).published) == dt.date(2001, 10, 29)


def test_rdfa_date_created_is_a_published_date():
    html = """<html><body><h2>LVMH</h2>
    <footer class="node__meta"><span class="post-created">gestern</span>
    <span property="schema:dateCreated" content="2022-01-28T12:45:46+00:00"></span></footer>
    <p>Text.</p></body></html>"""
    assert _day(_meta(html).published) == dt.date(2022, 1, 28)


def test_updated_day_alone_does_not_date_the_page():
    # page_kind reads any date as a sign of an article; an "updated" footer is not one.
    html = """<html><body><h2>Webcams</h2><p>Pictures of the valley.</p>
    <div>Last updated: November 13, 2025</div></body></html>"""
    assert _meta(html).published is None


def test_year_month_sign_off_when_nothing_else_dates_the_page():
    html = """<html><body><p align="center"><strong>犬儒病</strong></p>
    <p>正文内容。<br>——《北京之春》1998年3月号</p></body></html>"""
    assert _meta(html).published == dt.date(1998, 3, 1)


def test_labelled_date_beats_a_date_in_the_story():
    html = """<html><body><table><tr><td><b>茉莉：我是怎样卷入八九民运的</b></td></tr>
    <tr><td><font>作者： size="20" 来源： size="20" 发布日期： 7/5/2005 9:23:57 PM</font></td></tr>
    <tr><td><p>【看中国2005年07月03日报道】一九八九年四月，我在湖南张家界开一个会议。</p></td></tr>
    </table></body></html>"""
    assert _meta(html).published == dt.date(2005, 5, 7)


def test_url_with_month_name_settles_a_day_first_byline():
    html = """<html><body><h1>How many wine types are there?</h1>
    <div class="blog-date">03/10/2023</div><p>Text.</p></body></html>"""
    url = "https://example.com/knowledge-centre/blog/2023/october/03/how-many-wine-types/"
    assert _meta(html, url).published == dt.date(2023, 10, 3)


def test_date_inside_the_headline_is_its_subject_not_its_byline():
    html = """<html><body><h1>Results: Girls A, Aalen, 19.5.2007</h1>
    <p class="meta">Posted on 20. Mai 2007</p><p>Text.</p></body></html>"""
    assert _meta(html).published == dt.date(2007, 5, 20)


def test_date_opening_the_headline_is_a_dateline():
    html = """<html><body><h1>23.01.2022 - Wierer wins the last race</h1>
    <p>Text about 20.02.2020 and more.</p></body></html>"""
    assert _meta(html).published == dt.date(2022, 1, 23)


@pytest.mark.parametrize(
    "html",
    [
        """<html><body><h1>标题</h1><div class="author">信报记者 蔡雪婧</div><p>正文。</p></body></html>""",
        """<html lang="zh"><body><h1>标题</h1><p>会上将集中项目。(信报记者 蔡雪婧)</p></body></html>""",
    ],
)
def test_outlet_reporter_label_is_not_part_of_the_author(html):
    assert _meta(html).author == "蔡雪婧"


@pytest.mark.parametrize(
    "line",
    [
        "Pubblicato il 19 Febbraio 2020 Ultima modifica",
        "June 29, 2021",
        "2023 Jan 7",
        "29 de junio de 2021",
        "Posted June 29 [127.0.0.2 17]",
        "31.10.23 um 12:00",
        "2021年6月29日",
        "Updated 12/01/2004",
        "Juni １９９９",
    ],
)
def test_text_date_res_leaves_out_only_forms_that_cannot_match(line):
    from scraper.extract.dates import TEXT_DATE_RES, text_date_res

    kept = text_date_res(line)
    assert list(kept) == [r for r in TEXT_DATE_RES if r in kept]  # same order
    assert all(r in kept for r in TEXT_DATE_RES if r.search(line))
