"""Property tests over generated articles (hypothesis)."""

from __future__ import annotations

import os
import re
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tazarchive.dump import build_menu, read_dump, render, rules
from tazarchive.items import Article, Author, Block, Link, LinkSpan, Picture, Related, Tag

# More with TAZARCHIVE_HYPOTHESIS_EXAMPLES=1000 for a long run.
EXAMPLES = int(os.environ.get("TAZARCHIVE_HYPOTHESIS_EXAMPLES", "60"))
# Letters with 1- to 4-byte UTF-8 forms, so byte cuts land inside characters.
LETTERS = "abcdefghijklmnopqrstuvwxyzäöüßÄÖÜéçšșă€😀" + "ABCDEFGHIJKLMNOPRSTUVWZ"
PUNCT = ".,!?;\u2013„“()-/'"

word = st.text(LETTERS, min_size=1, max_size=12)
long_word = st.text(LETTERS, min_size=76, max_size=90)  # unbreakable
punct_word = st.builds(lambda w, p: w + p, word, st.sampled_from(PUNCT))
any_word = st.one_of(word, word, word, punct_word, long_word)


def words(min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(st.one_of(word, word, word, punct_word), min_size=min_size, max_size=max_size)


def phrase(min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[str]:
    return words(min_size, max_size).map(" ".join)


# Titles and toplines: no quotes (the reader splits "<topline>: <title>" at
# the last ": " outside „…“, which unbalanced quotes would move).
title_word = st.one_of(word, st.builds(lambda w, p: w + p, word, st.sampled_from(".,!?\u2013-")))


def title_phrase(min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[str]:
    return st.lists(title_word, min_size=min_size, max_size=max_size).map(" ".join)


@st.composite
def paragraph(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """Text plus link ranges (code-point offsets), links never touching each other."""
    parts = draw(st.lists(st.one_of(any_word, word), min_size=1, max_size=40))
    text = ""
    ranges: list[tuple[int, int]] = []
    index = 0
    while index < len(parts):
        if text:
            text += " "
        if draw(st.integers(0, 9)) == 0 and (not ranges or ranges[-1][1] < len(text) - 1):
            length = draw(st.integers(1, 4))
            chunk = " ".join(parts[index : index + length])
            ranges.append((len(text), len(text) + len(chunk)))
            text += chunk
            index += length
        else:
            text += parts[index]
            index += 1
    return text, ranges


def recognisable(a: Article) -> bool:
    # A dump with none of these reads like a listing page (NotADump), by design.
    return bool(a.published or a.teaser or a.picture or a.links or a.authors or a.tags or a.related)


@st.composite
def article(draw: st.DrawFn) -> Article:
    blocks: list[Block] = []
    links: list[Link] = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 4)) == 0:
            blocks.append(Block(draw(phrase(1, 6)), "subheading"))
            continue
        text, ranges = draw(paragraph())
        spans = []
        for start, end in ranges:
            links.append(Link(text[start:end], draw(st.sampled_from(HREFS))))
            spans.append(LinkSpan(start, end, len(links)))
        blocks.append(Block(text, "paragraph", spans))
    day = draw(st.dates(min_value=datetime(1990, 1, 1).date()))
    published = draw(
        st.none() | st.just(datetime(day.year, day.month, day.day, tzinfo=rules.DATE_ZONE))
    )
    return Article(
        id="",
        url="",
        title=draw(title_phrase(1, 12)),
        topline=draw(st.just("") | title_phrase(1, 4)),
        teaser=draw(st.just("") | phrase(1, 40)),
        picture=draw(st.none() | st.builds(Picture, phrase(1, 20))),
        body=blocks,
        links=links,
        published=published,
        authors=[Author(name) for name in draw(st.lists(phrase(1, 3), max_size=3))],
        tags=[Tag(name) for name in draw(st.lists(phrase(1, 3), max_size=4))],
        related=[
            Related(None, None, topline, title, teaser)
            for topline, title, teaser in draw(
                st.lists(
                    st.tuples(title_phrase(1, 3), title_phrase(1, 8), phrase(1, 30)), max_size=3
                )
            )
        ],
        layout="dump",
        parser_version="dump-1",
    )


HREFS = ("/Slug/!6110749/", "/Nikita-Danilin/!a144060/", "https://example.org/a?b=c", "/!t5008150")


def dump_parts(a: Article) -> tuple[object, ...]:
    """What a dump holds of an article."""
    return (
        a.topline,
        a.title,
        a.teaser,
        a.picture.caption if a.picture else None,
        [(b.kind, b.text, [(s.start, s.end, s.n) for s in b.links]) for b in a.body],
        [(link.text, link.href) for link in a.links],
        a.published,
        [x.name for x in a.authors],
        [t.name for t in a.tags],
        [(r.topline, r.title, r.teaser) for r in a.related],
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(article().filter(recognisable))
def test_text_rendering_reads_back_to_the_same_article(original: Article) -> None:
    back = read_dump(render(original, "text"))
    assert dump_parts(back) == dump_parts(original)
    assert back.cut == []


@settings(max_examples=EXAMPLES, deadline=None)
@given(article().filter(recognisable))
def test_seed_lines_valid_utf8_and_cut_to_79_bytes(original: Article) -> None:
    data = render(original, "seed").encode("utf-8")
    for row in data.decode("utf-8").split("\n")[:-1]:
        assert row.startswith("| ") and row.endswith(" | |")
        line = row[2:-4].encode("utf-8")
        assert len(line) <= 80 or (
            line.endswith("…".encode()) and len(line) - len("…".encode()) <= 79
        )
        assert line, "blank lines are dropped"


@settings(max_examples=EXAMPLES, deadline=None)
@given(article().filter(recognisable))
def test_seed_reads_back_to_the_same_seed(original: Article) -> None:
    seed = render(original, "seed")
    assert render(read_dump(seed), "seed") == seed


@settings(max_examples=EXAMPLES, deadline=None)
@given(article().filter(recognisable))
def test_wrapped_lines_at_most_75_unless_one_long_word(original: Article) -> None:
    for line in build_menu(original):
        wrapped = (
            line.path == "teaser"
            or line.path.endswith(".teaser")
            or (
                line.path.startswith("body.")
                and original.body[int(line.path.split(".")[1])].kind == "paragraph"
            )
        )
        if wrapped and len(line.text) > rules.WRAP_WIDTH:
            assert " " not in line.text.removeprefix(rules.TEASER_PREFIX), line.text


@settings(max_examples=EXAMPLES, deadline=None)
@given(article().filter(recognisable))
def test_links_numbered_one_to_n_in_order(original: Article) -> None:
    text = render(original, "text")
    body_end = text.find("\n" + rules.SECTION_LINKS + "\n")
    in_text = [int(n) for n in re.findall(r"\[(\d+)\]\[", text[: max(body_end, 0) or len(text)])]
    assert in_text == list(range(1, len(in_text) + 1))
    rows = re.findall(r"^\[(\d+)\] ", text[body_end:], re.M) if body_end >= 0 else []
    assert [int(n) for n in rows] == in_text
