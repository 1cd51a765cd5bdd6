"""The dashboard's own refusals: bad input answered with a readable page, 400 or 404."""

from __future__ import annotations


class PageError(Exception):
    """A request the dashboard cannot answer: an unknown id (404), a bad filter or token (400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(message: str) -> PageError:
    return PageError(404, message)


def bad_request(message: str) -> PageError:
    return PageError(400, message)
