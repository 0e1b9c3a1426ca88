"""Serverless entry points that rebuild and deploy the site when a document is published.

Google Cloud Functions (2nd gen), Eventarc trigger on `google.cloud.storage.object.v1.finalized`
for the registry bucket (events for other objects are ignored cheaply):

    functions-framework --target=on_storage_event --signature-type=cloudevent \
        --source=site_builder/rebuild_function.py

AWS Lambda, S3 `ObjectCreated:*` notification with prefix `datasets/` and suffix `.json`:

    handler: site_builder.rebuild_function.handler

Configuration (environment): FEATURE_REGISTRY_URI, SITE_TARGET, SITE_URL, SIGNER_URL,
REBUILD_DEBOUNCE_SECONDS (default 30; keep the function timeout above debounce + build time),
SITE_STRICT, SITE_WORK_DIR.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

if __package__ in (None, ""):  # loaded by path (functions-framework --source=...): make the repo importable
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from site_builder.events import (  # noqa: E402
    RebuildConfig,
    handle_keys,
    object_keys_from_cloudevent,
    object_keys_from_s3_event,
)


def _on_storage_event(cloud_event: Any) -> None:
    """CloudEvent entry point (Cloud Functions / Cloud Run functions)."""
    handle_keys(object_keys_from_cloudevent(cloud_event), RebuildConfig.from_env())


on_storage_event: Callable[[Any], None]
try:  # functions-framework only where it serves the function (GCF); Lambda has no use for it
    import functions_framework  # noqa: E402
except ImportError:
    on_storage_event = _on_storage_event
else:
    on_storage_event = functions_framework.cloud_event(_on_storage_event)


def handler(event: dict, context: Any = None) -> dict:
    """AWS Lambda entry point for S3 event notifications."""
    return handle_keys(object_keys_from_s3_event(event), RebuildConfig.from_env()).to_dict()
