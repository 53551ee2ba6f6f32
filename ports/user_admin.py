"""Port: changing who is registered and which stores they see (the operator's side)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.directory import AccessChange, DirectorySnapshot

ACCESS_CHANGED_CHANNEL = "zava_access_changed"


class UserAdministration(Protocol):
    def snapshot(self) -> DirectorySnapshot:
        """Every registered user with their granted stores, and every store."""
        ...

    def apply(
        self, plan: Callable[[DirectorySnapshot], AccessChange], operator: str
    ) -> AccessChange:
        """Plan against the current directory and apply the plan, with its audit record, in
        one transaction (nothing is changed when `plan` raises). Serving processes are told,
        so none of their caches serves the old access afterwards."""
        ...
