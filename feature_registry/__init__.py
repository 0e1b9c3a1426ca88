"""The application on top of the three packages: what spans them.

* :mod:`feature_registry.cli`: the `feature-registry` command (core + site + packaging commands).
* :mod:`feature_registry.demo`: `make demo`, the whole product on one machine.
* :mod:`feature_registry.package`: deploy artifacts of the signer and the rebuild function.

`registry` (model, storage, inspection, publish, client) imports nothing from here, nor from
`site_builder` or `signer_function`; `site_builder` imports only `registry`.
"""
