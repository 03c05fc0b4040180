"""Schemathesis hooks for the contract test (SCHEMATHESIS_HOOKS=st_hooks).

Schemathesis serializes JSON, forms and application/octet-stream bodies by
itself; the API also takes files under their own content types (a PDF to
verify, a CMS signature, a CSV to import, a tus piece). Their schemas say
`format: binary`: the generated value goes over the wire as raw bytes, as
application/octet-stream would.
"""

import schemathesis

for media in (
    "application/pdf",
    "application/pkcs7-signature",
    "application/offset+octet-stream",
    "text/csv",
):
    schemathesis.serializer.alias(media, "application/octet-stream")
