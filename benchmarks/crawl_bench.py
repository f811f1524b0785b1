"""Crawl benchmark: `scraper crawl` end to end beside its two ceilings, on a generated local site.

Run by hand (not a test):

    python benchmarks/crawl_bench.py ../shared/data/wcxb-dev --pages 1000 --pages 5000 [--hosts 20]
        [--scrapy /work/benchvenv/bin/python] [--near link|group|off] [--archive off|on|both] [--rounds N]

The site: --hosts hosts (127.0.0.2, 127.0.0.3, ...; Linux routes all of 127/8 to loopback), each
with a home page linking to listing pages of 50 article links. Article bodies are real pages from
the data folder (article pages of 100-400 KB, canonical links removed), each paragraph ending
with the page's number, so every page is stored as new. The server is a small asyncio HTTP/1.1
server in its own process.

Measured in the same run, for each N:
  fetch ceiling   a bare httpx.AsyncClient GET loop over the same article URLs (16 in flight)
  CPU ceiling     scraper.extract.extract() pages/s on the templates in one process, x usable cores
  crawl           `python -m scraper crawl` (politeness off: no robots, no delays; dedupe.near as
                  --near says: the pages share 40 bodies, so with it on most become 'near' URLs,
                  counted as handled articles like stored rows) into a fresh
                  database; articles stored per second of wall time, and the peak RSS of the crawl
                  process tree (main process plus extraction workers, sampled every 0.1 s)
  scrapy          optional: a Scrapy CrawlSpider calling trafilatura.extract in its callback, run
                  by the given Python (which must have scrapy and trafilatura)
  archive         storage.archive for the crawl: off (the default, so older figures compare), on,
                  or both (off and on against the same server, --rounds times, the order alternating:
                  the cost of archiving is the ratio of the mean rates measured back to back). With the
                  archive on, the row also gives the WARC bytes on disk per archived response
                  against the raw (decoded) body bytes per response, read back with warcio.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LINKS_PER_LIST = 50
_CANONICAL_RE = re.compile(rb"<link[^>]*canonical[^>]*>|<meta[^>]*og:url[^>]*>", re.IGNORECASE)
TEMPLATES = 40
PORT = 8765


# ---- the site ---------------------------------------------------------------------------------


def load_templates(data: Path, count: int) -> list[bytes]:
    """Real article pages of 100-400 KB from a manifest folder, as bytes."""
    pages = []
    for line in (data / "manifest.jsonl").read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        item = json.loads(line)
        if item.get("page_type", "article") != "article":
            continue
        raw = gzip.decompress((data / item["html"]).read_bytes())
        if 100_000 <= len(raw) <= 400_000 and b"</body>" in raw:
            # A relative canonical URL would make every copy of a template one article here.
            pages.append(_CANONICAL_RE.sub(b"", raw))
        if len(pages) == count:
            break
    return pages


def site_plan(pages: int, hosts: int) -> dict[str, list[int]]:
    """Article numbers per host address."""
    plan: dict[str, list[int]] = {f"127.0.0.{h + 2}": [] for h in range(hosts)}
    addresses = list(plan)
    for i in range(pages):
        plan[addresses[i % hosts]].append(i)
    return plan


SERVER = textwrap.dedent(r"""
    import asyncio, json, sys
    templates = [open(p, "rb").read() for p in json.loads(sys.argv[1])]
    plan = json.loads(sys.argv[2]); port = int(sys.argv[3]); per_list = int(sys.argv[4])

    def page(host, path):
        articles = plan.get(host, [])
        if path == "/":
            lists = (len(articles) + per_list - 1) // per_list
            links = "".join(f'<li><a href="/list/{i}.html">List {i}</a></li>' for i in range(lists))
            return 200, f"<html><head><title>Home</title></head><body><ul>{links}</ul></body></html>".encode()
        if path.startswith("/list/"):
            i = int(path[6:-5]); chunk = articles[i * per_list:(i + 1) * per_list]
            links = "".join(f'<li><a href="/a/{n}.html">Story {n}</a></li>' for n in chunk)
            html = f"<html><head><title>List {i}</title></head><body><ul>{links}</ul></body></html>"
            return 200, html.encode()
        if path.startswith("/a/"):
            n = int(path[3:-5])
            body = templates[n % len(templates)]
            # every paragraph ends with the page's number, so every extracted text differs
            return 200, body.replace(b"</p>", f" [{host} {n}]</p>".encode())
        return 404, b"not found"

    async def handle(reader, writer):
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                status, body = page(host, path)
                writer.write(b"HTTP/1.1 %d X\r\nContent-Type: text/html; charset=utf-8\r\n"
                             b"Content-Length: %d\r\n\r\n" % (status, len(body)) + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main():
        servers = [await asyncio.start_server(handle, host, port) for host in plan]
        print("ready", flush=True)
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())
""")


def start_server(folder: Path, templates: list[bytes], plan: dict[str, list[int]]) -> subprocess.Popen[str]:
    paths = []
    for i, body in enumerate(templates):
        path = folder / f"t{i}.html"
        path.write_bytes(body)
        paths.append(str(path))
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, json.dumps(paths), json.dumps(plan), str(PORT), str(LINKS_PER_LIST)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def article_urls(plan: dict[str, list[int]]) -> list[str]:
    return [f"http://{host}:{PORT}/a/{n}.html" for host, numbers in plan.items() for n in numbers]


# ---- ceilings -------------------------------------------------------------------------------


def bare_httpx(urls: list[str], in_flight: int = 16) -> float:
    """Pages/s of a plain httpx GET loop (the body read and kept until the response is done)."""
    import httpx

    async def run() -> float:
        limit = asyncio.Semaphore(in_flight)
        async with httpx.AsyncClient(timeout=30) as client:

            async def one(url: str) -> None:
                async with limit:
                    response = await client.get(url)
                    assert response.status_code == 200
                    assert response.content

            started = time.perf_counter()
            await asyncio.gather(*(one(u) for u in urls))
            return len(urls) / (time.perf_counter() - started)

    return asyncio.run(run())


def extractor_rate(templates: list[bytes], seconds: float = 8.0) -> float:
    """scraper.extract pages/s in this process (one core), decoding included."""
    from scraper.encoding import decode_html
    from scraper.extract import extract

    texts = [decode_html(t, None)[0] for t in templates]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        extract(texts[done % len(texts)], "http://127.0.0.2/a/1.html")
        done += 1
    return done / (time.perf_counter() - started)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---- the crawl ------------------------------------------------------------------------------


def site_sources(plan: dict[str, list[int]], pages: int) -> list[dict[str, Any]]:
    """One source per host of the site, each with a page budget its share of the site fits in."""
    per_host = max(len(v) for v in plan.values()) + 2 + pages // LINKS_PER_LIST
    return [
        {
            "name": f"host{host.rsplit('.', 1)[1]}",
            "start_urls": [f"http://{host}:{PORT}/"],
            "article_pattern": r"/a/\d+\.html$",
            "max_depth": 2,
            "max_pages": per_host,
        }
        for host in plan
    ]


def crawl_config(folder: Path, plan: dict[str, list[int]], pages: int, near: str, archive: bool) -> Path:
    config = {
        "storage": {"path": str(folder / "bench.db"), "archive": archive},
        "dedupe": {"near": near},
        "fetch": {"allow_private_addresses": True, "retries": 0, "timeout": 30, "deadline": 60},
        "crawl": {"per_host_delay": 0, "obey_robots": False, "concurrency": 16, "workers": 0},
        "sources": site_sources(plan, pages),
    }
    path = folder / "bench.yaml"
    path.write_text(json.dumps(config))
    return path


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants, in KiB (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue
    return total


def run_measured(command: list[str], **kwargs: object) -> tuple[float, int, int, str, float]:
    """(seconds, peak tree RSS KiB, exit code, stderr tail, CPU seconds) of a command.

    CPU seconds: user + system time of the command and every descendant it waited for (the
    crawl's extraction workers), which the machine's other load changes far less than wall time.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, **kwargs)  # type: ignore[call-overload]
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, peak, proc.returncode, proc.stderr.read()[-600:], cpu


def run_crawl_bench(
    folder: Path, plan: dict[str, list[int]], pages: int, near: str, archive: bool
) -> dict[str, float]:
    for stale in [
        folder / "bench.db",
        folder / "bench.db-wal",
        folder / "bench.db-shm",
        folder / "bench.db.lock",
    ]:
        stale.unlink(missing_ok=True)  # each crawl starts from an empty database and archive
    for old in (folder / "warc").glob("*.warc.gz"):
        old.unlink()
    config = crawl_config(folder, plan, pages, near, archive)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "scraper", "--config", str(config), "-q", "crawl"]
    seconds, peak, code, tail, cpu = run_measured(command, env=env)
    import sqlite3

    with sqlite3.connect(folder / "bench.db") as conn:
        # the site's pages share 40 bodies: with dedupe.near on, most are linked to a story as 'near'
        # URLs rather than stored as rows; either way each is an article page handled
        stored = conn.execute(
            "SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM article_urls WHERE kind = 'near')"
        ).fetchone()[0]
    if code != 0 or stored != pages:
        print(f"crawl exit {code}, stored {stored} of {pages}: {tail}", file=sys.stderr)
    result = {
        "seconds": seconds, "stored": stored, "rate": stored / seconds, "peak_mb": peak / 1024,
        "cpu_ms": 1000 * cpu / max(stored, 1),
    }  # fmt: skip
    return result | archive_sizes(folder / "warc")


def archive_sizes(folder: Path) -> dict[str, float]:
    """WARC bytes on disk per archived response, and raw body bytes per response (0s: no archive)."""
    from warcio.archiveiterator import ArchiveIterator

    files = sorted(folder.glob("*.warc.gz"))
    responses = raw = 0
    for file in files:
        with file.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    responses += 1
                    raw += len(record.content_stream().read())
    disk = sum(f.stat().st_size for f in files)
    per = max(responses, 1)
    return {
        "responses": responses,
        "disk_per_page": disk / per,
        "raw_per_page": raw / per,
        "files": len(files),
    }


SPIDER = textwrap.dedent(r"""
    import json, sys
    import trafilatura
    from scrapy.crawler import CrawlerProcess
    from scrapy.linkextractors import LinkExtractor
    from scrapy.spiders import CrawlSpider, Rule

    starts = json.loads(sys.argv[1])
    count = [0]

    class Bench(CrawlSpider):
        name = "bench"
        start_urls = starts
        rules = (
            Rule(LinkExtractor(allow=r"/list/")),
            Rule(LinkExtractor(allow=r"/a/\d+\.html$"), callback="parse_item"),
        )

        def parse_item(self, response):
            text = trafilatura.extract(response.text, url=response.url)
            if text:
                count[0] += 1
                yield {"url": response.url, "chars": len(text)}

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 0,
                              "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                              "TELNETCONSOLE_ENABLED": False})
    process.crawl(Bench)
    process.start()
    print(count[0], file=sys.stderr)
""")


def run_scrapy(python: str, plan: dict[str, list[int]], pages: int) -> dict[str, float]:
    starts = [f"http://{host}:{PORT}/" for host in plan]
    seconds, peak, code, tail, _cpu = run_measured([python, "-c", SPIDER, json.dumps(starts)])
    extracted = int(tail.strip().splitlines()[-1]) if code == 0 and tail.strip() else 0
    return {"seconds": seconds, "stored": extracted, "rate": extracted / seconds, "peak_mb": peak / 1024}


# ---- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", type=Path, help="a data folder with manifest.jsonl (e.g. wcxb-dev)")
    parser.add_argument("--pages", type=int, action="append", help="site sizes (repeatable)")
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--scrapy", help="a Python with scrapy and trafilatura, to run the Scrapy spider")
    parser.add_argument("--near", default="link", choices=("link", "group", "off"), help="dedupe.near")
    parser.add_argument(
        "--archive", default="off", choices=("off", "on", "both"), help="storage.archive (both: off, then on)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="crawls per mode, alternating (with --archive both)"
    )
    args = parser.parse_args()
    # both: rounds alternate the order (off-on, on-off, ...) so a warm-up or a drift in the machine's
    # load favours neither mode
    modes = [
        mode
        for r in range(args.rounds)
        for mode in {"off": [False], "on": [True], "both": [r % 2 == 1, r % 2 == 0]}[args.archive]
    ]
    templates = load_templates(args.data, TEMPLATES)
    size = sum(map(len, templates)) // len(templates) // 1024
    print(f"{len(templates)} template pages, {size} KB on average; {cores()} usable cores", file=sys.stderr)
    cpu = extractor_rate(templates) * cores()
    rows: list[Row] = []
    scrapies: list[tuple[int, dict[str, float] | None]] = []
    for pages in args.pages or [1000]:
        plan = site_plan(pages, args.hosts)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            server = start_server(folder, templates, plan)
            try:
                fetch = bare_httpx(article_urls(plan))
                for archive in modes:
                    crawl = run_crawl_bench(folder, plan, pages, args.near, archive)
                    rows.append((pages, fetch, cpu, crawl, archive))
                    print(
                        f"  {pages} pages, archive {'on' if archive else 'off'}: "
                        f"{crawl['rate']:.1f} pages/s, {crawl['cpu_ms']:.1f} ms CPU a page, "
                        f"load {os.getloadavg()[0]:.2f}",
                        file=sys.stderr,
                    )
                scrapy = run_scrapy(args.scrapy, plan, pages) if args.scrapy else None
            finally:
                server.terminate()
                server.wait()
        scrapies.append((pages, scrapy))
    print_table(rows, args.hosts)
    print_archive_cost(rows)
    for pages, scrapy in scrapies:
        if scrapy:
            print(
                f"Scrapy+trafilatura, {pages} pages: {scrapy['rate']:.1f} pages/s "
                f"({scrapy['stored']:.0f} pages), peak RSS {scrapy['peak_mb']:.0f} MB"
            )


Row = tuple[int, float, float, dict[str, float], bool]


def print_table(rows: list[Row], hosts: int) -> None:
    print(
        "| pages | hosts | archive | bare httpx (pages/s) | extractor x cores (pages/s) "
        "| scraper crawl (pages/s) | crawl CPU per page (ms) | % of lower ceiling | crawl peak RSS (MB) "
        "| WARC on disk per response (KB) | raw body per response (KB) |"
    )
    print("|---:|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for pages, fetch, cpu_rate, crawl, archive in rows:
        lower = min(fetch, cpu_rate)
        disk = f"{crawl['disk_per_page'] / 1024:.1f} ({crawl['files']:.0f} files)" if archive else "-"
        raw = f"{crawl['raw_per_page'] / 1024:.1f} ({crawl['responses']:.0f} responses)" if archive else "-"
        print(
            f"| {pages} | {hosts} | {'on' if archive else 'off'} | {fetch:.0f} | {cpu_rate:.1f} "
            f"| {crawl['rate']:.1f} "
            f"({crawl['stored']:.0f} stored, {crawl['seconds']:.1f} s) | {crawl['cpu_ms']:.1f} "
            f"| {100 * crawl['rate'] / lower:.0f} % "
            f"| {crawl['peak_mb']:.0f} | {disk} | {raw} |"
        )


def print_archive_cost(rows: list[Row]) -> None:
    """Mean crawl rate and CPU per page with the archive on against off, per site size, when both ran."""
    for pages in dict.fromkeys(r[0] for r in rows):

        def mean(key: str, mode: bool, size: int = pages) -> tuple[float, int]:
            values = [r[3][key] for r in rows if r[0] == size and r[4] is mode]
            return (sum(values) / len(values) if values else 0.0), len(values)

        (off, n_off), (on, n_on) = mean("rate", False), mean("rate", True)
        if n_off and n_on:
            cpu_off, cpu_on = mean("cpu_ms", False)[0], mean("cpu_ms", True)[0]
            print(
                f"{pages} pages: archive on {on:.1f} pages/s vs off {off:.1f} pages/s (means of {n_on} and "
                f"{n_off} crawls): archiving costs {100 * (1 - on / off):.1f} % of throughput; CPU per page "
                f"{cpu_on:.1f} ms vs {cpu_off:.1f} ms ({100 * (cpu_on / cpu_off - 1):+.1f} %)"
            )


if __name__ == "__main__":
    main()
