"""User-facing errors.

Everything a user can fix (a bad file, a missing column, an impossible
parameter) raises :class:`OmicsInputError`. The CLI prints its message and
exits with code 2; the GUI shows it in a dialog. Any other exception is a bug.
"""

from __future__ import annotations


class OmicsInputError(ValueError):
    """A problem with the user's input, with a message that says what to do."""


class Cancelled(RuntimeError):
    """Raised inside a long run when the user asked it to stop."""
