"""The operator's binding of locations to CAVE permissions: authorization that no document can lower.

A document's `access` (and its `datastack`) is written by the publisher, so on its own it lets any
publisher re-expose another group's table under a permission everyone holds. The signer's own
configuration therefore says which CAVE dataset/permission a location needs:

    LOCATION_PERMISSIONS='{"gs://lab-tables/minnie65": {"dataset": "minnie65_phase3", "permission": "view"},
                           "s3://lab-exports/flywire": {"dataset": "flywire_fafb", "permission": "view"}}'

(or the same JSON in a file named by `LOCATION_PERMISSIONS_FILE`). For every request, every rule
whose prefix contains the table's canonical location must be satisfied, *and* the document's own
`access`. When any rule is configured, a location no rule covers is refused
(`location_not_allowed`): forgetting a prefix fails closed. Prefixes follow the location grammar
(`locations.py`) and match on whole segments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .locations import LocationPrefix, TableLocation, configured_prefix
from .errors import SignerError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class ConfigurationError(ValueError):
    """The signer's configuration is unusable: it then signs nothing (fail closed)."""


@dataclass(frozen=True)
class LocationRule:
    prefix: LocationPrefix
    dataset: str
    permission: str


def parse_rules(raw: Any, source: str = "LOCATION_PERMISSIONS") -> tuple[LocationRule, ...]:
    """Rules from a JSON object (or its text): `{prefix: {"dataset": D, "permission": P}}`,
    `permission` defaulting to `view`. Anything else raises ConfigurationError naming the entry."""
    if raw in (None, "", {}):
        return ()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{source} is not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f'{source} must be a JSON object {{"PREFIX": {{"dataset": D, "permission": P}}}}')
    rules = []
    for prefix, rule in raw.items():
        where = f"{source}[{prefix!r}]"
        if not isinstance(rule, dict) or set(rule) - {"dataset", "permission"}:
            raise ConfigurationError(f'{where} must be {{"dataset": D, "permission": P}}')
        dataset, permission = rule.get("dataset"), rule.get("permission", "view")
        if not isinstance(dataset, str) or not _NAME.fullmatch(dataset):
            raise ConfigurationError(f"{where}.dataset must be a CAVE dataset name")
        if not isinstance(permission, str) or not _NAME.fullmatch(permission):
            raise ConfigurationError(f"{where}.permission must be a permission name such as 'view'")
        try:
            parsed = configured_prefix(prefix)
        except SignerError as exc:
            raise ConfigurationError(f"{where}: {exc.message}") from None
        rules.append(LocationRule(parsed, dataset, permission))
    return tuple(rules)


def load_rules(raw: Any, path: str) -> tuple[LocationRule, ...]:
    rules = parse_rules(raw)
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise ConfigurationError(f"LOCATION_PERMISSIONS_FILE cannot be read ({type(exc).__name__})") from None
        rules += parse_rules(text, "LOCATION_PERMISSIONS_FILE")
    return rules


def rules_for(location: TableLocation, rules: tuple[LocationRule, ...]) -> list[LocationRule]:
    return [r for r in rules if r.prefix.contains(location)]


def parse_allowed(prefixes: tuple[str, ...]) -> tuple[LocationPrefix, ...]:
    out = []
    for p in prefixes:
        try:
            out.append(configured_prefix(p))
        except SignerError as exc:
            raise ConfigurationError(f"ALLOWED_LOCATIONS entry {p!r}: {exc.message}") from None
    return tuple(out)
