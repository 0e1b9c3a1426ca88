"""Registering what pipelines write: :mod:`registry.ops.exports` finds MaterializationEngine Delta
exports and derives specs for them (the `scan-exports` core command).

Deploying and refreshing the site live with the site (`site_builder.deploy`, `site_builder.events`,
`site_builder.rebuild_function`); deploy artifacts with the application (`feature_registry.package`).
"""
