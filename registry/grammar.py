"""The strict grammar `publish` holds new specs to, for every value that becomes a path or a page.

Names, versions, datastacks, tags and owners end up in object keys
(`datasets/<name>/<version>.json`), file names of the site and URLs. The model's patterns keep
out `/` and `..`; this adds what only bites later, when it is too late to refuse:

* length: a 250-character name publishes fine but no filesystem holds its page file;
* `.files` at the end of a version: `datasets/x/1.files.json` is version 1's file manifest;
* the reserved page name `index`: a dataset, tag, owner or datastack called so would take the
  place of its section's index page;
* control characters and surrounding spaces in free-text labels.

Documents already in a bucket are not held to this (older versions wrote them, or a hand did):
readers skip what the model refuses and the site encodes every path (`site_builder.paths`).
"""

from __future__ import annotations

import re
from typing import Any

MAX_NAME = 64
MAX_VERSION = 64
MAX_LABEL = 100
RESERVED = frozenset({"index"})
MANIFEST_MARK = ".files"
DATASTACK_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _label(path: str, value: str, problems: list[tuple[str, str]]) -> None:
    if len(value) > MAX_LABEL:
        problems.append((path, f"is {len(value)} characters; at most {MAX_LABEL}"))
    if _CONTROL.search(value):
        problems.append((path, "contains a control character or line break"))
    if value.strip().lower() in RESERVED:
        problems.append((path, f"{value!r} is reserved (the site's section index page)"))


def publish_problems(spec: Any) -> list[tuple[str, str]]:
    """(field path, message) for everything in a valid `DatasetSpec` that publish refuses."""
    problems: list[tuple[str, str]] = []
    if len(spec.name) > MAX_NAME:
        problems.append(("name", f"is {len(spec.name)} characters; at most {MAX_NAME}"))
    if spec.name in RESERVED:
        problems.append(("name", f"{spec.name!r} is reserved (the site's dataset index page)"))
    version = spec.version
    if len(version) > MAX_VERSION:
        problems.append(("version", f"is {len(version)} characters; at most {MAX_VERSION}"))
    if version.lower().endswith(MANIFEST_MARK):
        problems.append(("version", f"{version!r} ends in {MANIFEST_MARK!r}: its document would be the file "
                         f"manifest of version {version[: -len(MANIFEST_MARK)]!r}"))
    if version.lower() in RESERVED:
        problems.append(("version", f"{version!r} is reserved (a section index page)"))
    if not re.match(DATASTACK_PATTERN, spec.datastack):
        problems.append(("datastack", f"{spec.datastack!r} does not match {DATASTACK_PATTERN}"))
    _label("datastack", spec.datastack, problems)
    for i, tag in enumerate(spec.tags):
        _label(f"tags[{i}]", tag, problems)
    for i, owner in enumerate(spec.owners):
        _label(f"owners[{i}].name", owner.name, problems)
        if owner.team is not None:
            _label(f"owners[{i}].team", owner.team, problems)
    return problems
