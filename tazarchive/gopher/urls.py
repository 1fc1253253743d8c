"""gopher:// URLs (RFC 4266) and where taz's gopher service keeps what.

``gopher://host[:port]/<type><selector>``: the first character of the path
is the item type, the rest (percent-decoded) the selector sent to the
server. taz keeps an article at ``/!<id>``, an author at ``/!a<id>``, a tag
at ``/!t<id>``, a section at ``/!p<id>``, all type 1 menus, below the
selector of ``TAZARCHIVE_GOPHER_URL`` (default ``gopher://taz.de/1/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

DEFAULT_URL = "gopher://taz.de/1/"  # TAZARCHIVE_GOPHER_URL's default
DEFAULT_PORT = 70
MENU = "1"
TEXT = "0"
# Gopher has no robots convention of its own; crawlers ask for the selector
# "robots.txt" as a text item. Scrapy's RobotsTxtMiddleware asks for
# <scheme>://<netloc>/robots.txt, which RFC 4266 would read as type "r".
ROBOTS_PATH = "/robots.txt"


@dataclass(frozen=True, slots=True)
class GopherUrl:
    host: str
    port: int
    type: str
    selector: str

    @property
    def url(self) -> str:
        netloc = self.host if self.port == DEFAULT_PORT else f"{self.host}:{self.port}"
        return f"gopher://{netloc}/{self.type}{quote(self.selector, safe='/!:;,&=+$@~*()')}"


def parse_gopher_url(url: str) -> GopherUrl:
    """Split a gopher URL; ValueError when it is none. A bare host is the root menu."""
    parts = urlsplit(url)
    if parts.scheme != "gopher" or not parts.hostname:
        raise ValueError(f"not a gopher URL: {url!r}")
    port = parts.port or DEFAULT_PORT
    path = parts.path
    if path == ROBOTS_PATH:
        return GopherUrl(parts.hostname, port, TEXT, ROBOTS_PATH.lstrip("/"))
    if len(path) < 2:
        return GopherUrl(parts.hostname, port, MENU, "")
    selector = unquote(path[2:])
    if parts.query:  # RFC 4266: a search string follows the selector after a TAB
        selector += "\t" + unquote(parts.query)
    return GopherUrl(parts.hostname, port, path[1], selector)


def under(base_url: str, name: str, type_: str = MENU) -> str:
    """The URL of ``name`` (``!6107034``, ``!a1102``) below the base selector."""
    base = parse_gopher_url(base_url)
    return GopherUrl(base.host, base.port, type_, base.selector.rstrip("/") + "/" + name).url


def article_url(base_url: str, id_: str) -> str:
    return under(base_url, f"!{id_}")


def author_url(base_url: str, id_: str) -> str:
    return under(base_url, f"!a{id_}")


def tag_url(base_url: str, id_: str) -> str:
    return under(base_url, f"!t{id_}")
