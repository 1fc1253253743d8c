"""Round trip of the replica's articles through every dump rendering, as import-dumps reads them.

    python bench/roundtrip.py [N]      # N replica articles (default 500)

For each article (normalised as a crawl stores it) and rendering: render,
read back, normalise as ``import-dumps`` does, render again, and count the
dumps that differ. ``plain normalise`` is the rule before kept line breaks
(whitespace collapsed everywhere), for comparison.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tazarchive.dump import RENDERINGS, read_dump, render
from tazarchive.normalise import normalise, normalise_article
from tazarchive.replica import Site


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    site = Site(count)
    ids = list(site.article_ids())
    for fmt in RENDERINGS:
        differ = {"import-dumps": 0, "plain normalise": 0}
        for article_id in ids:
            dump = render(normalise(site.article(article_id)), fmt)
            for name, rule in (("import-dumps", normalise), ("plain normalise", normalise_article)):
                back = rule(read_dump(dump, source=f"{article_id}.txt"))
                differ[name] += render(back, fmt) != dump
        shown = ", ".join(f"{name}: {n} of {len(ids)} differ" for name, n in differ.items())
        print(f"{fmt:9} {shown}")


if __name__ == "__main__":
    main()
