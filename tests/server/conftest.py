"""Fixtures of the web-service tests (defined in ``server_helpers``)."""

from server_helpers import service  # noqa: F401
