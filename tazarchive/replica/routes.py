"""Which page answers which request: taz.de's paths routed through two tables.

``PATHS`` match the whole path (home, robots.txt, sitemaps); ``SEGMENTS``
match its last segment, where taz puts the object (``!<id>`` article,
``!a`` author, ``!t`` tag, ``!p`` section, ``!ku`` reader, ``!v=`` service
page), so any slug in front works as on taz.de. Faults (faults.py) answer
instead of an article or damage its page here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, unquote, urlsplit

from tazarchive.replica import design2019, design2024, feeds, render, unknown
from tazarchive.replica import faults as faults_
from tazarchive.replica.response import HTML, RSS, TEXT, XML, Response, ok
from tazarchive.replica.site import OVERVIEW, SECTIONS, Site, _hash

ResponseCache = dict[tuple[str, str, int], Response]


@dataclass(frozen=True, slots=True)
class Request:
    site: Site
    target: str  # path + query, as sent
    path: str  # unquoted
    query: dict[str, list[str]]
    cache: ResponseCache | None
    port: int | None  # the serving port, which an off-site redirect keeps


Handler = Callable[[Request, re.Match[str]], Response]


def respond(
    site: Site, target: str, cache: ResponseCache | None = None, port: int | None = None
) -> Response:
    """The response the replica gives for a request target (path + query).

    ``cache`` (benchmarks) keeps rendered article and listing pages: every
    variant of one article's URL shares one entry. ``port``: the serving
    port, which an off-site redirect keeps.
    """
    parts = urlsplit(target)
    path = unquote(parts.path) or "/"
    request = Request(site, target, path, parse_qs(parts.query), cache, port)
    for pattern, handler in PATHS:
        match = pattern.fullmatch(path)
        if match is not None:
            return handler(request, match)
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    for pattern, handler in SEGMENTS:
        match = pattern.fullmatch(segment)
        if match is not None:
            return handler(request, match)
    return not_found(site)


def not_found(site: Site) -> Response:
    return Response(404, HTML, render.not_found_page(site).encode("utf-8"))


# --- whole paths -------------------------------------------------------------------------


def _home(request: Request, _: re.Match[str]) -> Response:
    site = request.site
    return ok(unknown.home_page(site) if site.listing_markup == "plain" else render.home_page(site))


def _sitemap_month(request: Request, match: re.Match[str]) -> Response:
    first, last = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
    if (first, last) not in request.site.months():
        return not_found(request.site)
    return ok(feeds.sitemap_month(request.site, first, last), XML)


PATHS: tuple[tuple[re.Pattern[str], Handler], ...] = (
    (re.compile("/"), _home),
    (re.compile("/robots.txt"), lambda r, _: ok(feeds.robots_txt(r.site), TEXT)),
    (re.compile("/sitemap-index.xml"), lambda r, _: ok(feeds.sitemap_index(r.site), XML)),
    (re.compile("/sitemap-google-news.xml"), lambda r, _: ok(feeds.sitemap_news(r.site), XML)),
    (re.compile("/rss.xml"), lambda r, _: ok(feeds.feed(r.site, OVERVIEW), RSS)),
    (
        re.compile(r"/sitemap-article-online-(\d{4}-\d\d-\d\d)-(\d{4}-\d\d-\d\d)\.xml"),
        _sitemap_month,
    ),
)


# --- objects, by the last path segment ---------------------------------------------------


def _profile(request: Request, match: re.Match[str]) -> Response:
    return ok(render.profile_page(request.site, match.group(1)))


def _static(request: Request, _: re.Match[str]) -> Response:
    path = request.path
    name = path.strip("/").split("/")[0] if path.count("/") > 2 else "Service"
    return ok(render.static_page(request.site, name.replace("-", " ")))


def _listing(kind: str) -> Handler:
    """A handler for author (a), tag (t) or section (p) pages, cached by page."""
    render_page = {"a": _author_page, "t": _tag_page, "p": _section_page}[kind]

    def handle(request: Request, match: re.Match[str]) -> Response:
        page = render.page_number(request.site, (request.query.get("search_page") or [""])[0])
        if page is None:
            return not_found(request.site)
        object_id, suffix = match.group("id"), match.group("suffix") or ""
        cache = request.cache
        if cache is None or suffix:
            return render_page(request.site, object_id, suffix, page)
        key = (kind, object_id, page)
        if key not in cache:
            cache[key] = render_page(request.site, object_id, suffix, page)
        return cache[key]

    return handle


def _listing_html(
    site: Site, kind: str, object_id: str, path: str, name: str, page: int, intro: str = ""
) -> str:
    listing = unknown.listing_page if site.listing_markup == "plain" else render.listing_page
    return listing(site, kind, object_id, path, name, page, intro)


def _author_page(site: Site, object_id: str, suffix: str, page: int) -> Response:
    a = site.author_index_of(object_id)
    if a is None:
        return not_found(site)
    author = site.author(a)
    intro = author.description
    return ok(_listing_html(site, "author", object_id, author.path, author.name, page, intro))


def _tag_page(site: Site, object_id: str, suffix: str, page: int) -> Response:
    tag = site.tag_of_id(object_id)
    if tag is None:
        return not_found(site)
    return ok(_listing_html(site, "tag", object_id, tag.path, tag.name, page))


def _section_page(site: Site, object_id: str, suffix: str, page: int) -> Response:
    section = SECTIONS.get(object_id)
    if section is None or suffix not in ("", ";rss"):
        return not_found(site)
    if suffix == ";rss":
        return ok(feeds.feed(site, section), RSS)
    return ok(_listing_html(site, "section", object_id, section.path, section.name, page))


def _article(request: Request, match: re.Match[str]) -> Response:
    """An article: a fault that answers instead of it, or its (cached) page."""
    site = request.site
    index = site.index_of(match.group("id"))
    if index is None:
        return not_found(site)
    if site.faults:
        redirect = _redirect_fault(request, index)
        if redirect is not None:
            return redirect
    if request.cache is None:
        return article_response(site, index)
    key = ("", site.id_of(index), 0)
    if key not in request.cache:
        request.cache[key] = article_response(site, index)
    return request.cache[key]


def _redirect_fault(request: Request, index: int) -> Response | None:
    site, faults = request.site, request.site.faults
    if site.hit("offsite_redirect", index):
        return faults_.offsite(faults.foreign_host, request.port, request.target)
    if site.hit("redirect_loop", index):
        return faults_.loop_redirect(request.path, site.id_of(index))
    if site.hit("challenge", index):
        return faults_.challenge_page(f"{_hash(site.seed, 'ray', index):016x}")
    return None


def article_response(site: Site, index: int) -> Response:
    """The article page, in its design or an unknown one, with any faults of its body."""
    data = site.data(index)
    if site.hit("control_chars", index):
        data = faults_.with_control_chars(data)
    if site.hit("unknown_design", index):
        page = unknown.article_page(site, data)
    elif data.layout == "2019":
        page = design2019.article_page(site, data)
    else:
        page = design2024.article_page(site, data)
    if not site.faults:
        return ok(page)
    return faults_.damaged(site, index, page, data.id)


_OBJECT = r"(?P<id>\d+)(?P<suffix>[&;].*)?"
SEGMENTS: tuple[tuple[re.Pattern[str], Handler], ...] = (
    (re.compile(r"!ku(\d+)"), _profile),
    (re.compile(r"!v=.*"), _static),
    (re.compile("!" + _OBJECT), _article),
    (re.compile("!a" + _OBJECT), _listing("a")),
    (re.compile("!t" + _OBJECT), _listing("t")),
    (re.compile("!p" + _OBJECT), _listing("p")),
)
