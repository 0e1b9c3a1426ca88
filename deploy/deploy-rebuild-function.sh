#!/usr/bin/env bash
# Deploy the rebuild-on-publish function (Cloud Functions 2nd gen, Eventarc GCS trigger).
# Events on the whole bucket arrive; the function ignores everything but datasets/**/<version>.json.
# The source is the artifact `feature-registry package-rebuild-function --target gcf` writes: main.py,
# requirements.txt (pinned), the packages, templates/, mkdocs.yml and the vendored browser scripts
# (which a plain `--source=.` of a checkout lacks: they are git-ignored).
set -euo pipefail
REGION=${REGION:-us-central1}
REGISTRY_BUCKET=${REGISTRY_BUCKET:?gs bucket name of the registry, no gs://}
SITE_TARGET=${SITE_TARGET:?e.g. gs://lab-catalog-site}
OUT=${OUT:-build/deploy}
FEATURE_REGISTRY=${FEATURE_REGISTRY:-feature-registry}
"$FEATURE_REGISTRY" package-rebuild-function --target gcf --out "$OUT"
gcloud functions deploy catalog-site-rebuild \
  --gen2 --region="$REGION" --runtime=python312 \
  --source="$OUT/rebuild-function-gcf" --entry-point=on_storage_event \
  --trigger-event-filters="type=google.cloud.storage.object.v1.finalized" \
  --trigger-event-filters="bucket=${REGISTRY_BUCKET}" \
  --memory=2GiB --timeout=540s --max-instances=3 \
  --set-env-vars="FEATURE_REGISTRY_URI=gs://${REGISTRY_BUCKET},SITE_TARGET=${SITE_TARGET},REBUILD_DEBOUNCE_SECONDS=30,SITE_STRICT=true"
