"""URL helpers: canonical form for deduplication, same-site tests; pure functions.

canonicalize_url() is the url_key of an article: lower-case scheme and host,
no fragment, no default port, no tracking parameters, a path of "/" when empty.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only track a click and never change the page
# (Google Analytics utm_*, Facebook fbclid, Google Ads gclid/dclid, Microsoft msclkid,
# Mailchimp mc_*, HubSpot _hs*, Matomo/Piwik pk_*, Instagram igshid, Yandex yclid).
TRACKING_PARAM_RE = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gclsrc|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|pk_\w+|mtm_\w+"
    r"|igshid|yclid|spm|ocid|cmpid|ncid|sr_share|wt_mc|wt\.mc_id|__twitter_impression)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters that stay as they are inside a path; everything else is percent-encoded once.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def canonicalize_url(url: str) -> str:
    """The canonical form of an absolute http(s) URL; idempotent."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAM_RE.match(k)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(query, quote_via=quote), ""))


def host_of(url: str) -> str:
    """The lower-case host of a URL, "" when it has none."""
    return (urlsplit(url).hostname or "").lower()


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on the same host, ignoring a leading "www."."""
    return host_of(url).removeprefix("www.") == host_of(other).removeprefix("www.")
