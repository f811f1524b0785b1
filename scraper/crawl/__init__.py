"""What to fetch next: discovery, robots.txt, scope, host lanes and frontier policy.

Input: fetched bytes (pages, sitemaps, feeds, robots.txt), sources from config, and fetch outcomes.
Output: new frontier Targets, per-host politeness (Lanes), and when each URL is due again.
Settings: crawl (obey_robots, per_host_delay, max_crawl_delay), sources (allow, deny,
article_pattern, max_depth). The pipeline orders these steps; the SQL is store's.

    links.py      a page's links, next-page links and announced feeds (pure)
    discover.py   sitemaps and feeds (pure, hostile-input safe); re-exports links.py
    robots.py     robots.txt rules over Protego (pure)
    scope.py      a source's allow/deny/article patterns and the links a page adds
    hosts.py      one Lane per origin: robots.txt loading, delay, timeouts in a row
    frontier.py   when a URL is due again, when it is parked (the SQL is store/frontier.py)
"""
