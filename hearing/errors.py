"""Refusals of `hearing/`: the one error type of control, named for where they come from."""

from __future__ import annotations

from control.errors import ApiError


class HearingError(ApiError):
    """A request the court's rules refuse; `status` is the HTTP code the API answers with."""
