"""Routes meant for machines, not people: they require a shared secret as a bearer token.

The secret is a setting, named by the route; a route whose secret is unset does not exist.
"""

import hmac

from flask import abort, current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized


def require_bearer_token(setting):
    """Stop the request unless it carries ``Authorization: Bearer <the value of setting>``."""
    expected = current_app.config.get(setting)
    if not expected:
        abort(404)  # disabled: answer as if the route did not exist
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not supplied.strip():
        raise Unauthorized(
            f"Send the token as `Authorization: Bearer <{setting}>`.",
            www_authenticate=WWWAuthenticate("bearer"),
        )
    # Constant time, so response timing reveals nothing about the token.
    if not hmac.compare_digest(supplied.strip().encode(), expected.encode()):
        abort(403, description=f"The token does not match {setting}.")
