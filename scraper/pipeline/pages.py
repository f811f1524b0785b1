"""What a crawl does with a fetched page, sitemap or feed: store its article, queue its links.

Input: a Target and its Page (or a sitemap's or feed's Resource). Output: one write unit per URL
(article, frontier row, new links, fetch_log row) and the URL's outcome. Settings: sources
(article_pattern, max_depth), crawl.recheck_after. The _Crawler of crawl.py is a Pages: this
module holds what happens after a fetch, crawl.py the scheduling.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from ..crawl import discover, frontier
from ..crawl.scope import Scope
from ..models import Page, Resource, Target
from ..urls import canonicalize_url
from .outcomes import Outcomes
from .pool import Extractor
from .steps import Analysis, now_utc


class Pages(Outcomes):
    """Processing of fetched pages, sitemaps and feeds (the base of crawl._Crawler)."""

    scopes: dict[str, Scope]
    extractor: Extractor

    def _schedule(self, target: Target) -> None:
        """Queue a new Target in its host lane (crawl._Crawler)."""
        raise NotImplementedError

    async def _process_page(self, target: Target, page: Page) -> None:
        now = now_utc()
        scope = self.scopes[target.source]
        if page.status == 304:
            is_article = target.page_kind == "article"
            await self._commit(target, page, now, None, [], "article" if is_article else "listing")
            if is_article:
                self._count(target.source, "unchanged")
            self._emit(target, "unchanged" if is_article else "listing", reason="HTTP 304 not modified")
            return
        want: bool | None = None
        if target.kind == "seed":
            want = False
        elif scope.article is not None:
            want = scope.is_article_url(page.final_url) or scope.is_article_url(target.url)
        # Links are worth parsing when they may be followed: any link below max_depth, or a listing's
        # pagination (same depth). An article at max_depth skips that parse (a third of its CPU).
        depth, limit = target.depth, scope.source.max_depth
        follow = depth < limit or (want is not True and depth <= limit)
        analysis = await self.extractor.analyze(page, want, follow=follow)
        links = scope.page_links(
            target,
            feeds=analysis.feeds,
            pagination=analysis.pagination,
            links=analysis.links,
            listing=not want and analysis.article is None,
        )
        if analysis.failed:  # the extractor met a bug: counted apart, the page is skipped
            self.report.sources[target.source].errors.append((target.url, analysis.reason or ""))
        if analysis.article is None and (want or analysis.failed or analysis.over_time):
            kind = (
                "extraction time limit"
                if analysis.over_time
                else "extractor bug"
                if analysis.failed
                else None
            )
            await self._commit(target, page, now, None, links, None, skipped=analysis.reason, kind=kind)
            return
        await self._commit(target, page, now, analysis, links, "article" if analysis.article else "listing")

    async def _commit(
        self,
        target: Target,
        page: Page,
        now: dt.datetime,
        analysis: Analysis | None,
        links: list[Target],
        page_kind: str | None,
        skipped: str | None = None,
        kind: str | None = None,
    ) -> None:
        """Store the article (if any), update the frontier and queue links, as one write unit."""
        while (pause := self.store.pause_left()) > 0:
            await asyncio.sleep(pause)
        article = analysis.article if analysis is not None else None
        with self.store.write():
            prepared = analysis.prepared if analysis is not None else None
            saved = self.store.write_article(prepared) if prepared is not None else None
            if page.status == 304 and target.article_id is not None:
                self.store.touch_article(target.article_id, now)
            next_due = frontier.next_due_after(
                page_kind, skipped is not None, now=now, recheck=self._recheck(now)
            )
            if skipped is not None:
                self.store.mark_failed(
                    target, "skipped", skipped, now=now, run_id=self.run_id, next_due=next_due
                )
            else:
                self.store.mark_fetched(
                    target, now=now, run_id=self.run_id, next_due=next_due, page_kind=page_kind,
                    article_id=saved.article_id if saved else None,
                    etag=page.etag, last_modified=page.last_modified,
                )  # fmt: skip
            added = self._add_links(target.source, links, now)
            outcome = "skipped" if skipped else saved.outcome.value if saved else None
            outcome = outcome or ("unchanged" if page_kind == "article" else "listing")
            self.store.log_fetch(target.url, page.status, skipped, now, outcome)
        if skipped is not None:
            self._count(target.source, "skipped")
            self.report.sources[target.source].note(kind or "no article")
            self.report.sources[target.source].skips.append((target.url, skipped))
            self._log_outcome("skipped", target.url, skipped)
            self._emit(target, "skipped", reason=skipped)
        elif saved is not None:
            self._count(target.source, saved.outcome.value)
            self._emit(target, saved.outcome.value, title=article.title if article else None)
        elif page.status != 304:
            self._count(target.source, "listing")
            self._emit(target, "listing")
        for new in added:
            self._schedule(new)

    def _add_links(self, source: str, links: list[Target], now: dt.datetime) -> list[Target]:
        added: list[Target] = []
        for kind in ("feed", "page"):
            pairs = [(t.url, t.depth) for t in links if t.kind == kind]
            if pairs:
                added += self.store.add_urls(source, pairs, kind=kind, now=now, run_id=self.run_id)
        self._count(source, "discovered", len(added))
        return added

    async def _process_listing_file(self, target: Target, found: Resource) -> None:
        """A sitemap or feed: queue its URLs (sitemap indexes: their child sitemaps)."""
        now = now_utc()
        scope = self.scopes[target.source]
        links: list[Target] = []
        if found.status != 304:
            if target.kind == "sitemap":
                sitemap = await asyncio.to_thread(discover.parse_sitemap, found.body, found.final_url)
                links += [Target(canonicalize_url(u), target.source, "sitemap", 0) for u in sitemap.sitemaps]
                urls = [entry.loc for entry in sitemap.urls]
            else:
                urls = [
                    item.url
                    for item in await asyncio.to_thread(discover.parse_feed, found.body, found.final_url)
                ]
            links += scope.listed_pages(target, urls)
        with self.store.write():
            self.store.mark_fetched(
                target, now=now, run_id=self.run_id, next_due=now,
                etag=found.etag, last_modified=found.last_modified, page_kind=target.kind,
            )  # fmt: skip
            added = self.store.add_urls(
                target.source, [(t.url, 0) for t in links if t.kind == "sitemap"],
                kind="sitemap", now=now, run_id=self.run_id,
            )  # fmt: skip
            added += self.store.add_urls(
                target.source, [(t.url, t.depth) for t in links if t.kind == "page"],
                now=now, run_id=self.run_id,
            )  # fmt: skip
            self.store.log_fetch(target.url, found.status, None, now, "listing")
        self._count(target.source, "discovered", len(added))
        self._emit(target, "listing", reason=f"{target.kind}, {len(links)} URLs")
        for new in added:
            self._schedule(new)
