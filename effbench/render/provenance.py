"""The provenance and citation page: when and from what the leaderboard was built, and how to cite it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import PurePath

import pandas as pd

from effbench.formatting import missing
from effbench.render.contexts import Page, ProvenancePage, SourceRow

METHOD_CITATION = """\
@inproceedings{perlitz2024efficient,
  title     = {Efficient Benchmarking (of Language Models)},
  author    = {Perlitz, Yotam and Bandel, Elron and Gera, Ariel and Arviv, Ofir and Ein-Dor, Liat and
               Shnarch, Eyal and Slonim, Noam and Shmueli-Scheuer, Michal and Choshen, Leshem},
  booktitle = {Proceedings of the 2024 Conference of the North American Chapter of the Association for
               Computational Linguistics: Human Language Technologies (Volume 1: Long Papers)},
  address   = {Mexico City, Mexico},
  publisher = {Association for Computational Linguistics},
  year      = {2024},
  url       = {https://aclanthology.org/2024.naacl-long.139},
  note      = {arXiv:2308.11696}
}"""


def _source_date_epoch() -> pd.Timestamp | None:
    """Return SOURCE_DATE_EPOCH (reproducible builds) as a UTC time, or None when it is not set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return pd.Timestamp(dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)) if epoch.isdigit() else None


def clamp_time(value) -> pd.Timestamp | None:
    """Return `value` as a UTC time, no later than SOURCE_DATE_EPOCH when that is set: the convention of
    reproducible builds, so that a build from the same inputs at another time gives the same files."""
    if missing(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
    epoch = _source_date_epoch()
    return min(stamp, epoch) if epoch is not None else stamp


def _timestamp(value) -> str:
    stamp = clamp_time(value)
    return "" if stamp is None else stamp.strftime("%Y-%m-%d %H:%M UTC")


def build_date(sources: pd.DataFrame) -> str:
    """Return the build date shown on the site: SOURCE_DATE_EPOCH when set (reproducible builds), else
    the time the data last changed (the newest load), so that rebuilding the same data gives the same
    site byte for byte."""
    epoch = _source_date_epoch()
    if epoch is not None:
        return epoch.strftime("%Y-%m-%d %H:%M UTC")
    if sources.empty:
        return ""
    return _timestamp(sources["loaded_at"].max())


def provenance_page(sources: pd.DataFrame, analyses: tuple[str, ...], page: Page, *, version: str,
                    citation: str | None) -> ProvenancePage:
    """Return the provenance page: every loaded file (name, sha256, kind, format, rows, load time,
    licence), the analyses' parameters, and the BibTeX of the leaderboard and of the method."""
    rows = tuple(
        SourceRow(
            name=PurePath(str(r.path)).name, sha256=str(r.sha256), kind=str(r.kind),
            format="table" if missing(getattr(r, "format", None)) else str(r.format),
            rows=f"{int(r.rows):,}", loaded_at=_timestamp(r.loaded_at),
            license="" if missing(r.license) else str(r.license), credit="" if missing(r.credit) else str(r.credit),
        )
        for r in sources.itertuples(index=False)
    )
    return ProvenancePage(page=page, built=build_date(sources), version=version, analyses=analyses, sources=rows,
                          citation=(citation or "").strip(), method_citation=METHOD_CITATION)
