"""Roles, ordered: each role may do everything the roles before it may."""

from __future__ import annotations

from dataclasses import dataclass

from app.curation.models import ROLES

RANK = {r: i for i, r in enumerate(ROLES)}


def at_least(role: str, needed: str) -> bool:
    return RANK.get(role, -1) >= RANK[needed]


@dataclass(frozen=True)
class Actor:
    """Who does something: the API key's name and role (the CLI acts as ``cli:<user>`` with admin rights)."""

    name: str
    role: str
    key_id: int | None = None

    @property
    def anonymous(self) -> bool:
        return self.key_id is None and self.name == "anonymous"


ANONYMOUS = Actor("anonymous", "reader")


def cli_actor(name: str | None = None) -> Actor:
    import getpass

    return Actor(name or f"cli:{getpass.getuser()}", "admin")
