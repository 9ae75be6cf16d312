"""The names a reader knows: a model's display name and a scenario's title where the metadata gives
them, the id everywhere else, and a model's own web page.

The rules, so that a name on the site always points at one model or scenario:

- A model shows its ``display_name`` metadata (a `--models` column, HELM's ``schema.json``, Every Eval
  Ever's model info); a scenario its title (``[scenarios.NAME] title`` in effbench.toml, else what the
  harness files say: HELM's run group display name, Inspect's task display name).
- Two scenarios given one title (HELM's ``bbq:subject=a`` and ``bbq:subject=b``, both "BBQ") show it with
  what tells them apart, the id's arguments after its first ``:``: "BBQ (subject=a)".
- A name that would still be shared, or that is another model's (scenario's) id, is not used: the id is.
- The id stays in the page addresses, the downloads and a tooltip, so nothing a user types changes.
- A model's web page is the first of its ``link``, ``url`` or ``homepage`` that is an http(s) address,
  else its Hugging Face page when ``hf_repo`` names one (``org/name``). Other values are ignored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from effbench.formatting import missing

URL_COLUMNS = ("link", "url", "homepage")
_WEB_ADDRESS = re.compile(r"https?://[^\s\"'<>\\\x00-\x1f\x7f]+", re.IGNORECASE)
_HF_REPO = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


@dataclass(frozen=True)
class Names:
    """What the site calls each model and scenario, and where each model's own page is."""

    models: dict[str, str]
    scenarios: dict[str, str]
    model_urls: dict[str, str]
    unused: tuple[str, ...] = ()  # display names and titles not shown (shared, or another's id), in words

    @classmethod
    def of(cls, models: Sequence[str], scenarios: Sequence[str], model_metadata: pd.DataFrame,
           scenario_metadata: pd.DataFrame, configured_titles: Mapping[str, str] | None = None) -> Names:
        """Return the names of `models` and `scenarios`, from the ``models`` and ``scenarios`` tables and
        the titles set in effbench.toml."""
        meta = _records(model_metadata, "model")
        titles = {s: str(row["title"]) for s, row in _records(scenario_metadata, "scenario").items()
                  if _text(row.get("title"))}
        titles.update({s: t for s, t in (configured_titles or {}).items() if _text(t)})
        display = {m: str(meta[m]["display_name"]).strip() for m in models
                   if m in meta and _text(meta[m].get("display_name"))}
        titled = {s: titles[s].strip() for s in scenarios if s in titles}
        labels = unique_labels(models, display)
        scenario_labels = unique_labels(scenarios, titled, qualify=_arguments)
        return cls(
            models=labels, scenarios=scenario_labels,
            model_urls={m: url for m in models if m in meta and (url := web_page(meta[m]))},
            unused=_unused("model", "display name", display, labels)
            + _unused("scenario", "title", titled, scenario_labels),
        )

    def model(self, model: str) -> str:
        return self.models.get(model, model)

    def scenario(self, scenario: str) -> str:
        return self.scenarios.get(scenario, scenario)


def unique_labels(ids: Sequence[str], proposed: Mapping[str, str], qualify=None) -> dict[str, str]:
    """Return a label for each of `ids`: its `proposed` name where that names it alone, else (for names
    shared by several ids) ``qualify(id)`` added in brackets when that tells them apart, else the id."""
    labels = {i: proposed.get(i) or i for i in ids}
    if qualify is not None:
        shared = {label for label, count in Counter(labels.values()).items() if count > 1}
        labels = {i: f"{label} ({qualify(i)})" if label in shared and label != i and qualify(i) else label
                  for i, label in labels.items()}
    counts, id_set = Counter(labels.values()), set(ids)
    return {i: label if label == i or (counts[label] == 1 and label not in id_set) else i
            for i, label in labels.items()}


def _unused(kind: str, what: str, proposed: Mapping[str, str], labels: Mapping[str, str]) -> tuple[str, ...]:
    """Say, per name not used, which ids it was proposed for: they are shown by their ids."""
    dropped: dict[str, list[str]] = {}
    for key, name in proposed.items():
        if labels[key] == key != name:
            dropped.setdefault(name, []).append(key)
    return tuple(f"{what} {name!r} ({kind} {', '.join(keys)}) is not shown: it is shared, or another {kind}'s "
                 f"id, so the page would not say which {kind} it means; shown by id" for name, keys in dropped.items())


def web_page(metadata: Mapping[str, object]) -> str:
    """Return a model's own web page from its metadata (see the module's rules), or ""."""
    for column in URL_COLUMNS:
        value = metadata.get(column)
        if _text(value) and _WEB_ADDRESS.fullmatch(str(value).strip()):
            return str(value).strip()
    repo = metadata.get("hf_repo")
    if _text(repo) and _HF_REPO.fullmatch(str(repo).strip()):
        return f"https://huggingface.co/{str(repo).strip()}"
    return ""


def _arguments(scenario: str) -> str:
    """Return what follows a scenario id's first ":", with spaces after its commas (HELM's run arguments)."""
    _, colon, rest = scenario.partition(":")
    return rest.replace(",", ", ") if colon else ""


def _records(frame: pd.DataFrame, key: str) -> dict[str, dict]:
    if frame is None or frame.empty or key not in frame.columns:
        return {}
    return {str(row[key]): row for row in frame.to_dict("records")}


def _text(value: object) -> bool:
    return not missing(value) and bool(str(value).strip())
