"""`effbench.toml`: the project's settings, read from the current folder when it exists.

    [site]
    title = "My benchmark"

    [flash]
    stages = [10, 20, 50, 200, 1000, "all"]
    order = "informed"          # or "random"
    correction = "bonferroni"   # or "none"
    confidence = 0.95
    resamples = 1000
    seed = 0

    [[flash.tiers]]             # rank resolution by tier; the last tier has no "last"
    first = 1
    last = 1
    resolution = 0
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from effbench.errors import EffbenchError
from effbench.flash import FlashConfig
from effbench.tiers import DEFAULT_TIERS, Tier

CONFIG_FILE = "effbench.toml"
_SECTIONS = {"site": {"title"}, "flash": {"stages", "order", "correction", "confidence", "resamples", "seed", "tiers"}}


@dataclass(frozen=True)
class Config:
    title: str | None = None
    flash: FlashConfig = field(default_factory=FlashConfig)


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
    for section, values in data.items():
        if section not in _SECTIONS or not isinstance(values, dict):
            raise EffbenchError(f"{path}: unknown section [{section}]; known: {', '.join(sorted(_SECTIONS))}")
        unknown = sorted(set(values) - _SECTIONS[section])
        if unknown:
            raise EffbenchError(f"{path}: unknown setting(s) in [{section}]: {', '.join(unknown)}")
    flash = data.get("flash", {})
    try:
        tiers = tuple(Tier(int(t["first"]), None if t.get("last") is None else int(t["last"]), int(t["resolution"]))
                      for t in flash["tiers"]) if "tiers" in flash else DEFAULT_TIERS
        stages = tuple(None if s == "all" else int(s) for s in flash.get("stages", [10, 20, 50, 200, 1000, "all"]))
        config = FlashConfig(
            stages=stages, tiers=tiers, order=flash.get("order", "informed"),
            correction=flash.get("correction", "bonferroni"),
            confidence_level=float(flash.get("confidence", 0.95)), n_resamples=int(flash.get("resamples", 1000)),
            seed=int(flash.get("seed", 0)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise EffbenchError(f"{path}: invalid [flash] settings: {str(error).replace('`', '')}") from None
    return Config(title=data.get("site", {}).get("title"), flash=config)
