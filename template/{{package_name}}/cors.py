"""Which other sites' pages may call this API from a browser: CORS_ORIGINS, nothing else.

CORS_ORIGINS lists origins, separated by commas or spaces: exact ones (``https://app.example.com``)
and patterns in which ``*`` stands for part of one DNS label, for the project's preview URLs
(``https://acme-notes-*-acme.vercel.app``). Unset, browsers let no other site call the API;
clients that are not browsers are never affected. Flask-CORS answers the preflight requests.
"""

import re

# Each * matches letters, digits and hyphens: never a dot, so a pattern cannot reach another domain.
LABEL_PART = "[a-z0-9-]+"
PREFLIGHT_CACHE_SECONDS = 600
# scheme://host[:port]: what a browser sends in its Origin header, with * allowed in the host.
ORIGIN = re.compile(r"https?://[a-z0-9*-]+(\.[a-z0-9*-]+)*(:[0-9]{1,5})?")


def init_app(app):
    origins, problems = allowed_origins(app.config["CORS_ORIGINS"])
    for problem in problems:
        app.logger.warning("CORS_ORIGINS: %s; it is ignored.", problem)
    if not origins:
        return  # no cross-origin access: Flask-CORS is not even imported
    from flask_cors import CORS

    # always_send=False: no CORS headers on requests that name no origin (curl, servers, same-site pages).
    CORS(app, origins=origins, max_age=PREFLIGHT_CACHE_SECONDS, always_send=False)


def allowed_origins(entries):
    """(exact origins as strings and patterns compiled, what is wrong with each other entry)."""
    origins, problems = [], []
    for entry in entries:
        origin = entry.rstrip("/").lower()
        problem = origin_problem(origin)
        if problem:
            problems.append(f"{entry!r} {problem}")
        elif "*" in origin:
            origins.append(re.compile(re.escape(origin).replace(r"\*", LABEL_PART) + r"\Z", re.IGNORECASE))
        else:
            origins.append(origin)
    return origins, problems


def origin_problem(origin):
    """What is wrong with one CORS_ORIGINS entry, or None."""
    if origin == "*":
        return "would let every site call the API: list the origins (https://*.example.com is allowed)"
    if not ORIGIN.fullmatch(origin):
        return "is not an origin: write scheme://host[:port], no path, for example https://app.example.com"
    domain = origin.split("://")[1].split(":")[0].split(".")[-2:]
    if "*" in origin and ("*" in "".join(domain) or len(domain) < 2):
        return "is a pattern that other people's domains match: spell out at least its last two labels"
    return None
