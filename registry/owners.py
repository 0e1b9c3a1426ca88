"""Who may add versions to a dataset: the team of its first publisher, recorded in the registry.

Without this, any publisher could add a version to another group's dataset, and that version
became its `latest` (issue 10, item 4). Now `datasets/<name>/_owners.json` records the owning
teams:

    {"teams": ["synapses"], "allow": [], "claimed_by": "ada@host", "claimed_at": "..."}

* The first publish of a name creates it with an exclusive create (the same conditional write
  that makes exactly one of concurrent publishers of a version succeed), *before* the version's
  manifest and document: of two teams racing to publish a new name, exactly one owns it, and the
  other is refused before it writes anything.
* A dataset published before owners existed is claimed, on its next publish, for the teams of its
  oldest readable version's `owners[].team`.
* Later versions need a publisher team in `teams` or `allow`. Owners widen the set by editing
  `allow` (or `teams`) in the file; an owners file with no teams (the first publisher named none)
  leaves the dataset open to every publisher, and publish says so.

**Identity and its limits.** The publisher's team is `--team` / `$FEATURE_REGISTRY_TEAM` when set,
else the `owners[].team` values of the spec. Neither is authenticated: this guards against
mistakes and against publishers who go through `publish`, not against someone who can write the
bucket directly (they can also rewrite this file). What makes it hold is the lab's bucket IAM:
write access to `datasets/<name>/` only for the people of that dataset's team (docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from typing import Optional

from .errors import BadInput
from .storage import AlreadyExists

OWNERS_FILE = "_owners.json"
TEAM_ENV = "FEATURE_REGISTRY_TEAM"
MAX_OWNERS_BYTES = 64 * 1024


class NotOwner(BadInput):
    """The publisher's team does not own the dataset (exit 2, nothing written)."""


@dataclass
class Owners:
    teams: list[str]
    allow: list[str] = field(default_factory=list)
    claimed_by: str = ""
    claimed_at: str = ""

    def admits(self, teams: set[str]) -> bool:
        if not self.teams:
            return True
        return bool(teams & (set(self.teams) | set(self.allow)))

    def to_bytes(self) -> bytes:
        return (json.dumps({"teams": self.teams, "allow": self.allow, "claimed_by": self.claimed_by,
                            "claimed_at": self.claimed_at}, indent=2) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> "Owners":
        """Parse an owners file; a broken one admits nobody (fail closed) and says why."""
        try:
            if len(data) > MAX_OWNERS_BYTES:
                raise ValueError("too large")
            raw = json.loads(data.decode("utf-8"))
            teams, allow = raw["teams"], raw.get("allow", [])
            if not (isinstance(teams, list) and isinstance(allow, list)
                    and all(isinstance(t, str) for t in teams + allow)):
                raise ValueError("teams and allow must be lists of strings")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as exc:
            raise NotOwner(f"{source} cannot be read ({exc}); nobody may publish to this dataset until an "
                           "owner repairs it") from None
        return cls(teams=teams, allow=allow, claimed_by=str(raw.get("claimed_by", "")),
                   claimed_at=str(raw.get("claimed_at", "")))


def owners_path(name: str) -> str:
    return f"datasets/{name}/{OWNERS_FILE}"


def publisher_teams(spec, team: Optional[str] = None) -> set[str]:
    """The publisher's identity: `team` (flag), else $FEATURE_REGISTRY_TEAM, else the spec's teams."""
    explicit = team or os.environ.get(TEAM_ENV)
    if explicit:
        return {explicit.strip()}
    return {o.team.strip() for o in spec.owners if o.team and o.team.strip()}


def read_owners(registry, name: str) -> Optional[Owners]:
    path = owners_path(name)
    try:
        data = registry.store.read_bytes(path, limit=MAX_OWNERS_BYTES + 1)
    except FileNotFoundError:
        return None
    return Owners.from_bytes(data, registry.store.url(path))


def check_owner(registry, spec, teams: set[str], *, user: str, claim: bool) -> tuple[Owners, list[str]]:
    """The dataset's owners, claimed for `teams` when nobody has yet (with `claim`); raises
    NotOwner when `teams` may not publish to it. Returns (owners, warnings)."""
    owners = read_owners(registry, spec.name)
    if owners is None:
        earlier = registry.versions(spec.name)
        first = sorted({o.team for o in earlier[0].owners if o.team}) if earlier else sorted(teams)
        owners = Owners(teams=first, claimed_by=user,
                        claimed_at=dt.datetime.now(dt.timezone.utc).isoformat())
        if claim:
            try:
                registry.store.create(owners_path(spec.name), owners.to_bytes())
            except AlreadyExists:  # another publisher claimed it a moment ago: theirs stands
                owners = read_owners(registry, spec.name) or owners
    warnings = []
    if not owners.teams:
        warnings.append(f"{spec.name} has no owning team, so any publisher may add versions to it; name a "
                        f"team in owners[].team (or --team) and record it in {owners_path(spec.name)}")
    if not owners.admits(teams):
        mine = ", ".join(sorted(teams)) or "no team (set owners[].team, --team or $FEATURE_REGISTRY_TEAM)"
        raise NotOwner(
            f"{spec.name} is owned by team(s) {', '.join(owners.teams)} ({registry.store.url(owners_path(spec.name))}); "
            f"you publish as {mine}. Ask an owner to add your team to 'allow' in that file, or choose another name.")
    return owners, warnings
