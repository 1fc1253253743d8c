"""The replica's site model: N generated articles, derived from their index.

Nothing is stored per article. An article's id, date, authors, tags and
section follow from its index by arithmetic; its text from a seeded hash of
(seed, index, revision). The only per-article state is the small dict of
revised articles. Listings are enumerated lazily, newest first.

Index 0 is the oldest article, index N-1 the newest.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from typing import ClassVar
from zoneinfo import ZoneInfo

from tazarchive.items import Article, Author, Block, Link, LinkSpan, Picture, Related, Tag
from tazarchive.replica import words
from tazarchive.replica.faults import Faults

BERLIN = ZoneInfo("Europe/Berlin")
PAGE_SIZE = 20
FEED_SIZE = 50
NEWEST_DAY = date(2025, 10, 24)  # fixed, so pages never depend on today's date
_DAY_MINUTES = 17 * 60  # articles appear 06:00-22:59, clear of DST switch hours
_OLD_FRACTION = 20  # the oldest 1/20 get 6-digit archive ids
LISTING_MARKUPS = ("taz", "plain")


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    name: str  # as shown
    path: str  # "/Politik/Deutschland/!p4616/"
    parent: str | None = None  # parent section id


# Leaf sections hold articles; parents list their children's articles.
PARENT_SECTIONS = (
    Section("4615", "Politik", "/Politik/!p4615/"),
    Section("4610", "Öko", "/Oeko/!p4610/"),
    Section("4611", "Gesellschaft", "/Gesellschaft/!p4611/"),
    Section("4639", "Kultur", "/Kultur/!p4639/"),
)
LEAF_SECTIONS = (
    Section("4616", "Deutschland", "/Politik/Deutschland/!p4616/", "4615"),
    Section("4617", "Europa", "/Politik/Europa/!p4617/", "4615"),
    Section("4618", "Amerika", "/Politik/Amerika/!p4618/", "4615"),
    Section("4621", "Afrika", "/Politik/Afrika/!p4621/", "4615"),
    Section("4623", "Ökonomie", "/Oeko/Oekonomie/!p4623/", "4610"),
    Section("4624", "Ökologie", "/Oeko/Oekologie/!p4624/", "4610"),
    Section("4630", "Medien", "/Gesellschaft/Medien/!p4630/", "4611"),
    Section("4636", "Bildung", "/Gesellschaft/Bildung/!p4636/", "4611"),
    Section("4641", "Musik", "/Kultur/Musik/!p4641/", "4639"),
    Section("4642", "Buch", "/Kultur/Buch/!p4642/", "4639"),
    Section("4646", "Sport", "/Sport/!p4646/"),
    Section("4649", "Berlin", "/Berlin/!p4649/"),
    Section("4650", "Nord", "/Nord/!p4650/"),
    Section("4633", "Wahrheit", "/Wahrheit/!p4633/"),
)
# "Ressorts": the overview of every (listed) article, and the main feed's channel.
OVERVIEW = Section("4608", "Ressorts", "/!p4608/")
SECTIONS = {s.id: s for s in (OVERVIEW, *PARENT_SECTIONS, *LEAF_SECTIONS)}
_LEAF_INDEX = {s.id: n for n, s in enumerate(LEAF_SECTIONS)}


_MASK = (1 << 64) - 1


@lru_cache(maxsize=1024)
def _text_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _hash(*parts: int | str) -> int:
    """A stable 64-bit hash of ints and short strings (splitmix64 mixing)."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        value = _text_key(part) if isinstance(part, str) else part
        h = (h ^ (value & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        h ^= h >> 31
        h = (h + 0x9E3779B97F4A7C15) * 0x94D049BB133111EB & _MASK
        h ^= h >> 29
    return h


@lru_cache(maxsize=8192)
def slugify(text: str) -> str:
    """taz-style slug: umlauts spelled out, words joined by "-"."""
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
    text = text.translate(table).replace("ß", "ss").replace("\u0131", "i").replace("\u00ad", "")
    kept = "".join(c if c.isascii() and (c.isalnum() or c in " -") else " " for c in text)
    return "-".join(kept.split())


def _count_progression(
    start: int, step: int, lo: int, hi: int, every: int = 1, rest: int = 0
) -> int:
    """How many k >= 0 with lo <= start + k*step <= hi (and k % every == rest)."""
    if hi < lo:
        return 0
    k_min = max(0, -((start - lo) // step))  # ceil((lo - start) / step)
    k_max = (hi - start) // step
    if k_max < k_min:
        return 0
    if every == 1:
        return k_max - k_min + 1
    first = k_min + (rest - k_min) % every
    return 0 if first > k_max else (k_max - first) // every + 1


def _descending(start: int, step: int, n: int, every: int = 1, rest: int = 0) -> Iterator[int]:
    """start + k*step below n, for k % every == rest, newest (largest) first."""
    if start >= n:
        return
    k = (n - 1 - start) // step
    k -= (k - rest) % every
    while k >= 0:
        yield start + k * step
        k -= every


# --- article content -----------------------------------------------------------

Segment = str | tuple[str, str]  # plain text, or (link text, href)


@dataclass(slots=True)
class BodyBlock:
    kind: str  # "paragraph" | "subheading"
    segments: list[Segment]
    dateline: tuple[str, str] | None = None  # (place, source): "BERLIN", "taz"
    lead: str = ""  # text before the segments ("dpa | ") not inside a dateline
    box: str = ""  # "bio": shown in a div[data-for=webelement_bio] box, not a <p>


@dataclass(slots=True)
class AuthorInfo:
    index: int
    id: str
    name: str
    slug: str
    description: str  # profile text, "" when the author has none
    job: str

    @property
    def path(self) -> str:
        return f"/{self.slug}/!a{self.id}/"


@dataclass(slots=True)
class TagInfo:
    kind: str  # "topic" | "hub" | "column"
    index: int
    id: str
    name: str
    category: str | None

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def path(self) -> str:
        return f"/{self.slug}/!t{self.id}/"


@dataclass(slots=True)
class ArticleData:
    """Everything a page of one article shows; built on demand, cached briefly."""

    index: int
    id: str
    revision: int
    slug: str
    topline: str
    title: str
    teaser: str
    genre: str  # commentary | report | interview
    byline_label: str
    authors: list[AuthorInfo]
    agency: bool
    tags: list[TagInfo]
    section: Section
    published: datetime  # aware, Europe/Berlin
    layout: str  # "2024" | "2019"
    blocks: list[BodyBlock]
    picture: Picture | None
    picture_id: int
    related: list[int]  # article indexes
    most_commented: list[int]
    comments: list[tuple[str, str, str]]  # (profile id, nick, text)
    drop_cap: bool
    deep: bool

    @property
    def path(self) -> str:
        return f"/{self.slug}/!{self.id}/"

    def block_prefix(self, block: BodyBlock) -> str:
        """Text before the segments: a dateline ("BERLIN taz | ") or agency lead."""
        return f"{block.dateline[0]} {block.dateline[1]} | " if block.dateline else block.lead

    def block_text(self, block: BodyBlock) -> str:
        return self.block_prefix(block) + segments_text(block)


class Site:
    """A deterministic taz.de of ``n_articles`` articles.

    ``page2_param``: the ``search_page`` value of a listing's second page (1
    by default: pages are 0-based, ``search_page=0`` or none is page 1; with
    2 they are 1-based). ``crawl_delay`` goes into robots.txt (0: no line);
    ``disallow_all`` makes robots.txt forbid everything. ``link_host`` is the
    host feeds, sitemaps and robots.txt name (pages always write taz.de hosts,
    as taz does; spiders map them onto their base URL). ``revised`` ids start
    at revision 1. Truth queries return ids as text, newest first.
    """

    def __init__(
        self,
        n_articles: int,
        seed: int = 0,
        *,
        page2_param: int = 1,
        crawl_delay: float = 0,
        disallow_all: bool = False,
        link_host: str = "https://taz.de",
        revised: Iterable[str] = (),
        old_design_every: int = 10,
        listing_markup: str = "taz",
        unknown_design: float = 0.0,
        faults: Faults | None = None,
    ) -> None:
        if not 10 <= n_articles <= 100_000:
            raise ValueError(f"n_articles must be 10..100000, got {n_articles}")
        if page2_param not in (1, 2):
            raise ValueError("page2_param must be 1 or 2")
        self.n = n_articles
        self.seed = seed
        self.page2_param = page2_param
        self.crawl_delay = crawl_delay
        self.disallow_all = disallow_all
        self.link_host = link_host.rstrip("/")
        self.old_design_every = old_design_every
        self.listing_markup = "taz"
        self.unknown_design = 0.0
        self.faults = Faults()
        self.configure(listing_markup=listing_markup, unknown_design=unknown_design, faults=faults)
        n = n_articles
        # Authors: slot = index % M. Slots < A belong to author "slot"; slots
        # A..2A-1 to the P prolific authors (so they fill 3+ listing pages);
        # the last slot is agency copy without an author.
        self.n_authors = min(max(n // 25, 3), 4000)
        self.n_prolific = max(1, self.n_authors // 10)
        self.n_slots = 2 * self.n_authors + 1
        self.n_topics = min(max(n // 30, 4), 3000)
        self.n_hubs = max(2, self.n_topics // 20)
        self.n_columns = max(1, self.n_topics // 50)
        self.n_old = n // _OLD_FRACTION
        self.minute_step = max(20, 90 * _DAY_MINUTES // n)
        self.first_day = NEWEST_DAY - timedelta(days=n * self.minute_step // _DAY_MINUTES)
        self._revisions: dict[str, int] = {}
        self._cache: OrderedDict[int, ArticleData] = OrderedDict()
        self._heads: OrderedDict[int, ArticleData] = OrderedDict()
        self._memo: dict[tuple[str, int], object] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._cursors: dict[tuple[str, str, int], Iterator[int]] = {}
        self._cursor_lock = threading.Lock()
        self._cache_lock = threading.RLock()
        self.revise(revised)

    # --- construction parameters (process mode rebuilds the site from them) ---

    def params(self) -> dict[str, object]:
        return {
            "n_articles": self.n,
            "seed": self.seed,
            "page2_param": self.page2_param,
            "crawl_delay": self.crawl_delay,
            "disallow_all": self.disallow_all,
            "link_host": self.link_host,
            "old_design_every": self.old_design_every,
            "listing_markup": self.listing_markup,
            "unknown_design": self.unknown_design,
            "faults": self.faults.to_dict(),
            "revisions": dict(self._revisions),
        }

    @classmethod
    def from_params(cls, params: dict[str, object]) -> Site:
        values = dict(params)
        revisions = values.pop("revisions", {})
        values["faults"] = Faults.from_dict(dict(values.get("faults") or {}))  # type: ignore[call-overload]
        site = cls(**values)  # type: ignore[arg-type]
        site._revisions = {str(k): int(v) for k, v in dict(revisions).items()}  # type: ignore[call-overload]
        return site

    # --- what is served: markup variants and faults (switchable while serving) ---

    def configure(
        self,
        *,
        listing_markup: str | None = None,
        unknown_design: float | None = None,
        faults: Faults | None = None,
    ) -> None:
        """Change how pages are served; None leaves a part as it is."""
        if listing_markup is not None:
            if listing_markup not in LISTING_MARKUPS:
                raise ValueError(f"listing_markup must be one of {LISTING_MARKUPS}")
            self.listing_markup = listing_markup
        if unknown_design is not None:
            if not 0.0 <= unknown_design <= 1.0:
                raise ValueError("unknown_design is a fraction 0..1")
            self.unknown_design = float(unknown_design)
        if faults is not None:
            self.faults = faults

    def hit(self, name: str, index: int) -> bool:
        """Whether fault ``name`` (a Faults fraction or "unknown_design") hits ``index``."""
        share = self.unknown_design if name == "unknown_design" else getattr(self.faults, name)
        if share <= 0.0:
            return False
        return share >= 1.0 or _hash(self.seed, "fault", name, index) % 1_000_000 < share * 1e6

    def hit_ids(self, name: str) -> list[str]:
        """Ids of the articles fault ``name`` hits, newest first (the truth for fault tests)."""
        return [self.id_of(i) for i in range(self.n - 1, -1, -1) if self.hit(name, i)]

    def page_query(self, page: int) -> str:
        """The query part of a listing's page ``page`` (1-based): "" or "?search_page=N"."""
        return "" if page == 1 else f"?search_page={page - 2 + self.page2_param}"

    # --- ids ---------------------------------------------------------------

    def id_of(self, index: int) -> str:
        if index < self.n_old:
            return str(170_000 + index * 11 + _hash(self.seed, "old", index) % 11)
        return str(5_400_000 + index * 13 + _hash(self.seed, "id", index) % 13)

    def index_of(self, article_id: str) -> int | None:
        if not article_id.isdigit():
            return None
        value = int(article_id)
        index = (value - 170_000) // 11 if value < 1_000_000 else (value - 5_400_000) // 13
        if 0 <= index < self.n and self.id_of(index) == article_id:
            return index
        return None

    def author_id_of(self, a: int) -> str:
        return str(1_000 + a * 37 + _hash(self.seed, "author", a) % 37)

    def author_index_of(self, author_id: str) -> int | None:
        if not author_id.isdigit():
            return None
        a = (int(author_id) - 1_000) // 37
        return a if 0 <= a < self.n_authors and self.author_id_of(a) == author_id else None

    _TAG_BASES: ClassVar[dict[str, tuple[int, int]]] = {
        "topic": (5_000_000, 23),
        "hub": (5_100_000, 29),
        "column": (5_200_000, 31),
    }

    def tag_id_of(self, kind: str, t: int) -> str:
        base, step = self._TAG_BASES[kind]
        return str(base + t * step + _hash(self.seed, kind, t) % step)

    def tag_of_id(self, tag_id: str) -> TagInfo | None:
        if not tag_id.isdigit():
            return None
        value = int(tag_id)
        counts = {"topic": self.n_topics, "hub": self.n_hubs, "column": self.n_columns}
        for kind, (base, step) in self._TAG_BASES.items():
            t = (value - base) // step
            if 0 <= t < counts[kind] and self.tag_id_of(kind, t) == tag_id:
                return self.tag(kind, t)
        return None

    # --- authors, tags, sections, dates by index ---------------------------

    def author(self, a: int) -> AuthorInfo:
        found = self._memo.get(("author", a))
        if found is None:
            found = self._memo_put(("author", a), self._make_author(a))
        return found  # type: ignore[return-value]

    def tag(self, kind: str, t: int) -> TagInfo:
        found = self._memo.get((kind, t))
        if found is None:
            found = self._memo_put((kind, t), self._make_tag(kind, t))
        return found  # type: ignore[return-value]

    def _memo_put(self, key: tuple[str, int], value: object) -> object:
        if len(self._memo) >= 8192:  # bounded: memory must not grow with N
            self._memo.clear()
        self._memo[key] = value
        return value

    def _make_author(self, a: int) -> AuthorInfo:
        rng = random.Random(_hash(self.seed, "author-name", a))
        first = rng.choice(words.FIRST_NAMES)
        last = rng.choice(words.LAST_NAMES)
        if a >= len(words.FIRST_NAMES) * 2 and rng.random() < 0.3:
            last = f"{last}-{rng.choice(words.LAST_NAMES)}"
        name = f"{first} {last}"
        description = ""
        if a % 3:
            description = (
                f"Seit {2000 + a % 24} bei der taz. Schreibt über "
                f"{rng.choice(words.TOPICS)} und {rng.choice(words.TOPICS)}."
            )
        job = rng.choice(("Redakteurin", "Redakteur", "Autorin", "Korrespondent", "Reporterin"))
        return AuthorInfo(a, self.author_id_of(a), name, slugify(name), description, job)

    def _make_tag(self, kind: str, t: int) -> TagInfo:
        rng = random.Random(_hash(self.seed, "tag-name", kind, t))
        n_topics, n_nouns = len(words.TOPICS), len(words.NOUNS)
        topic = words.TOPICS[t % n_topics]
        if t >= n_topics:
            topic = f"{topic} {words.NOUNS[(t // n_topics) % n_nouns]}"
        if t >= n_topics * n_nouns:
            topic = f"{topic} {t // (n_topics * n_nouns)}"
        if kind == "hub":
            return TagInfo(kind, t, self.tag_id_of(kind, t), f"Schwerpunkt {topic}", "Schwerpunkt")
        if kind == "column":
            name = f"Kolumne {rng.choice(words.ADJECTIVES).title()} {words.NOUNS[t % n_nouns]}"
            return TagInfo(kind, t, self.tag_id_of(kind, t), name, "Kolumne")
        return TagInfo(kind, t, self.tag_id_of(kind, t), topic, None)

    def _slot_author(self, slot: int) -> int | None:
        a_count = self.n_authors
        if slot == self.n_slots - 1:
            return None
        return slot if slot < a_count else (slot - a_count) % self.n_prolific

    def _author_slots(self, a: int) -> list[int]:
        slots = [a]
        if a < self.n_prolific:
            slots += list(range(self.n_authors + a, 2 * self.n_authors, self.n_prolific))
        return slots

    def _coauthor(self, index: int) -> int | None:
        slot = index % self.n_slots
        primary = self._slot_author(slot)
        if primary is None or (index // self.n_slots) % 4 != 1:
            return None
        co = self._slot_author((slot + 7) % (self.n_slots - 1))
        return None if co == primary else co

    def _coauthor_slots(self, a: int) -> list[int]:
        """Slots whose articles (those with k % 4 == 1) have author ``a`` second."""
        m = self.n_slots - 1
        found = []
        for t in self._author_slots(a):
            s = (t - 7) % m
            if self._slot_author(s) not in (None, a):
                found.append(s)
        return found

    def author_indexes(self, index: int) -> list[int]:
        primary = self._slot_author(index % self.n_slots)
        if primary is None:
            return []
        co = self._coauthor(index)
        return [primary] if co is None else [primary, co]

    def _hub_of(self, index: int) -> int | None:
        return (index // 2) % self.n_hubs if index % 2 == 0 else None

    def _column_of(self, index: int) -> int | None:
        return (index // 11) % self.n_columns if index % 11 == 5 else None

    def tag_indexes(self, index: int) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        hub = self._hub_of(index)
        if hub is not None:
            found.append(("hub", hub))
        if self.is_deep(index):
            return found  # deep articles are only on late pages of their listings
        found.append(("topic", index % self.n_topics))
        column = self._column_of(index)
        if column is not None:
            found.append(("column", column))
        return found

    def section_of(self, index: int) -> Section:
        return LEAF_SECTIONS[(index // 3) % len(LEAF_SECTIONS)]

    def published(self, index: int) -> datetime:
        minutes = index * self.minute_step + _hash(self.seed, "t", index) % self.minute_step
        day = self.first_day + timedelta(days=minutes // _DAY_MINUTES)
        minute = 6 * 60 + minutes % _DAY_MINUTES
        return datetime.combine(day, time(minute // 60, minute % 60), BERLIN)

    # --- deep articles: only on page 3+ of their author and tag listings ---

    def _hub_rank(self, index: int) -> int:
        """How many articles of index's hub are newer than it."""
        hub = index // 2 % self.n_hubs
        return _count_progression(2 * hub, 2 * self.n_hubs, index + 1, self.n - 1)

    def _author_rank(self, a: int, index: int) -> int:
        m = self.n_slots
        rank = sum(_count_progression(s, m, index + 1, self.n - 1) for s in self._author_slots(a))
        for s in self._coauthor_slots(a):
            rank += _count_progression(s, m, index + 1, self.n - 1, every=4, rest=1)
        return rank

    def is_deep(self, index: int) -> bool:
        if index % 26 != 4 or self._coauthor(index) is not None:
            return False
        if self._hub_rank(index) < 2 * PAGE_SIZE:
            return False
        primary = self._slot_author(index % self.n_slots)
        return primary is None or self._author_rank(primary, index) >= 2 * PAGE_SIZE

    def _shown(self, index: int) -> int:
        """The nearest article at or below ``index`` that may be linked from anywhere."""
        while index > 0 and self.is_deep(index):
            index -= 1
        return index

    # --- revisions ---------------------------------------------------------

    def revise(self, ids: Iterable[str]) -> None:
        """Change the text of these articles (each call is one more revision)."""
        for article_id in ids:
            index = self.index_of(str(article_id))
            if index is None:
                raise KeyError(f"no article {article_id} on this site")
            with self._cache_lock:
                self._revisions[str(article_id)] = self._revisions.get(str(article_id), 0) + 1
                self._cache.pop(index, None)
                self._heads.pop(index, None)

    def revision(self, article_id: str) -> int:
        return self._revisions.get(article_id, 0)

    # --- truth queries -----------------------------------------------------

    def article_ids(self) -> Iterator[str]:
        return (self.id_of(i) for i in range(self.n))

    def deep_ids(self) -> list[str]:
        return [self.id_of(i) for i in range(self.n) if self.is_deep(i)]

    def author_ids(self) -> list[str]:
        return [self.author_id_of(a) for a in range(self.n_authors)]

    def tag_ids(self) -> list[str]:
        kinds = (("topic", self.n_topics), ("hub", self.n_hubs), ("column", self.n_columns))
        return [self.tag_id_of(kind, t) for kind, count in kinds for t in range(count)]

    def section_ids(self) -> list[str]:
        return list(SECTIONS)

    def articles_of_author(self, author_id: str) -> list[str]:
        a = self.author_index_of(author_id)
        if a is None:
            raise KeyError(f"no author {author_id}")
        return [self.id_of(i) for i in self._author_listing(a)]

    def articles_of_tag(self, tag_id: str) -> list[str]:
        tag = self.tag_of_id(tag_id)
        if tag is None:
            raise KeyError(f"no tag {tag_id}")
        return [self.id_of(i) for i in self._tag_listing(tag)]

    def articles_of_section(self, section_id: str) -> list[str]:
        return [self.id_of(i) for i in self._section_listing(section_id)]

    def feed_ids(self, section_id: str = OVERVIEW.id) -> list[str]:
        """Ids in the section's RSS feed (``!p4608`` is the main feed), newest first."""
        return [self.id_of(i) for i in islice(self._section_listing(section_id), FEED_SIZE)]

    def sitemap_ids(self, since: date | None = None) -> list[str]:
        """Ids the monthly sitemaps list, published on or after ``since``, newest first."""
        return [self.id_of(i) for i in self._since(since)]

    def news_sitemap_ids(self) -> list[str]:
        """Ids in /sitemap-google-news.xml: the last two days before the newest article."""
        return [self.id_of(i) for i in self._news_indexes()]

    def listing_pages(self, kind: str, object_id: str) -> int:
        """How many pages a listing has (at least 1)."""
        return max(1, -(-self.listing_count(kind, object_id) // PAGE_SIZE))

    def listing_count(self, kind: str, object_id: str) -> int:
        key = (kind, object_id)
        if key not in self._counts:
            if len(self._counts) >= 4096:
                self._counts.clear()
            self._counts[key] = sum(1 for _ in self.listing(kind, object_id))
        return self._counts[key]

    def article(self, article_id: str) -> Article:
        """The article as an extractor should see it (the truth for tests)."""
        index = self.index_of(article_id)
        if index is None:
            raise KeyError(f"no article {article_id}")
        data = self.data(index)
        body: list[Block] = []
        links: list[Link] = []
        for block in data.blocks:
            if block.kind == "subheading":
                body.append(Block(segments_text(block), "subheading"))
                continue
            text = data.block_text(block)
            offset = len(data.block_prefix(block))
            spans = []
            for seg in block.segments:
                if isinstance(seg, str):
                    offset += len(seg)
                    continue
                links.append(Link(seg[0], seg[1]))
                spans.append(LinkSpan(offset, offset + len(seg[0]), len(links)))
                offset += len(seg[0])
            body.append(Block(text, "paragraph", spans))
        old_design = data.layout == "2019"
        # Hrefs as the page writes them: the previous design links authors
        # absolutely and the lead picture by its 948px file.
        author_host = "https://taz.de" if old_design else ""
        picture = data.picture
        if picture is not None:
            width = 948 if old_design else 1900
            path = f"/picture/{data.picture_id}/{width}/{data.slug}-1.jpeg"
            url = path if old_design else f"https://taz.de{path}"
            picture = Picture(picture.caption, picture.credit, url)
        related = [
            self._related(j, None if old_design else n + 2) for n, j in enumerate(data.related)
        ]
        return Article(
            id=data.id,
            url=f"https://taz.de{data.path}",
            title=data.title,
            topline=data.topline,
            teaser=data.teaser,
            authors=[Author(a.name, a.id, author_host + a.path) for a in data.authors],
            published=data.published,
            picture=picture,
            body=body,
            links=links,
            tags=[Tag(t.name, t.id, t.category) for t in data.tags],
            related=related,
            genre=data.genre,
            layout=data.layout,
        )

    def _related(self, index: int, salt: int | None) -> Related:
        other = self.head(index)
        href = other.path if salt is None else self.teaser_href(index, salt)
        return Related(other.id, href, other.topline, other.title, other.teaser)

    def teaser_href(self, index: int, salt: int) -> str:
        """Teasers link articles in taz's many spellings, picked per (article, spot)."""
        choice = _hash(self.seed, "href", index, salt) % 10
        data = self.head(index)
        slug, aid = data.slug, data.id
        return (
            f"/{slug}/!{aid}/",
            f"/{slug}/!{aid}/",
            f"/{slug}/!{aid}/",
            f"/{slug}/!{aid}/",
            f"/!{aid}/",
            f"https://taz.de/{slug}/!{aid}/",
            f"http://www.taz.de/{slug}/!{aid}",
            f"/{slug}/%21{aid}/",
            f"/{slug}/!{aid}&s={slug.split('-')[0]}/",
            f"/{slug}/!{aid}",
        )[choice]

    # --- listings (newest first) -------------------------------------------

    def listing(self, kind: str, object_id: str) -> Iterator[int]:
        """Article indexes of a listing page series: kind author | tag | section."""
        if kind == "author":
            a = self.author_index_of(object_id)
            return self._author_listing(a) if a is not None else iter(())
        if kind == "tag":
            tag = self.tag_of_id(object_id)
            return self._tag_listing(tag) if tag is not None else iter(())
        if kind == "section":
            return self._section_listing(object_id)
        raise ValueError(kind)

    def page_of(self, kind: str, object_id: str, page: int) -> list[int]:
        """Indexes on page ``page`` (1-based) of a listing."""
        # Crawlers page forward: resume the listing where the previous page
        # ended instead of enumerating it from the start (O(1) per page).
        key = (kind, object_id, page)
        with self._cursor_lock:  # a generator must not run in two threads at once
            cursor = self._cursors.pop(key, None)
            if cursor is None:
                cursor = islice(self.listing(kind, object_id), (page - 1) * PAGE_SIZE, None)
            found = list(islice(cursor, PAGE_SIZE))
            if len(found) == PAGE_SIZE:
                if len(self._cursors) >= 256:
                    self._cursors.pop(next(iter(self._cursors)))
                self._cursors[(kind, object_id, page + 1)] = cursor
        return found

    def _author_listing(self, a: int) -> Iterator[int]:
        m = self.n_slots
        runs = [_descending(s, m, self.n) for s in self._author_slots(a)]
        runs += [_descending(s, m, self.n, every=4, rest=1) for s in self._coauthor_slots(a)]
        return heapq.merge(*runs, reverse=True)

    def _tag_listing(self, tag: TagInfo) -> Iterator[int]:
        if tag.kind == "hub":
            return _descending(2 * tag.index, 2 * self.n_hubs, self.n)
        if tag.kind == "column":
            step = 11 * self.n_columns
            return (
                i
                for i in _descending(11 * tag.index + 5, step, self.n)
                if i % 26 != 4 or not self.is_deep(i)
            )
        return (
            i
            for i in _descending(tag.index, self.n_topics, self.n)
            if i % 26 != 4 or not self.is_deep(i)
        )

    def _leaf_listing(self, leaf: int) -> Iterator[int]:
        s_count = len(LEAF_SECTIONS)
        runs = [_descending(3 * leaf + r, 3 * s_count, self.n) for r in range(3)]
        return (i for i in heapq.merge(*runs, reverse=True) if i % 26 != 4 or not self.is_deep(i))

    def _section_listing(self, section_id: str) -> Iterator[int]:
        if section_id == OVERVIEW.id:
            return (i for i in range(self.n - 1, -1, -1) if i % 26 != 4 or not self.is_deep(i))
        if section_id in _LEAF_INDEX:
            return self._leaf_listing(_LEAF_INDEX[section_id])
        children = [_LEAF_INDEX[s.id] for s in LEAF_SECTIONS if s.parent == section_id]
        if not children:
            return iter(())
        return heapq.merge(*(self._leaf_listing(c) for c in children), reverse=True)

    def _since(self, since: date | None) -> Iterator[int]:
        for i in range(self.n - 1, -1, -1):
            if since is not None and self.published(i).date() < since:
                return
            yield i

    def _news_indexes(self) -> Iterator[int]:
        newest = self.published(self.n - 1).date()
        return self._since(newest - timedelta(days=2))

    def months(self) -> list[tuple[date, date]]:
        """(first day, last day) of every month with articles, newest first."""
        first = self.published(0).date().replace(day=1)
        last = self.published(self.n - 1).date().replace(day=1)
        found = []
        month = last
        while month >= first:
            following = (month + timedelta(days=32)).replace(day=1)
            found.append((month, following - timedelta(days=1)))
            month = (month - timedelta(days=1)).replace(day=1)
        return found

    def month_indexes(self, first: date, last: date) -> Iterator[int]:
        """Indexes published in [first, last], newest first (binary search on dates)."""
        lo, hi = 0, self.n
        while lo < hi:  # first index published after ``last``
            mid = (lo + hi) // 2
            if self.published(mid).date() <= last:
                lo = mid + 1
            else:
                hi = mid
        i = lo - 1
        while i >= 0 and self.published(i).date() >= first:
            yield i
            i -= 1

    # --- the article itself -------------------------------------------------

    def data(self, index: int) -> ArticleData:
        """Everything an article page shows (cached for the last 512 articles)."""
        return self._cached(self._cache, index, True, 512)

    def head(self, index: int) -> ArticleData:
        """An article without its body: what teasers, feeds and sitemaps show."""
        return self._cached(self._heads, index, False, 4096)

    def _cached(
        self, cache: OrderedDict[int, ArticleData], index: int, full: bool, size: int
    ) -> ArticleData:
        # Tests read the truth while a server thread renders from the same site.
        with self._cache_lock:
            found = cache.get(index)
            if found is not None:
                cache.move_to_end(index)
                return found
            if full:
                head = self.head(index)
                made = replace(head, blocks=[], related=[], most_commented=[], comments=[])
                _fill_body(self, made)
            else:
                made = _generate(self, index)
            cache[index] = made
            if len(cache) > size:
                cache.popitem(last=False)
            return made


def segments_text(block: BodyBlock) -> str:
    return "".join(s if isinstance(s, str) else s[0] for s in block.segments)


# --- text generation ----------------------------------------------------------


def _compound(rng: random.Random) -> str:
    parts = rng.choice(words.COMPOUNDS)
    joiner = "\u00ad" if rng.random() < 0.3 else ""
    return parts[0] + joiner + joiner.join(parts[1:]) if joiner else "".join(parts).title()


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _noun(rng: random.Random) -> str:
    return _compound(rng) if rng.random() < 0.12 else rng.choice(words.NOUNS)


def _make_sentence(rng: random.Random) -> str:
    shape = rng.randrange(6)
    adj, noun, verb = rng.choice(words.ADJECTIVES), _noun(rng), rng.choice(words.VERBS)
    other = _noun(rng)
    adv = rng.choice(words.ADVERBS)
    if shape == 0:
        text = f"Die {adj} {noun} {verb} {adv} den Plan für die {other}."
    elif shape == 1:
        text = f"{rng.choice(words.CONNECTORS)} {verb} die {noun} {adv} eine {adj} {other}."
    elif shape == 2:
        number = rng.randrange(2, 98)
        text = f"Rund {number}\u00a0Prozent der {noun} {verb} die {adj} {other}, heißt es {adv}."
    elif shape == 3:
        quote = f"„Das {rng.choice(words.VERBS)} uns nicht“"
        text = f"{quote}, sagt eine Sprecherin der {noun}."
    elif shape == 4:
        text = f"Ob die {noun} {adv} {verb}, bleibt offen \u2013 die {adj} {other} "
        text += "jedenfalls nicht."
    else:
        text = f"Wer die {adj} {noun} kennt, {verb} auch die {other} {adv}."
    return text


_POOL_BITS = 12


def _sentence_pool(seed: int) -> tuple[str, ...]:
    """A fixed pool of sentences: pages pick from it, which keeps rendering cheap."""
    rng = random.Random(_hash(seed, "sentences"))
    return tuple(_make_sentence(rng) for _ in range(1 << _POOL_BITS))


_POOLS: dict[int, tuple[str, ...]] = {}


def _pool(seed: int) -> tuple[str, ...]:
    if seed not in _POOLS:
        _POOLS[seed] = _sentence_pool(seed)
    return _POOLS[seed]


class _Text:
    """Random text for one article: sentences drawn from the seed's pool."""

    __slots__ = ("pool", "rng")

    def __init__(self, seed: int, *key: int | str) -> None:
        self.pool = _pool(seed)
        self.rng = random.Random(_hash(seed, *key))

    def sentence(self) -> str:
        return self.pool[self.rng.getrandbits(_POOL_BITS)]

    def sentences(self, lo: int, hi: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(lo, hi)))


def _phrase(rng: random.Random, lo: int, hi: int) -> str:
    pool = (*words.NOUNS, *words.ADJECTIVES)
    return " ".join(rng.choice(pool) for _ in range(rng.randint(lo, hi)))


def _href_variant(rng: random.Random, slug: str, article_id: str) -> str:
    """One of the ways taz writes a link to an article."""
    choice = rng.randrange(12)
    if choice <= 4:
        return f"/{slug}/!{article_id}/"
    return (
        f"https://taz.de/{slug}/!{article_id}/",
        f"http://www.taz.de/!{article_id}/",
        f"/!{article_id}/",
        f"/{slug}/%21{article_id}/",
        f"/{slug}/!{article_id}&s={rng.choice(words.NOUNS)}/",
        f"https://taz.de/!{article_id}",
        f"/{slug}/!{article_id}",
    )[choice - 5]


def _genre(site: Site, index: int, agency: bool, deep: bool) -> tuple[str, str]:
    """(genre, byline label) of an article."""
    if agency:
        return "report", ""
    if site._column_of(index) is not None and not deep:
        return "commentary", "Kolumne von"
    if index % 9 == 2:
        return "commentary", "Kommentar von"
    if index % 17 == 6:
        return "interview", "Interview von"
    return "report", "Von"


def _headline(rng: random.Random, index: int) -> tuple[str, str]:
    """(topline, title) of an article."""
    topline = _upper_first(rng.choice((*words.ADJECTIVES, *words.TOPICS)))
    if rng.random() < 0.6:
        topline = f"{topline} {_noun(rng)}".replace("\u00ad", "")  # soft hyphens: body only
    if index % 13 == 3:
        topline = f"{topline} in {rng.choice(words.PLACES).title()}"
    title = (
        f"{rng.choice(words.ADJECTIVES).capitalize()} {rng.choice(words.NOUNS)} "
        f"{rng.choice(words.VERBS)} {rng.choice(words.ADVERBS)}"
    )
    if index % 7 == 1:
        title = f"„{title}“"
    return topline, title


def _generate(site: Site, index: int) -> ArticleData:
    """An article's data without its body (enough for teasers); see _fill_body."""
    seed = site.seed
    text = _Text(seed, "meta", index)
    rng = text.rng
    article_id = site.id_of(index)
    deep = site.is_deep(index)
    agency = not site.author_indexes(index)
    genre, label = _genre(site, index, agency, deep)
    topline, title = _headline(rng, index)
    teaser = text.sentences(1, 2)
    authors = [site.author(a) for a in site.author_indexes(index)]
    tags = [site.tag(kind, t) for kind, t in site.tag_indexes(index)]
    slug = slugify(topline)
    picture = None
    picture_id = 7_000_000 + index
    if rng.random() < 0.7:
        credit = f"Foto: {rng.choice(words.FIRST_NAMES)} {rng.choice(words.LAST_NAMES)}"
        credit += f"/{rng.choice(words.CREDITS)}"
        picture = Picture(text.sentence()[:-1], credit, None)
    layout = "2019" if site.old_design_every and index % site.old_design_every == 7 else "2024"
    revision = site.revision(article_id)
    data = ArticleData(
        index=index,
        id=article_id,
        revision=revision,
        slug=slug,
        topline=topline,
        title=title,
        teaser=teaser,
        genre=genre,
        byline_label=label,
        authors=authors,
        agency=agency,
        tags=tags,
        section=site.section_of(index),
        published=site.published(index),
        layout=layout,
        blocks=[],
        picture=picture,
        picture_id=picture_id,
        related=[],
        most_commented=[],
        comments=[],
        drop_cap=genre == "commentary" and not agency,
        deep=deep,
    )
    return data


def _fill_body(site: Site, data: ArticleData) -> None:
    # The body has its own random stream, so a revision changes text only.
    index, seed = data.index, site.seed
    text = _Text(seed, "body", index)
    rng = text.rng
    blocks = data.blocks
    for p in range(rng.randint(4, 11)):
        if p and p % 4 == 0 and rng.random() < 0.6:
            blocks.append(BodyBlock("subheading", [_upper_first(_phrase(rng, 2, 4))]))
        blocks.append(BodyBlock("paragraph", _paragraph(site, text, index, p == 0)))
    first = blocks[0]
    if data.agency:
        first.lead = "dpa | "
    elif data.genre == "report" and rng.random() < 0.5:
        first.dateline = (rng.choice(words.PLACES), "taz")
    for r in range(1, data.revision + 1):
        rev = _Text(seed, "revision", index, r)
        paragraphs = [b for b in blocks if b.kind == "paragraph"]
        target = paragraphs[r % len(paragraphs)]
        target.segments = [*target.segments, " " + rev.sentence()]
        paragraphs[-1].segments = [
            *paragraphs[-1].segments,
            f" Korrektur {r}: In einer früheren Fassung hieß es, die {_noun(rev.rng)} "
            f"{rev.rng.choice(words.VERBS)} den Plan.",
        ]
    if data.layout == "2024" and data.authors and index % 8 == 3:
        # A closing bio box: article text in its own box (after any corrections).
        author = data.authors[-1]
        place = rng.choice(words.PLACES).title()
        bio = f"{author.name} schreibt als freie Autor*in aus {place} für die taz."
        blocks.append(BodyBlock("paragraph", [bio], box="bio"))
    for k in range(1, 4):
        j = index - k * site.n_topics
        if j >= 0:
            data.related.append(site._shown(j))
    # "meistkommentiert" is the same box site-wide: a few recent articles.
    picks = dict.fromkeys(site._shown(max(0, site.n - 1 - k * 5)) for k in range(4))
    data.most_commented = [j for j in picks if j != index][:3]
    talk = _Text(seed, "comments", index)
    data.comments = [
        (
            str(10_000 + talk.rng.randrange(200_000)),
            talk.rng.choice(words.COMMENT_NICKS),
            talk.sentences(1, 3),
        )
        for _ in range(talk.rng.randrange(4))
    ]


def _paragraph(site: Site, text: _Text, index: int, first: bool) -> list[Segment]:
    rng = text.rng
    sentences = [text.sentence() for _ in range(rng.randint(2, 5))]
    segments: list[Segment] = []
    # The first sentence of the first paragraph stays plain: the drop cap and
    # the dateline sit on it.
    link_at = rng.randrange(1 if first else 0, len(sentences)) if rng.random() < 0.45 else -1
    for n, sentence in enumerate(sentences):
        prefix = " " if n else ""
        if n != link_at:
            segments.append(prefix + sentence)
            continue
        tokens = sentence.split(" ")
        start = rng.randrange(0, max(1, len(tokens) - 3))
        length = rng.randint(2, 4)
        before = " ".join(tokens[:start])
        inside = " ".join(tokens[start : start + length]).rstrip(".,")
        after = sentence[len(before) + (1 if before else 0) + len(inside) :]
        segments.append(prefix + before + (" " if before else ""))
        segments.append((inside, _link_target(site, rng, index)))
        segments.append(after)
    # Merge adjacent plain strings and drop empty ones.
    merged: list[Segment] = []
    for seg in segments:
        if isinstance(seg, str):
            if not seg:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += seg
                continue
        merged.append(seg)
    return merged


def _link_target(site: Site, rng: random.Random, index: int) -> str:
    kind = rng.randrange(10)
    if kind <= 5 and index > 0:
        target = site._shown(rng.randrange(index))
        # Slugs change over time; taz resolves any slug by the id.
        return _href_variant(rng, slugify(rng.choice(words.NOUNS)), site.id_of(target))
    if kind == 6:
        tag = site.tag("hub", rng.randrange(site.n_hubs))
        return f"https://taz.de{tag.path}" if rng.random() < 0.5 else tag.path
    if kind == 7:
        return f"https://dokumente.example/{slugify(rng.choice(words.NOUNS)).lower()}.pdf"
    return (
        f"https://www.example.org/{slugify(rng.choice(words.NOUNS)).lower()}/{rng.randrange(999)}"
    )
