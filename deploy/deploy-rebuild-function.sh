#!/usr/bin/env bash
# Deploy the rebuild-on-publish function (Cloud Functions 2nd gen, Eventarc GCS trigger).
# Events on the whole bucket arrive; the function ignores everything but datasets/**/<version>.json.
set -euo pipefail
REGION=${REGION:-us-central1}
REGISTRY_BUCKET=${REGISTRY_BUCKET:?gs bucket name of the registry, no gs://}
SITE_TARGET=${SITE_TARGET:?e.g. gs://lab-catalog-site}
gcloud functions deploy catalog-site-rebuild \
  --gen2 --region="$REGION" --runtime=python311 \
  --source=. --entry-point=on_storage_event \
  --trigger-event-filters="type=google.cloud.storage.object.v1.finalized" \
  --trigger-event-filters="bucket=${REGISTRY_BUCKET}" \
  --memory=2GiB --timeout=540s --max-instances=3 \
  --set-env-vars="FEATURE_REGISTRY_URI=gs://${REGISTRY_BUCKET},SITE_TARGET=${SITE_TARGET},REBUILD_DEBOUNCE_SECONDS=30,SITE_STRICT=true"
# Cloud Functions expects main.py at the source root: add one line to a main.py there:
#   from registry.ops.rebuild_function import on_storage_event  # noqa: F401
