"""The one exception type that reaches users, and how anything is printed to them."""

import errno
import re

# C0 and C1 control characters (ESC, BEL, CR, CSI ...): printed, they would move the cursor, clear the
# screen or set the window title; a file name or model name may hold any of them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Return `text` with every control character escaped as Python writes it (``\\x1b``, ``\\n``), so that
    a path or a name prints as inert text on one line."""
    return _CONTROL_CHARACTERS.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class EffbenchError(Exception):
    """A problem with the user's input or setup, worded as the one line the CLI prints.

    Raised before anything is written, or from inside a transaction that is then rolled back,
    so the database is left as it was.
    """


def is_disk_full(error: BaseException) -> bool:
    """Return whether `error` says the disk (or the user's quota) is full, as an OSError or as the
    text of a DuckDB error, which wraps the operating system's message."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(error)
    return "No space left on device" in text or "Disk quota exceeded" in text
