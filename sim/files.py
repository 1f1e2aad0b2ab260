"""One guarded way to read the project's input files, and to quote values in messages.

Every scenario and study file goes through ``read_toml``: whatever is wrong with the file (a
folder, a name the system refuses, bytes that are not UTF-8 text, a byte-order mark, TOML the
parser cannot take, numbers with thousands of digits, nesting too deep), the caller's own error
type comes back with the file's name and what is wrong, never an ``OSError``,
``UnicodeDecodeError`` or parser crash.
"""

from __future__ import annotations

import errno
import tomllib
from pathlib import Path

BOM = b"\xef\xbb\xbf"


def short(value, limit: int = 60) -> str:
    """``repr(value)``, cut to about ``limit`` characters (messages stay one or two lines)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        return f"<a number of more than {4300} digits>"
    if len(text) <= limit:
        return text
    return f"{text[: limit - 10]}… ({len(text):,} characters)"


def cut(text: str, limit: int = 120) -> str:
    """``text`` itself (no quotes), cut to about ``limit`` characters."""
    return text if len(text) <= limit else f"{text[: limit - 10]}… ({len(text):,} characters)"


def exists(path: Path) -> bool:
    """``path.exists()``, False instead of an error for names the system refuses (too long)."""
    try:
        return path.exists()
    except OSError:
        return False


def read_toml(path: Path, error: type[Exception], what: str = "file") -> tuple[dict, str]:
    """The parsed TOML of ``path`` and its text, or ``error`` naming the file and the problem."""
    name = cut(str(path))
    try:
        if path.is_dir():
            raise error(f"{name}: is a folder, not a {what}")
        raw = path.read_bytes()
    except OSError as err:
        if err.errno == errno.ENOENT:
            raise error(f"{what} {name} does not exist") from None
        reason = err.strerror or type(err).__name__
        raise error(f"{name}: cannot read this {what} ({reason})") from None
    if raw.startswith(BOM):  # written by an editor that marks UTF-8: harmless, drop it
        raw = raw[len(BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{name}: is not UTF-8 text (byte {err.start} cannot be read); save the {what} "
                    "as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(f"{name}: not valid TOML: {err}") from None
    except (ValueError, RecursionError, MemoryError) as err:  # huge numbers, deep nesting
        raise error(f"{name}: not valid TOML here ({short(str(err), 80)})") from None
    return data, text
