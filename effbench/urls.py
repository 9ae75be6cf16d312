"""Site paths: every internal link is relative and comes from `relative_url`."""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from collections.abc import Iterable

# Longest slug: file systems allow 255 bytes per name; a page is `<slug>.html` or `<slug>.parquet`, and
# `unique_slugs` may add `-N`. Longer slugs are cut and end with a hash of the whole name.
MAX_SLUG_LENGTH = 80
# Names Windows reserves for devices, whatever the extension; a slug equal to one gets a trailing `-`.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})


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
    base = posixpath.dirname(from_page) or "."
    link = posixpath.relpath(target or from_page, base)
    return f"{link}#{anchor}" if anchor else link


def slugify(name: str) -> str:
    """Return a file-name-safe, lowercase ASCII form of `name` (``GPT-4o (2024-05-13)`` -> ``gpt-4o-2024-05-13``)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9._]+", "-", ascii_name.lower()).strip("-.") or "item"
    if len(slug) > MAX_SLUG_LENGTH:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        slug = slug[: MAX_SLUG_LENGTH - 9].rstrip("-.") + "-" + digest
    if slug.split(".")[0] in _RESERVED:
        slug += "-"
    return slug


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """Return a slug for each name, distinct even where slugify gives two names the same one
    (suffixes ``-2``, ``-3`` in sorted order of the names, so the result does not depend on input order)."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(set(names)):
        base = slugify(name)
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        slugs[name] = slug
    return slugs
