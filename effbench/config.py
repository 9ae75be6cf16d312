"""`effbench.toml`: the project's settings, read from the current folder when it exists.

    [site]
    title = "My benchmark"
    citation = "@misc{my-benchmark, title = {My benchmark leaderboard}, year = {2025}}"

    [scenarios]                 # a short description per scenario (shown on its page)
    "college math" = "Multiple-choice questions from college mathematics exams."

    [scenarios."flores-de"]     # or a table: a description and tags (groups on the Groups page)
    description = "Translation into German."
    tags = ["German", "Germanic"]

    [flash]
    stages = "geometric"        # first_stage x growth^k per scenario, then all; or a list [10, 20, 50, "all"]
    first_stage = 10
    growth = 1.5
    order = "informed"          # or "random"
    estimator = "greg"          # or "bootstrap" (the earlier variant)
    correction = "group-sequential"  # or "bonferroni", "none"
    spending = "board"          # group-sequential: spend the error where the board's models stop; or "flat"
    intersect = true            # rank intervals from the intersection of all the looks' intervals so far
    stop_rule = "reported"      # or "estimate" (the earlier rule)
    variance_floor = true
    confidence = 0.95
    resamples = 1000            # bootstrap estimator only
    seed = 0
    seeds = 5                   # item orders replayed by the simulation
    replayed = 100              # boards of more models replay a stratified draw of this many

    tiers = "board-size"        # the paper's tiers, widened on boards of 500 models or more; or "paper"
    floor = "width"             # no rank finer than the full run's own rank intervals there; or
                                # "half-width" (stricter), false (none)

    [[flash.tiers]]             # or declared tiers, in order: up to rank `last`, within +-`resolution`,
    last = 1                    # each in ranks or as a share of the board ("1%"); the last tier has no
    resolution = 0              # "last" (`first` may be given: the previous tier's last + 1)
    [[flash.tiers]]
    last = "1%"
    resolution = "0.25%"
    [[flash.tiers]]
    resolution = "1%"

    [ranking]
    lower_is_better = ["latency"]  # scenarios whose scores are better when lower (error rates, latency)
    missing = "lowest-if-half"  # a model without results in some scenarios of a board: or "lowest", "exclude"

    [[boards]]                  # scenarios ranked together (default: formed from the data, see boards.py)
    name = "safety"
    title = "Safety"
    description = "HELM's safety scenarios."
    scenarios = ["bbq*", "harm_bench", "safety"]  # names, globs or tags (a HELM run group)
    missing = "exclude"         # this board's own policy
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from effbench.boards import DEFAULT_MISSING, MISSING_POLICIES, BoardSpec
from effbench.errors import EffbenchError
from effbench.flash import FlashConfig
from effbench.tiers import DeclaredTier, share

CONFIG_FILE = "effbench.toml"
_SECTIONS = {"site": {"title", "citation"}, "scenarios": None,  # [scenarios]: any name
             "flash": {"stages", "first_stage", "growth", "order", "estimator", "correction", "spending",
                       "intersect", "stop_rule", "variance_floor", "confidence", "resamples", "seed", "seeds",
                       "replayed", "tiers", "floor"},
             "ranking": {"lower_is_better", "missing"}, "boards": None}
_BOARD_KEYS = {"name", "title", "description", "scenarios", "missing"}


@dataclass(frozen=True)
class SiteConfig:
    """The site's own settings: `[site]` title and citation (BibTeX for "Cite this leaderboard"), and
    `[scenarios]`, a description, tags and a title per scenario name (over what the loaded files say)."""

    title: str | None = None
    citation: str | None = None
    scenario_descriptions: dict[str, str] = field(default_factory=dict)
    scenario_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)  # [scenarios.NAME] tags
    scenario_titles: dict[str, str] = field(default_factory=dict)  # [scenarios.NAME] title: the name shown


@dataclass(frozen=True)
class Config:
    title: str | None = None
    flash: FlashConfig = field(default_factory=FlashConfig)
    site: SiteConfig = field(default_factory=SiteConfig)
    lower_is_better: tuple[str, ...] = ()  # [ranking] scenarios whose scores are better when lower
    missing: str = DEFAULT_MISSING  # [ranking] missing: the policy for models lacking some of a board's scenarios
    boards: tuple[BoardSpec, ...] = ()  # [[boards]]: declared boards (none: formed from the data)


def _tiers(value: object) -> tuple[str, tuple[DeclaredTier, ...]]:
    """Return the tier rule and declared tiers of `[flash] tiers`: a rule's name or a list of tiers."""
    if isinstance(value, str):
        if value == "declared":
            raise ValueError("declared tiers are given as [[flash.tiers]] tables, not by name")
        return value, ()
    if not isinstance(value, list) or not value or not all(isinstance(t, dict) for t in value):
        raise ValueError('tiers must be "board-size", "paper" or a list of [[flash.tiers]] tables')
    declared, first = [], 1
    for number, tier in enumerate(value, 1):
        unknown = sorted(set(tier) - {"first", "last", "resolution"})
        if unknown:
            raise ValueError(f"tier {number}: unknown key(s) {', '.join(unknown)}; a tier has first, last, resolution")
        if "resolution" not in tier:
            raise ValueError(f"tier {number}: resolution is missing")
        last, resolution = (_amount(tier.get(key), f"tier {number} {key}") for key in ("last", "resolution"))
        if "first" in tier and _typed(tier["first"], int, f"tier {number} first") != first:
            raise ValueError(f"tier {number}: first must be {first}, the rank after the previous tier" if first
                             else f"tier {number}: leave first out after a tier that ends at a share of the board")
        declared.append(DeclaredTier(last, resolution))
        first = last + 1 if isinstance(last, int) else None
    if declared[-1].last is not None:
        raise ValueError("the last tier must have no last (it runs to the end of the board)")
    return "declared", tuple(declared)


def _floor(value: object) -> str:
    """Return the floor rule of `[flash] floor`: "width" (or true), "half-width", or "none" (or false)."""
    if isinstance(value, bool):
        return "width" if value else "none"
    if value not in ("width", "half-width", "none"):
        raise ValueError(f'floor must be "width", "half-width", "none", true or false, got {value!r}')
    return value


def _amount(value: object, key: str) -> int | float | None:
    """Return a tier's end or resolution: whole ranks (int) or a share of the board ("1%" -> 0.01)."""
    if value is None or isinstance(value, str):
        return value if value is None else share(value)
    return _typed(value, int, key)


def load_config(path: Path | None = None) -> Config:
    """Return the settings in `path` (default: ./effbench.toml if it exists, else the defaults)."""
    if path is None:
        path = Path(CONFIG_FILE)
        if not path.exists():
            return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise EffbenchError(f"{path}: cannot read settings: {error}") from None
    except UnicodeDecodeError as error:
        raise EffbenchError(f"{path}: cannot read settings: byte {error.start} is not UTF-8 text "
                            "(save the file as UTF-8)") from None
    boards = _boards(path, data.pop("boards", []))
    for section, values in data.items():
        if section not in _SECTIONS or not isinstance(values, dict):
            raise EffbenchError(f"{path}: unknown section [{section}]; known: {', '.join(sorted(_SECTIONS))}")
        if _SECTIONS[section] is None:  # [scenarios]: any scenario name, each a description or a table
            for name, value in sorted(values.items()):
                _check_scenario(path, section, name, value)
            continue
        unknown = sorted(set(values) - _SECTIONS[section])
        if unknown:
            raise EffbenchError(f"{path}: unknown setting(s) in [{section}]: {', '.join(unknown)}")
    flash = data.get("flash", {})
    try:
        tier_rule, declared = _tiers(flash.get("tiers", "board-size"))
        stages = flash.get("stages", "geometric")
        if stages != "geometric" and not isinstance(stages, list):
            raise ValueError('stages must be "geometric" or a list of item counts ending with "all"')
        defaults = FlashConfig()
        config = FlashConfig(
            stages=None if stages == "geometric" else tuple(None if s == "all" else _typed(s, int, "stages")
                                                            for s in stages),
            first_stage=_typed(flash.get("first_stage", defaults.first_stage), int, "first_stage"),
            growth=_typed(flash.get("growth", defaults.growth), float, "growth"),
            tier_rule=tier_rule, declared_tiers=declared,
            floor_rule=_floor(flash.get("floor", defaults.floor_rule)),
            order=_typed(flash.get("order", defaults.order), str, "order"),
            estimator=_typed(flash.get("estimator", defaults.estimator), str, "estimator"),
            correction=_typed(flash.get("correction", defaults.correction), str, "correction"),
            spending=_typed(flash.get("spending", defaults.spending), str, "spending"),
            intersect=_typed(flash.get("intersect", defaults.intersect), bool, "intersect"),
            stop_rule=_typed(flash.get("stop_rule", defaults.stop_rule), str, "stop_rule"),
            variance_floor=_typed(flash.get("variance_floor", defaults.variance_floor), bool, "variance_floor"),
            confidence_level=_typed(flash.get("confidence", 0.95), float, "confidence"),
            n_resamples=_typed(flash.get("resamples", 1000), int, "resamples"),
            seed=_typed(flash.get("seed", 0), int, "seed"),
            seeds=_typed(flash.get("seeds", defaults.seeds), int, "seeds"),
            max_replayed=_at_least_one(flash.get("replayed", defaults.max_replayed), "replayed"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise EffbenchError(f"{path}: invalid [flash] settings: {str(error).replace('`', '')}") from None
    site = data.get("site", {})
    for key in ("title", "citation"):
        if not isinstance(site.get(key, ""), str):
            raise EffbenchError(f"{path}: [site] {key} must be a string")
    lower = data.get("ranking", {}).get("lower_is_better", [])
    if not isinstance(lower, list) or not all(isinstance(name, str) for name in lower):
        raise EffbenchError(f"{path}: [ranking] lower_is_better must be a list of scenario names")
    missing = data.get("ranking", {}).get("missing", DEFAULT_MISSING)
    if missing not in MISSING_POLICIES:
        raise EffbenchError(f"{path}: [ranking] missing must be one of {', '.join(MISSING_POLICIES)}, got {missing!r}")
    scenarios = data.get("scenarios", {})
    return Config(title=site.get("title"), flash=config,
                  site=SiteConfig(site.get("title"), site.get("citation"),
                                  {name: value if isinstance(value, str) else value["description"]
                                   for name, value in scenarios.items()
                                   if isinstance(value, str) or "description" in value},
                                  {name: tuple(value["tags"]) for name, value in scenarios.items()
                                   if isinstance(value, dict) and "tags" in value},
                                  {name: value["title"].strip() for name, value in scenarios.items()
                                   if isinstance(value, dict) and value.get("title", "").strip()}),
                  lower_is_better=tuple(lower), missing=missing, boards=boards)


def _boards(path: Path, entries: object) -> tuple[BoardSpec, ...]:
    """Return the `[[boards]]` declared in the settings, each checked: a unique name, scenario patterns, a policy."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise EffbenchError(f"{path}: boards must be declared as [[boards]] tables")
    specs, names = [], set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: [[boards]] number {number}"
        unknown = sorted(set(entry) - _BOARD_KEYS)
        if unknown:
            raise EffbenchError(f"{where}: unknown setting(s) {', '.join(unknown)}; "
                                f"known: {', '.join(sorted(_BOARD_KEYS))}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise EffbenchError(f"{where}: name must be a non-empty string")
        if name in names:
            raise EffbenchError(f"{where}: a board named {name!r} is declared twice")
        names.add(name)
        for key in ("title", "description"):
            if not isinstance(entry.get(key, ""), str):
                raise EffbenchError(f"{where} ({name}): {key} must be a string")
        patterns = entry.get("scenarios")
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
            raise EffbenchError(f"{where} ({name}): scenarios must be a list of scenario names, globs or tags")
        missing = entry.get("missing")
        if missing is not None and missing not in MISSING_POLICIES:
            raise EffbenchError(f"{where} ({name}): missing must be one of {', '.join(MISSING_POLICIES)}, "
                                f"got {missing!r}")
        specs.append(BoardSpec(name.strip(), entry.get("title"), entry.get("description"), tuple(patterns), missing))
    return tuple(specs)


# What TOML gives for each kind of setting: a whole number is no bool, a number may be written without a point.
_KINDS = {bool: ((bool,), "true or false"), int: ((int,), "a whole number"), float: ((int, float), "a number"),
          str: ((str,), "a string")}


def _typed(value: object, kind: type, name: str):
    """Return `value` as `kind`, or raise ValueError naming the setting (``variance_floor = "false"``,
    ``seed = 1.7`` are refused, not read as true and 1)."""
    accepted, words = _KINDS[kind]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, accepted):
        raise ValueError(f"{name} must be {words}, got {value!r}")
    return kind(value)


def _at_least_one(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


def _check_scenario(path: Path, section: str, name: str, value: object) -> None:
    """Refuse a [scenarios] entry that is neither a description nor a table of description and tags."""
    if isinstance(value, str):
        return
    if not isinstance(value, dict):
        raise EffbenchError(f"{path}: [{section}] {name}: a description must be a string")
    unknown = sorted(set(value) - {"description", "tags", "title"})
    if unknown:
        raise EffbenchError(f"{path}: [{section}.{name}] unknown setting(s): {', '.join(unknown)}; "
                            "known: description, tags, title")
    for key in ("description", "title"):
        if not isinstance(value.get(key, ""), str):
            raise EffbenchError(f"{path}: [{section}.{name}] {key} must be a string")
    tags = value.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag.strip() for tag in tags):
        raise EffbenchError(f"{path}: [{section}.{name}] tags must be a list of names")
