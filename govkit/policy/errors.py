"""Policy errors: every problem names the file, line and column, and suggests a fix.

A policy is written by hand, so the most useful thing an error can do is point at the exact
character and guess what was meant (``did you mean "hash"?``). :class:`PolicyError` carries
every :class:`Problem` found; its message is the first one (in file order), which is the one
line the CLI prints, while ``govkit policy validate`` lists them all.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from govkit.errors import ConfigError


@dataclass(frozen=True, slots=True, order=True)
class Mark:
    """A position in a policy file, 1-based like editors show it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @property
    def short(self) -> str:
        """``file:line``: enough to cite a rule in a report."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy: what, where, and (maybe) what was meant."""

    message: str
    mark: Mark | None = None
    suggestion: str | None = None

    def __str__(self) -> str:
        text = self.message
        if self.mark is not None:
            text += f" at {self.mark}"
        if self.suggestion is not None:
            text += f'; did you mean "{self.suggestion}"?'
        return one_line(text)

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.mark is None:
            return ("", 0, 0, self.message)
        return (self.mark.file, self.mark.line, self.mark.column, self.message)


#: What ``str.splitlines`` breaks at, shown escaped: a key written ``"a\nb"`` in a policy is
#: quoted in the message, and the message must stay one line.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(text: str) -> str:
    """``text`` with line breaks escaped (``\\n``), so that it prints as one line."""
    return text.translate(_LINE_BREAKS)


class PolicyError(ConfigError):
    """A policy file (or the set of files) is invalid; nothing of it was loaded."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("PolicyError needs at least one problem")
        self.problems = sorted(problems, key=Problem.sort_key)
        first = str(self.problems[0])
        more = len(self.problems) - 1
        super().__init__(first if not more else f"{first} (and {more} more problem{'s' if more > 1 else ''})")

    @classmethod
    def one(cls, message: str, mark: Mark | None = None, suggestion: str | None = None) -> PolicyError:
        return cls([Problem(message, mark, suggestion)])


def close_match(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice ``word`` was most likely meant to be, if any is close enough.

    Case is ignored for the comparison (``email_address`` finds ``EMAIL_ADDRESS``) but the
    choice is returned as spelled, since that is what the user has to write.
    """
    options = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(word.lower(), list(options), n=1, cutoff=cutoff)
    return options[found[0]] if found else None
