"""Vercel's request-size limit, met locally: a body over 4.5 MB is a 413 here, as it is there.

Vercel refuses such a request before the function runs (FUNCTION_PAYLOAD_TOO_LARGE). Without the
same limit here, an upload that works in development would fail only in production.
"""

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import http_error_as_json


def init_app(app):
    app.before_request(refuse_large_bodies)
    app.register_error_handler(RequestEntityTooLarge, explain_the_limit)


def refuse_large_bodies():
    """By the declared size, whether or not the route reads the body: Vercel refuses it for every route."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def explain_the_limit(error):
    """The limit, and what to do instead (Flask also raises this for a longer body sent without a size)."""
    megabytes = current_app.config["MAX_CONTENT_LENGTH"] / 1_000_000
    return http_error_as_json(
        RequestEntityTooLarge(
            f"The request body is larger than {megabytes:g} MB, the most a Vercel function accepts."
            " Upload large files from the client straight to storage (Vercel Blob, S3, ...) with a"
            " signed upload URL, and send this API only the file's URL."
        )
    )
