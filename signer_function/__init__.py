"""The signer: checks a CAVE token and hands out signed URLs or scoped credentials for one pinned
dataset version from the registry. Entry points: `main.sign` (Cloud Functions / functions-framework)
and `aws_lambda.handler` (API Gateway HTTP API v2). Both call `core.Signer.handle`.

Nothing heavy is imported on the request path (no pyarrow/deltalake/pandas): the signer only reads
the registry's JSON documents and manifests.
"""
