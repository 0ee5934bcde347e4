"""The shell blocks of README.md and docs/*.md, and how each one is checked.

Every fenced block whose info string starts with bash, sh, shell, console or cron carries a
marker, an HTML comment on the last non-blank line before its opening fence (GitHub does not
render it):

    <!-- tested -->                                     run by tests/test_docs_commands.py
    <!-- tested: background, ready at http://127.0.0.1:5001/ping -->
                                                        a server: started, polled, stopped
    <!-- illustrative: needs sudo and a systemd host --> not run; the reason is required

The convention: docs/architecture.md, "Contributing to the docs".
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console", "cron"})

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^<!--\s*(?P<kind>tested|illustrative)\b\s*(?::\s*(?P<rest>.*?))?\s*-->$")
_READY = re.compile(r"^background,\s*ready at\s+(?P<url>\S+)$")
# A block without a shell info string that still starts with a command: it must say bash.
_LOOKS_LIKE_A_COMMAND = re.compile(
    r"^\s*(\$ |kedro |python3? |pip |mlflow |curl |sudo |export |promtool |systemctl )"
)


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its info string, its text and its marker."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    marker: str | None  # "tested", "illustrative" or None
    reason: str  # an illustrative block's reason, or a tested block's options
    ready_url: str | None = None  # a background block: polled until it answers 200

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(PROJECT_ROOT).as_posix()}:{self.line}"

    @property
    def page(self) -> str:
        return self.path.relative_to(PROJECT_ROOT).as_posix()

    @property
    def is_shell(self) -> bool:
        return self.language in SHELL_LANGUAGES

    def commands(self) -> list[str]:
        """The block's commands, in order: comment-only lines dropped, a command continued
        by a trailing backslash or an open quote kept whole."""
        commands: list[str] = []
        pending: list[str] = []
        for line in self.text.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending.append(line)
            joined = "\n".join(pending)
            if line.rstrip().endswith("\\"):
                continue
            try:
                shlex.split(joined, comments=True)
            except ValueError:  # an open quote: the command goes on
                continue
            commands.append(joined)
            pending = []
        if pending:
            raise ValueError(f"{self.where}: unterminated command {pending[0]!r}")
        return commands


def documentation_pages(root: Path = PROJECT_ROOT) -> list[Path]:
    """README.md and docs/*.md, in a stable order."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown page, with the marker written just above it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence = opening["fence"]
        end = index + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence[0] * len(fence))
            and not lines[end].strip().strip(fence[0])
        ):
            end += 1
        info = opening["info"].strip()
        marker, reason, ready_url = _marker_above(lines, index)
        found.append(
            Block(
                path=path,
                line=index + 1,
                language=info.split()[0].lower() if info else "",
                text="\n".join(lines[index + 1 : end]),
                marker=marker,
                reason=reason,
                ready_url=ready_url,
            )
        )
        index = end + 1
    return found


def _marker_above(lines: list[str], fence_index: int) -> tuple[str | None, str, str | None]:
    above = fence_index - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    if above < 0:
        return None, "", None
    match = _MARKER.match(lines[above].strip())
    if not match:
        return None, "", None
    rest = (match["rest"] or "").strip()
    ready = _READY.match(rest) if match["kind"] == "tested" else None
    return match["kind"], rest, ready["url"] if ready else None


def shell_blocks(root: Path = PROJECT_ROOT) -> list[Block]:
    """The shell blocks of every documentation page, page by page, top to bottom."""
    return [block for page in documentation_pages(root) for block in blocks(page) if block.is_shell]


def unlabelled_command_blocks(root: Path = PROJECT_ROOT) -> list[Block]:
    """Blocks without an info string whose first line is a command (```text says that a
    diagram or a listing starting with one is meant)."""
    return [
        block
        for page in documentation_pages(root)
        for block in blocks(page)
        if not block.is_shell
        and block.language == ""
        and block.text.strip()
        and _LOOKS_LIKE_A_COMMAND.match(block.text.strip().splitlines()[0])
    ]
