"""The benchmark's tables, as Markdown for bench/results.md and the README."""

import datetime
import os
import platform

from template_tools import REPO_ROOT

from .candidates import BARE, CLASSIC
from .cold_starts import bundles_markdown
from .sizes import VERCEL_SIZE_LIMIT_MB

README = REPO_ROOT / "README.md"
README_START, README_END = "<!-- benchmark:start -->", "<!-- benchmark:end -->"


def ratio(value, reference):
    return f"{value / reference:.2f}x"


def verdict(value, goal, higher_is_better=False):
    met = value >= goal if higher_is_better else value <= goal
    return "meets" if met else "MISSES"


def results_markdown(sections, options, elapsed):
    cores = os.cpu_count()
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {platform.machine()} with {cores} cores,"
        f" Python {options.python} ({platform.system()}); medians of {options.runs} interleaved runs;"
        f" whole run {elapsed:.0f} s; load average at the end {os.getloadavg()[0]:.1f}.",
        "",
        "**Cold start: `import index`, whole process** (goal: every strategy <= 1.05x bare Flask)",
        "",
        "| candidate | ms | vs bare Flask | goal |",
        "|---|---:|---:|---|",
    ]
    imports = sections["import"]
    for name, ms in imports.items():
        goal = verdict(ms / imports[BARE], 1.05) if name not in (BARE, CLASSIC) else ""
        lines.append(f"| {name} | {ms:.0f} | {ratio(ms, imports[BARE])} | {goal} |")
    for key in [k for k in sections if k.startswith("first request")]:
        label = key.split(", ")[1]
        goal_text = " (goal on PostgreSQL: <= 0.8x classic eager)" if label == "PostgreSQL" else ""
        lines += [
            "",
            f"**Cold import + first `GET /api/items`, {label}, whole process**{goal_text}",
            "",
            "| candidate | ms | vs classic eager | goal |",
            "|---|---:|---:|---|",
        ]
        values = sections[key]
        for name, ms in values.items():
            goal = (
                verdict(ms / values[CLASSIC], 0.8)
                if label == "PostgreSQL" and name not in (BARE, CLASSIC)
                else ""
            )
            lines.append(f"| {name} | {ms:.0f} | {ratio(ms, values[CLASSIC])} | {goal} |")
    if not options.postgres_url:
        lines += ["", "PostgreSQL rows: not measured (pass `--postgres-url` or set BENCH_POSTGRES_URL)."]
    lines += [
        "",
        "**PostgreSQL driver import cost** (ms over a bare interpreter)",
        "",
        "| import | ms |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {ms:.0f} |" for name, ms in sections["drivers"].items()]
    rps = sections["requests/second"]
    bare_rps = rps[(BARE, "/")]
    lines += [
        "",
        f"**Warm requests/second, stdlib `wsgiref` server (single-threaded), {options.requests} requests"
        " per round, SQLite** (goal: >= 0.9x bare Flask's `/`; `/api/items` queries the database, which"
        " bare Flask never does, so it is also compared with the classic app's same route)",
        "",
        "| candidate | path | req/s | vs bare Flask | vs classic eager, same path | goal (vs bare Flask) |",
        "|---|---|---:|---:|---:|---|",
    ]
    for (name, path), value in rps.items():
        goal = verdict(value / bare_rps, 0.9, higher_is_better=True) if name not in (BARE, CLASSIC) else ""
        same_path = ratio(value, rps[(CLASSIC, path)]) if (CLASSIC, path) in rps else ""
        lines.append(f"| {name} | `{path}` | {value:.0f} | {ratio(value, bare_rps)} | {same_path} | {goal} |")
    lines += [
        "",
        f"**Installed runtime dependencies** (site-packages; Vercel's limit is {VERCEL_SIZE_LIMIT_MB} MB)",
        "",
        "| candidate | MB | of the limit |",
        "|---|---:|---:|",
    ]
    for name, mb in sections["size"].items():
        lines.append(f"| {name} | {mb:.1f} | {mb / VERCEL_SIZE_LIMIT_MB:.0%} |")
    inits = sections["vercel init"]
    lines += [
        "",
        "**Vercel runtime init duration** (announced by Vercel's Python runtime, read-only, from source)",
        "",
        "| candidate | init ms | vs bare Flask |",
        "|---|---:|---:|",
    ]
    for name, ms in inits.items():
        if ms is None:
            lines.append(f"| {name} | not measured (harness not available) | |")
        else:
            lines.append(f"| {name} | {ms:.0f} | {ratio(ms, inits[BARE]) if inits[BARE] else ''} |")
    lines.append("")
    if sections["vercel bundles"] is None:
        lines.append("**Vercel bundles**: not measured (no `vercel build` or read-only harness here).")
    else:
        lines.append(bundles_markdown(sections["vercel bundles"], options.runs).rstrip("\n"))
    return "\n".join(lines) + "\n"


def update_readme(table):
    text = README.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    README.write_text(text[:start] + "\n" + table + text[end:])
