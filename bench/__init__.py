"""The benchmark: every strategy side by side with Vercel's hello-world and a classic eager Flask app.

    .venv/bin/python -m bench [--postgres-url URL] [--update-readme]

Modules by job: ``candidates`` (what is measured and how it gets its tables), ``timing``
(whole-process medians, interleaved), ``serving`` (warm requests/second), ``sizes``,
``cold_starts`` (Vercel's runtime and real ``vercel build`` bundles), ``report`` (the tables).
"""
