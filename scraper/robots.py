"""robots.txt's old address, kept for callers: the code is scraper/crawl/robots.py."""

from .crawl.robots import MAX_ROBOTS_BYTES, RobotsPolicy, policy_from_response, robots_url

__all__ = ["MAX_ROBOTS_BYTES", "RobotsPolicy", "policy_from_response", "robots_url"]
