"""Site paths: every internal link is relative and comes from `relative_url`."""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

# Longest slug: file systems allow 255 bytes per name; a page is `<slug>.html` or `<slug>.parquet`.
# Longer slugs are cut and end with a hash of the whole name.
MAX_SLUG_LENGTH = 80
# Names Windows reserves for devices, whatever the extension; a slug equal to one gets a trailing `-`.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})


@functools.lru_cache(maxsize=1 << 16)  # a site of thousands of pages asks for the same links again and again
def relative_url(from_page: str, to_path: str) -> str:
    """Return the link from the page at site path `from_page` to the site path `to_path`.

    Site paths are POSIX paths relative to the site's root (``models/x.html``); the result works
    under any prefix (``https://user.github.io/repo/``) and from ``file://``. A trailing ``#anchor``
    on `to_path` is kept.
    """
    target, _, anchor = to_path.partition("#")
    for path in (from_page, target):
        if path.startswith("/") or ".." in path.split("/"):
            raise ValueError(f"site paths are relative and stay inside the site, got {path!r}")
    link = _relative_path(target or from_page, posixpath.dirname(from_page))
    return f"{link}#{anchor}" if anchor else link


def _relative_path(path: str, start: str) -> str:
    """Return ``posixpath.relpath(path, start or ".")`` for site paths (relative, without ".."), by splitting
    the two paths alone: relpath makes both absolute first, asking the system for the working folder
    twice per link, which a site of thousands of pages paid for hundreds of thousands of times."""
    if not path:
        raise ValueError("no path specified")
    start_parts = [part for part in start.split("/") if part not in ("", ".")]
    path_parts = [part for part in path.split("/") if part not in ("", ".")]
    common = 0
    for mine, theirs in zip(start_parts, path_parts, strict=False):
        if mine != theirs:
            break
        common += 1
    parts = [".."] * (len(start_parts) - common) + path_parts[common:]
    return "/".join(parts) if parts else "."


def slugify(name: str) -> str:
    """Return a file-name-safe, lowercase ASCII form of `name` (``GPT-4o (2024-05-13)`` -> ``gpt-4o-2024-05-13``);
    a name without Latin letters or digits becomes its hash (``文心一言`` -> ``u-`` and ten hex digits)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9._]+", "-", ascii_name.lower()).strip("-.")
    if not slug:
        return f"u-{_name_hash(name, 10)}"
    if len(slug) > MAX_SLUG_LENGTH:
        slug = slug[: MAX_SLUG_LENGTH - 9].rstrip("-.") + "-" + _name_hash(name, 8)
    if slug.split(".")[0] in _RESERVED:
        slug += "-"
    return slug


def _name_hash(name: str, length: int) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """Return a slug for each name that depends on the name alone, wherever it can: `slugify(name)`, and
    where two names give the same one (``Yi-6B``, ``yi-6b``), each of them that slug with a hash of the
    name (``yi-6b-1a2b3c``). So adding or removing a model never gives another model's page its link;
    a page's link changes only when a name that differs from its own by case or punctuation alone
    arrives (the load warns about such names)."""
    unique = sorted(set(names))
    bases = {name: slugify(name) for name in unique}
    shared = {base for base, count in Counter(bases.values()).items() if count > 1}
    slugs: dict[str, str] = {}
    taken: set[str] = set(bases.values()) - shared
    for name in unique:
        slug = bases[name]
        length = 6
        while slug in shared or slug in taken and slug != bases[name]:
            slug = f"{bases[name][: MAX_SLUG_LENGTH - length - 1].rstrip('-.')}-{_name_hash(name, length)}"
            length += 2  # two names whose hashes begin alike: a longer hash tells them apart
        taken.add(slug)
        slugs[name] = slug
    return slugs
