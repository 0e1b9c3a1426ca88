"""Operations: register what pipelines and MaterializationEngine write, deploy the site, keep it current.

* :mod:`registry.ops.exports`: find MaterializationEngine Delta exports and derive specs for them.
* :mod:`registry.ops.deploy`: upload a built site to a bucket, changed files only, deletions last.
* :mod:`registry.ops.events`: storage events -> debounced rebuild + deploy.
* :mod:`registry.ops.rebuild_function`: Cloud Functions (CloudEvent) and AWS Lambda entry points.
"""
