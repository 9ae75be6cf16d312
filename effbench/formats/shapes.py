"""The shapes harness files are read through: JSON parsed with every way it can fail named, and fields
taken with their declared type checked as they are read.

A harness file of the wrong shape (a count that is a string, a list where an object belongs, a null
where a value is needed, an integer no float holds, text that is not UTF-8, JSON nested deeper than
Python's parser recurses) must end in one `EffbenchError` naming the file, the entry and the field,
never in a TypeError far from where the value was read. Adapters say where they are (``f"{path}:
entry 12"``) and what they expect (`TEXT`, `NUMBER`, ...); these helpers say what was found instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from effbench.errors import EffbenchError

# int64's range: whole numbers (trial indexes, epochs) are stored in such columns.
_LARGEST_WHOLE = 2**63 - 1

# What one file may make a reader hold. Detection reads at most PROBE_BYTES of a file's first line; a JSON
# file read whole may be at most MAX_JSON_BYTES (parsed, it takes several times that), and a line of a
# JSON-lines file at most MAX_LINE_BYTES. Larger ones are refused in one line, not read until memory
# runs out: split them, or write JSON lines (streamed a line at a time).
PROBE_BYTES = 16 << 20
MAX_JSON_BYTES = 1 << 30
MAX_LINE_BYTES = 256 << 20


class _Required:
    """Marks a field without a default: its absence is an error."""


REQUIRED = _Required()


@dataclass(frozen=True)
class Kind:
    """A type a field may be declared with: its name in messages, and the test a value must pass."""

    description: str
    accepts: Callable[[object], bool]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


TEXT = Kind("a string", lambda value: isinstance(value, str))
NUMBER = Kind("a number", _is_number)
WHOLE = Kind("a whole number", lambda value: isinstance(value, int) and not isinstance(value, bool))
BOOL = Kind("true/false", lambda value: isinstance(value, bool))
LIST = Kind("a list", lambda value: isinstance(value, list))
OBJECT = Kind("an object", lambda value: isinstance(value, dict))
# An identifier or a name: harnesses write ids as strings or numbers, never as lists or objects.
SCALAR = Kind("a string or a number", lambda value: isinstance(value, str) or _is_number(value))


def describe(value: object) -> str:
    """Return what `value` is, as a message names it: "null", "a string", "a list", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int) and not _fits_a_float(value):
        return "an integer too large for a float"
    if isinstance(value, str):  # the text itself tells the user which value is meant
        return f"a string ({value if len(value) <= 40 else value[:40] + '...'!r})"
    for kind in (NUMBER, TEXT, LIST, OBJECT):
        if kind.accepts(value):
            return kind.description
    return type(value).__name__


def _fits_a_float(value: int) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


def field(entry: Mapping, name: str, kind: Kind, where: str, *, default: object = REQUIRED,
          nullable: bool = False) -> object:
    """Return ``entry[name]`` if it is of `kind`, else a one-line error naming `where` and the field.

    An absent field gives `default` (an error when there is none); a null gives `default` too when
    `nullable`, else it is an error, since a null is a value the file wrote where it needed one.
    Numbers are checked to fit a float, whole numbers an int64.
    """
    if name not in entry:
        if default is REQUIRED:
            raise EffbenchError(f"{where}: no field {name!r}")
        return default
    value = entry[name]
    if value is None and nullable:
        return None if default is REQUIRED else default
    if not kind.accepts(value):
        raise EffbenchError(f"{where}: field {name!r} is {describe(value)}, expected {kind.description}")
    if isinstance(value, int) and not isinstance(value, bool) and (
            not _fits_a_float(value) or kind is WHOLE and abs(value) > _LARGEST_WHOLE):
        raise EffbenchError(f"{where}: field {name!r} is an integer too large to hold")
    return value


def loose(entry: Mapping, name: str, where: str) -> object:
    """Return ``entry.get(name)``, refusing only an integer no float holds, in it or in the lists and
    objects it holds: for a field whose values the adapter sorts itself (a metric's per-sample value:
    a number, one per replica, or texts for a corpus-level metric)."""
    value = entry.get(name)
    pending = [value]
    while pending:  # a loop, not recursion: the value may nest as deep as the parser allowed
        current = pending.pop()
        if isinstance(current, int) and not isinstance(current, bool) and not _fits_a_float(current):
            raise EffbenchError(f"{where}: field {name!r} holds {describe(current)}")
        if isinstance(current, list):
            pending.extend(current)
        elif isinstance(current, dict):
            pending.extend(current.values())
    return value


def number(entry: Mapping, name: str, where: str, *, default: object = REQUIRED, nullable: bool = False
           ) -> float | object:
    """Return the field `name` as a float (see `field`); `default` as given when it is absent."""
    value = field(entry, name, NUMBER, where, default=default, nullable=nullable)
    return float(value) if _is_number(value) else value


def entry(value: object, where: str) -> dict:
    """Return `value` if it is a JSON object, else a one-line error saying what `where` is instead."""
    if not isinstance(value, dict):
        raise EffbenchError(f"{where}: is {describe(value)}, expected an object")
    return value


def element(value: object, kind: Kind, where: str) -> object:
    """Return `value`, an element of a list, if it is of `kind`, else a one-line error naming `where`."""
    if not kind.accepts(value) or isinstance(value, int) and not isinstance(value, bool) and not _fits_a_float(value):
        raise EffbenchError(f"{where}: is {describe(value)}, expected {kind.description}")
    return value


# --- JSON -----------------------------------------------------------------------------------------

def parse_json(text: str, where: str) -> object:
    """Return the JSON value in `text`, or a one-line error naming `where` and what is wrong with it."""
    try:
        return json.loads(text)
    except RecursionError:
        raise EffbenchError(f"{where}: JSON nested too deeply to read") from None
    except json.JSONDecodeError as error:
        at = f"line {error.lineno} column {error.colno}" if "\n" in text.rstrip() else f"column {error.colno}"
        raise EffbenchError(f"{where}: not valid JSON ({error.msg}, {at})") from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise EffbenchError(f"{where}: not valid JSON ({error})") from None


def decode(data: bytes, where: str) -> str:
    """Return `data` as UTF-8 text, or a one-line error naming `where` and the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EffbenchError(f"{where}: not UTF-8 text (byte {error.start} is 0x{data[error.start]:02x})") from None


def load_json(path: Path) -> object:
    """Return the JSON value in the file `path`, or a one-line error naming it."""
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise EffbenchError(f"{path}: {_size_text(size)} of JSON to read whole, more than effbench reads at "
                                f"once ({_size_text(MAX_JSON_BYTES)}); split it, or write it as JSON lines")
        data = path.read_bytes()
    except OSError as error:
        raise EffbenchError(f"{path}: cannot be read ({error.strerror or error})") from None
    return parse_json(decode(data, str(path)), str(path))


def _size_text(size: int) -> str:
    return f"{size / (1 << 30):.1f} GiB" if size >= 1 << 30 else f"{size / (1 << 20):.1f} MiB"


def first_line(handle) -> bytes | str:
    """Return the first line of an open file for detection, at most PROBE_BYTES of it."""
    return handle.readline(PROBE_BYTES)


def json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """Yield (line number, value) for each non-blank line of a JSON-lines file, streamed; a line that is not
    UTF-8 or not JSON is a one-line error naming the file and the line."""
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), start=1):
                where = f"{path}: line {number}"
                if len(raw) > MAX_LINE_BYTES:
                    raise EffbenchError(f"{where}: longer than effbench reads as one line "
                                        f"({_size_text(MAX_LINE_BYTES)}); is this JSON lines?")
                line = decode(raw, where)
                if line.strip():
                    yield number, parse_json(line, where)
    except OSError as error:
        raise EffbenchError(f"{path}: cannot be read ({error.strerror or error})") from None


def probe_json(text: str | bytes) -> object:
    """Return the JSON value in `text`, or None when it is not JSON a reader could take: what detection
    uses, which looks and never fails."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


_BLANK = " \t\r\n"


def iter_json_array(path: Path, chunk_size: int = 1 << 20) -> Iterator[object]:
    """Yield the elements of the JSON list in `path` one at a time, holding about one chunk in memory; an
    element that is not JSON, nests too deeply or holds text that is not UTF-8 is a one-line error."""
    decoder = json.JSONDecoder()
    count = 0
    try:
        with open(path, encoding="utf-8") as handle:
            buffer, position, at_end, opened = "", 0, False, False
            while True:
                while position < len(buffer) and (buffer[position] in _BLANK or opened and buffer[position] == ","):
                    position += 1
                if position >= len(buffer):
                    if at_end:
                        raise EffbenchError(f"{path}: not valid JSON (the list is not closed)")
                    chunk = handle.read(chunk_size)
                    buffer, position, at_end = buffer[position:] + chunk, 0, not chunk
                    continue
                if not opened:
                    if buffer[position] != "[":
                        raise EffbenchError(f"{path}: not a JSON list")
                    opened, position = True, position + 1
                    continue
                if buffer[position] == "]":
                    return
                try:
                    element, end = decoder.raw_decode(buffer, position)
                except json.JSONDecodeError as error:
                    if at_end:
                        raise EffbenchError(f"{path}: entry {count}: not valid JSON ({error.msg})") from None
                    chunk = handle.read(chunk_size)
                    buffer, position, at_end = buffer[position:] + chunk, 0, not chunk
                    continue
                except RecursionError:
                    raise EffbenchError(f"{path}: entry {count}: JSON nested too deeply to read") from None
                except ValueError as error:  # an integer of more digits than Python converts
                    raise EffbenchError(f"{path}: entry {count}: not valid JSON ({error})") from None
                if end == len(buffer) and not at_end:  # a number cut at the chunk's end: read on
                    chunk = handle.read(chunk_size)
                    buffer, position, at_end = buffer[position:] + chunk, 0, not chunk
                    continue
                yield element
                count += 1
                position = end
    except UnicodeDecodeError as error:
        raise EffbenchError(f"{path}: not UTF-8 text (after entry {count}: {error.reason})") from None
    except OSError as error:
        raise EffbenchError(f"{path}: cannot be read ({error.strerror or error})") from None
