"""Per-design rules on pages built from our fixtures: furniture, bylines, completeness."""

from __future__ import annotations

import pytest

from tazarchive.extract import extract_article

from .conftest import DATA

FIXTURES = DATA / "extract"
REPORT = (FIXTURES / "article-2024-report.html").read_text("utf-8")
OLDER = (FIXTURES / "article-2008-byline.html").read_text("utf-8")
URL = "https://taz.de/"
LAST_2024 = '<p class="bodytext paragraph last '

PROMOTIONS = [
    '<div class="wochentaz-promo"><h2>Die wochentaz</h2><p>Erfundenes Probeabo!</p></div>',
    '<div><p>Jetzt <a href="/Abo/!p4209/#matomo:pk_campaign=box">abonnieren</a></p></div>',
    '<div class="box"><form action="/x/"><p>Erfundene Spende</p><input name="x"></form></div>',
    '<div class="share-widget"><ul><li><a href="https://example.org/t">Teilen</a></li></ul></div>',
    '<script>var promo = "Kein Text";</script>',
]


@pytest.mark.parametrize("box", PROMOTIONS)
def test_2024_promotion_boxes_in_the_corpus_are_not_blocks(box: str) -> None:
    plain = extract_article(REPORT, URL)
    with_box = extract_article(REPORT.replace(LAST_2024, box + LAST_2024, 1), URL)
    assert plain is not None and with_box is not None
    assert with_box.body == plain.body
    assert with_box.links == plain.links
    assert with_box.body_mismatch == ""


def test_2024_paragraph_with_a_campaign_link_is_a_body_mismatch() -> None:
    promo = '<p class="bodytext paragraph">Mehr <a href="/!p4697/#matomo:x">hier</a></p>'
    article = extract_article(REPORT.replace(LAST_2024, promo + LAST_2024, 1), URL)
    assert article is not None
    assert "campaign link" in (article.body_mismatch or "")


def test_older_design_description_that_differs_from_the_teaser_is_a_mismatch() -> None:
    page = OLDER.replace(
        'content="Seit Jahren streiten zwei Nachbarn', 'content="Eine ganz andere Beschreibung'
    )
    article = extract_article(page, URL)
    assert article is not None
    assert (article.body_mismatch or "").startswith("teaser differs from the meta description")


def test_older_design_paragraph_carrying_a_form_is_a_mismatch() -> None:
    page = OLDER.replace(
        '<p class="article">Bis dahin', '<p class="article"><input name="x">Bis dahin', 1
    )
    article = extract_article(page, URL)
    assert article is not None
    assert "form or a campaign link" in (article.body_mismatch or "")


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("VON ANNA BEISPIEL", ["Anna Beispiel"]),
        ("VON ANNA BEISPIEL UND OLE TEST", ["Anna Beispiel", "Ole Test"]),
        (
            "VON KARL-HEINZ MÜLLER, ANNA BEISPIEL UND OLE TEST",
            ["Karl-Heinz Müller", "Anna Beispiel", "Ole Test"],
        ),
    ],
)
def test_older_design_teaser_byline_goes_to_the_authors(byline: str, names: list[str]) -> None:
    page = OLDER.replace("VON ANNA BEISPIEL</p>", f"{byline}</p>")
    article = extract_article(page, URL)
    assert article is not None
    assert article.teaser.endswith("Jetzt entscheidet ein Gericht.")
    assert [a.name for a in article.authors] == names
    anna = next(a for a in article.authors if a.name == "Anna Beispiel")
    assert anna.id == "100020"  # spelled and identified by the profile box


def test_older_design_teaser_ending_in_a_lower_case_von_keeps_it() -> None:
    page = OLDER.replace("VON ANNA BEISPIEL</p>", "Ein Bericht von unterwegs</p>")
    article = extract_article(page, URL)
    assert article is not None
    assert article.teaser.endswith("Ein Bericht von unterwegs")
    assert [a.name for a in article.authors] == ["Anna Beispiel"]


def test_older_design_without_byline_takes_authors_from_the_profile_box() -> None:
    page = OLDER.replace(" VON ANNA BEISPIEL</p>", "</p>")
    article = extract_article(page, URL)
    assert article is not None
    assert [(a.name, a.id) for a in article.authors] == [("Anna Beispiel", "100020")]


def test_older_design_date_with_line_breaks_is_read() -> None:
    article = extract_article(OLDER, URL)
    assert article is not None and article.published is not None
    assert article.published.isoformat() == "2011-07-14T00:00:00+02:00"


def test_older_design_page_id_other_than_requested_is_a_mismatch() -> None:
    from tazarchive.extract import PageRejected

    with pytest.raises(PageRejected) as rejected:
        extract_article(OLDER, URL, requested_id="71235")
    assert rejected.value.reason == "id_mismatch"
    article = extract_article(OLDER, URL, requested_id="71234")
    assert article is not None and article.id == "71234"
