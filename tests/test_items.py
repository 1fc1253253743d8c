"""The article item: itemadapter reads it, and its JSON view is lossless."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

from itemadapter import ItemAdapter

from tazarchive.items import (
    Article,
    Author,
    Block,
    Link,
    LinkSpan,
    Picture,
    Related,
    Tag,
    article_from_dict,
    article_to_dict,
)


def _sample_article() -> Article:
    berlin_summer = timezone(timedelta(hours=2))
    return Article(
        id="6000001",
        url="https://taz.de/!6000001/",
        topline="Probe",
        title="Ein Titel",
        teaser="Ein Vorspann.",
        authors=[Author("Erika Musterfrau", "144060", "/Erika-Musterfrau/!a144060/")],
        published=datetime(2025, 6, 3, 9, 30, tzinfo=berlin_summer),
        picture=Picture("Ein Bild.", "Foto: Agentur", "/picture/1/948/x.jpeg"),
        body=[
            Block("Lies das hier weiter.", links=[LinkSpan(5, 9, 1)]),
            Block("Zwischentitel", kind="subheading"),
        ],
        links=[Link("hier", "/Anderes/!6000002/")],
        tags=[Tag("Beispiel", "5008150", "Schwerpunkt")],
        related=[Related("6000002", "/Anderes/!6000002/", "Dach", "Titel", "Text")],
        layout="2024",
        parser_version="1",
        fetched=datetime(2025, 6, 4, 12, 0, tzinfo=UTC),
        body_mismatch="",
    )


def test_json_view_round_trips_through_json_text() -> None:
    article = _sample_article()
    text = json.dumps(article_to_dict(article), ensure_ascii=False)
    assert article_from_dict(json.loads(text)) == article


def test_json_view_keeps_the_utc_offset_of_datetimes() -> None:
    data = article_to_dict(_sample_article())
    assert data["published"] == "2025-06-03T09:30:00+02:00"
    assert data["fetched"] == "2025-06-04T12:00:00+00:00"


def test_itemadapter_sees_every_field() -> None:
    adapter = ItemAdapter(_sample_article())
    assert adapter["title"] == "Ein Titel"
    assert {"id", "url", "body", "links", "tags", "related", "published"} <= set(adapter.keys())


def test_from_dict_ignores_fields_it_does_not_know() -> None:
    data = article_to_dict(_sample_article())
    data["added_by_a_later_version"] = 1
    assert article_from_dict(data).id == "6000001"


def test_json_view_is_what_dataclasses_asdict_gives() -> None:
    article = _sample_article()
    article.cut = ["title", "body.1"]
    article.revision = 2
    expected = dataclasses.asdict(article)
    for name in ("published", "fetched"):
        expected[name] = expected[name].isoformat()
    data = article_to_dict(article)
    assert data == expected
    assert list(data) == list(expected)  # field order: the JSONL's key order
    assert data["body"][0]["links"] is not article.body[0].links  # a copy, not the item's lists
