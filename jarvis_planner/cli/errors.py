from __future__ import annotations


class CliError(Exception):
    """A failure to show as one line, with a hint saying what to do."""

    def __init__(self, message: str, hint: str | None = None, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
