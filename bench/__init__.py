"""The benchmark: every strategy side by side with Vercel's hello-world and a classic eager Flask app.

    .venv/bin/python -m bench [--postgres-url URL] [--update-readme]

Modules by job: ``shipped`` (real ``vercel build`` bundles started by Vercel's runtime: new
instances, warm throughput, round trips), ``candidates`` (the projects rendered from source),
``timing`` (whole-process medians, interleaved), ``sizes``, ``report`` (the tables).
"""
