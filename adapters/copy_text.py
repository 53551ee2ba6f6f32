"""PostgreSQL's COPY text format, in one place: the demo generator (adapters/demodata) and the
CSV import (adapters/csvimport) both stream their rows to COPY as these lines, in chunks.

Standard library only: the demo generator is part of the library, which needs no third-party
package (pyproject's import contracts)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

# lines per chunk handed to COPY: large enough that a chunk costs one write, small enough
# that a table of millions of rows is never held in memory
CHUNK_LINES = 8_192


def copy_escape(text: str) -> str:
    """COPY text format escaping for a text value."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


def copy_unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    chars = iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def copy_line(values: Sequence[object]) -> str:
    """One COPY line (str escaped, bool as t/f, None as \\N, anything else as str())."""
    parts: list[str] = []
    for v in values:
        if v is None:
            parts.append(r"\N")
        elif isinstance(v, bool):
            parts.append("t" if v else "f")
        elif isinstance(v, str):
            parts.append(copy_escape(v))
        else:
            parts.append(str(v))
    return "\t".join(parts) + "\n"


def money(cents: int) -> str:
    """Integer cents as numeric text: 1234 -> '12.34'."""
    units, rest = divmod(cents, 100)
    return f"{units}.{rest:02d}"


def chunked(lines: Iterator[str]) -> Iterator[str]:
    """COPY lines joined CHUNK_LINES at a time."""
    buf: list[str] = []
    for line in lines:
        buf.append(line)
        if len(buf) >= CHUNK_LINES:
            yield "".join(buf)
            buf = []
    if buf:
        yield "".join(buf)
