"""`beer_reviews`: the BeerAdvocate reviews with aspect ratings of Lei et al. (2016).

SMUG's text experiment (Sec. 5.2) predicts the *aroma* rating from the review text and
compares explanations with the human rationale annotations. The data is not redistributable
and no copy is mirrored here; a user who has it puts the files of Lei et al.'s release in
``<cache>/beer_reviews/`` (``nesy.data.cache_dir()``, i.e. ``data/cache`` unless
``NESY_DATA_CACHE`` says otherwise) or in the folder named by ``NESY_BEER_REVIEWS``:

    reviews.aspect1.train.txt.gz     70k reviews, aroma-decorrelated split (SMUG's train)
    reviews.aspect1.heldout.txt.gz   the held-out reviews (SMUG's validation / test)
    annotations.json                 994 reviews with human rationales per aspect

Review lines are ``<5 ratings in [0, 1]>\\t<tokenised text>`` (aspects: appearance, aroma,
palate, taste, overall); annotation lines are JSON objects with ``x`` (tokens), ``y``
(ratings) and ``"0"``, ``"1"``, ``"2"`` (token spans ``[start, end)`` for appearance, aroma,
palate).
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

from nesy.paths import shown

from ..checks import one_of
from .errors import DataUnavailableError, FormatError
from .registry import cache_dir

ASPECTS = ("appearance", "aroma", "palate", "taste", "overall")
SPLITS = {"train": "reviews.aspect1.train.txt.gz", "heldout": "reviews.aspect1.heldout.txt.gz", "annotations": "annotations.json"}


@dataclass(frozen=True)
class BeerReviews:
    """tokens: N token lists; ratings: N lists of 5 ratings in [0, 1] (``ASPECTS`` order);
    rationales: N lists of ``(start, end)`` token spans for the chosen aspect (empty lists
    for the train / heldout splits, which have no annotations); aspect: its name."""

    tokens: list[list[str]]
    ratings: list[list[float]]
    rationales: list[list[tuple[int, int]]]
    aspect: str

    def __len__(self) -> int:
        return len(self.tokens)

    def targets(self) -> list[float]:
        """The chosen aspect's rating per review."""
        i = ASPECTS.index(self.aspect)
        return [r[i] for r in self.ratings]


def beer_reviews_dir() -> Path:
    """Where the files are looked for: env ``NESY_BEER_REVIEWS`` or ``<cache>/beer_reviews``."""
    env = os.environ.get("NESY_BEER_REVIEWS")
    return Path(env).expanduser() if env else cache_dir() / "beer_reviews"


def _open(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def beer_reviews(split: str = "annotations", aspect: str = "aroma", *, root: str | Path | None = None) -> BeerReviews:
    """Load one split of the Beer Reviews data (Lei et al. 2016) for one aspect.

    split: ``"train"``, ``"heldout"`` or ``"annotations"`` (the human rationales).
    aspect: one of ``ASPECTS`` (rationales exist for appearance, aroma, palate).
    root: folder holding the files (default :func:`beer_reviews_dir`).
    Raises :class:`DataUnavailableError` naming the folder and the file when it is absent.
    """
    one_of("split", split, SPLITS)
    one_of("aspect", aspect, ASPECTS)
    folder = Path(root) if root is not None else beer_reviews_dir()
    path = folder / SPLITS[split]
    if not path.exists():
        raise DataUnavailableError(
            f"beer_reviews: {shown(path)} does not exist. The BeerAdvocate data of Lei et al. (2016) is not in the "
            f"offline mirror and has no public download; if you have it, put {', '.join(SPLITS.values())} in "
            f"{shown(folder)} (or set NESY_BEER_REVIEWS to the folder that holds them).",
            [("local folder", f"{shown(path)} does not exist"), ("offline mirror", "not mirrored"), ("download", "no public URL")],
        )
    tokens, ratings, rationales = [], [], []
    a = ASPECTS.index(aspect)
    with _open(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if split == "annotations":
                row = json.loads(line)
                if "x" not in row or "y" not in row:
                    raise FormatError(f"beer_reviews: {path} line {number} lacks 'x' or 'y'")
                tokens.append(list(row["x"]))
                ratings.append([float(v) for v in row["y"]])
                rationales.append([tuple(span) for span in row.get(str(a), [])] if a < 3 else [])
            else:
                head, _, text = line.rstrip("\n").partition("\t")
                values = head.split()
                if len(values) != 5 or not text:
                    raise FormatError(f"beer_reviews: {path} line {number} is not '<5 ratings>\\t<text>'")
                tokens.append(text.split())
                ratings.append([float(v) for v in values])
                rationales.append([])
    return BeerReviews(tokens, ratings, rationales, aspect)
