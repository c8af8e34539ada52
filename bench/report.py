"""The benchmark's tables, as Markdown for bench/results.md and the README."""

import datetime
import os
import platform

from template_tools import REPO_ROOT
from template_tools.matrix import DRIVERS, STRATEGIES

from .candidates import BARE, CLASSIC
from .shipped import CLASSIC as CLASSIC_BUNDLE
from .shipped import CONCURRENT_CLIENTS, HELLO, HELLO_BYTECODE
from .sizes import VERCEL_SIZE_LIMIT_MB

README = REPO_ROOT / "README.md"
README_START, README_END = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
# The goals, as ratios measured in one run (issues 6, 15 and 20).
IMPORT_GOAL = 1.05  # `import index` from source <= 1.05x bare Flask
HEALTH_GOAL = 1.10  # a new instance answering /api/health <= 1.10x the hello-world with bytecode
FIRST_QUERY_GOAL = 0.90  # a new instance's first GET /api/items <= 0.90x the classic app's
HEALTH_RPS_GOAL = 0.90  # warm /api/health >= 0.9x the hello-world's / through the same runtime
ITEMS_RPS_GOAL = 1.00  # warm /api/items at 16 clients >= 1.0x the classic app's
LATENCY_GOAL = 0.60  # one client's warm GET /api/items at a 2 ms round trip <= 0.60x the classic app's


def ratio(value, reference):
    return f"{value / reference:.2f}x"


def verdict(value, goal, higher_is_better=False):
    met = value >= goal if higher_is_better else value <= goal
    return "meets" if met else "MISSES"


def against(bundle, reference, key, goal, judged):
    """``bundle``'s ``key`` as a ratio of ``reference``'s, and (when ``judged``) its verdict."""
    value, base = bundle.results[key], reference.results[key]
    return ratio(value, base), verdict(value / base, goal) if judged else ""


def table(title, header, rows):
    lines = ["", title, "", "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows]


def results_markdown(sections, options, elapsed):
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {platform.machine()} with {os.cpu_count()} cores,"
        f" Python {options.python} ({platform.system()}); medians of {options.runs} interleaved runs;"
        f" whole run {elapsed:.0f} s; load average at the end {os.getloadavg()[0]:.1f}.",
    ]
    if sections["shipped"] is None:
        lines += ["", "**What ships**: not measured (no `vercel build`, root or PostgreSQL here)."]
    else:
        lines += shipped_markdown(sections["shipped"], options.runs).splitlines()
    imports = sections["import"]
    lines += table(
        f"**From source: `import index`, whole process** (goal: every strategy <= {IMPORT_GOAL}x bare Flask;"
        " the development venv, compiled once, as `flask run` imports it)",
        ["candidate", "ms", "vs bare Flask", "goal"],
        [
            [name, f"{ms:.0f}", ratio(ms, imports[BARE]), verdict(ms / imports[BARE], IMPORT_GOAL)]
            if name not in (BARE, CLASSIC)
            else [name, f"{ms:.0f}", ratio(ms, imports[BARE]), ""]
            for name, ms in imports.items()
        ],
    )
    lines += table(
        "**From source: PostgreSQL driver import cost** (ms over a bare interpreter)",
        ["import", "ms"],
        [[name, f"{ms:.0f}"] for name, ms in sections["drivers"].items()],
    )
    lines += table(
        f"**Installed runtime dependencies** (site-packages; Vercel's limit is {VERCEL_SIZE_LIMIT_MB} MB)",
        ["candidate", "MB", "of the limit"],
        [[name, f"{mb:.1f}", f"{mb / VERCEL_SIZE_LIMIT_MB:.0%}"] for name, mb in sections["size"].items()],
    )
    return "\n".join(lines) + "\n"


def shipped_markdown(bundles, runs):
    """The tables of bench/shipped.py: new instances, warm throughput, round trips and latency."""
    by_label = {b.label: b for b in bundles}
    floor, default, classic = by_label[HELLO_BYTECODE], by_label[HELLO], by_label[CLASSIC_BUNDLE]
    # The goals judge plain builds of the strategies on the default driver: what every deployment of a
    # project rendered with the defaults gets, however started. The other driver's rows weigh the choice.
    strategies = [
        b for b in bundles if b.label in STRATEGIES and b.bytecode is False and b.driver == DRIVERS[0]
    ]
    lines = table(
        f"**A new instance answering `GET /api/health`, real `vercel build` bundles** (the runtime's init"
        f" duration plus the request, read-only at /var/task, median of {runs}; goal: every strategy"
        f" <= {HEALTH_GOAL}x Vercel's hello-world with bytecode, the floor for any Flask app there. The init"
        " splits into the runtime's own start-up, which runs before the app's first line, and importing"
        " the app)",
        [
            "bundle",
            "ms",
            "x hello with bytecode",
            "goal",
            "runtime start-up ms",
            "app import ms",
            "app import x hello with bytecode",
            "x hello default",
            "files",
            "MB",
            "build s",
        ],
        [
            [
                b.label,
                f"{b.results['cold health']:.0f}",
                *against(b, floor, "cold health", HEALTH_GOAL, judged=b in strategies),
                f"{b.results['bootstrap']:.0f}",
                f"{b.results['importFn']:.0f}",
                ratio(b.results["importFn"], floor.results["importFn"]),
                ratio(b.results["cold health"], default.results["cold health"]),
                b.files,
                f"{b.megabytes:.1f}",
                f"{b.build_seconds:.1f}",
            ]
            for b in bundles
        ],
    )
    with_database = [b for b in bundles if b.driver and not b.health_only]
    lines += table(
        f"**A new instance's first `GET /api/items` on PostgreSQL** (init duration plus the request; goal:"
        f" every strategy <= {FIRST_QUERY_GOAL}x the classic eager app, Flask-SQLAlchemy and Flask-Migrate"
        " at import, psycopg2)",
        ["bundle", "driver", "ms", "x classic", "goal"],
        [
            [
                b.label,
                b.driver,
                f"{b.results['cold items']:.0f}",
                *against(b, classic, "cold items", FIRST_QUERY_GOAL, judged=b in strategies),
            ]
            for b in with_database
        ],
    )
    rows = []
    for b in [b for b in bundles if not b.health_only]:
        for path in [b.health_path] + (["/api/items"] if b.driver else []):
            if path == "/api/items":
                reference, reference_path, goal, goal_clients = (
                    classic,
                    path,
                    ITEMS_RPS_GOAL,
                    CONCURRENT_CLIENTS,
                )
            else:
                reference, reference_path, goal, goal_clients = floor, floor.health_path, HEALTH_RPS_GOAL, 1
            cells = [b.label, f"`{path}`"]
            for clients in (1, CONCURRENT_CLIENTS):
                rate = b.results[f"rps {path} {clients}"]
                cells += [f"{rate:.0f}", ratio(rate, reference.results[f"rps {reference_path} {clients}"])]
            versus = (
                b.results[f"rps {path} {goal_clients}"]
                / reference.results[f"rps {reference_path} {goal_clients}"]
            )
            cells.append(verdict(versus, goal, higher_is_better=True) if b in strategies else "")
            rows.append(cells)
    lines += table(
        f"**Warm requests/second through Vercel's runtime** (no error allowed; `/api/health` vs the"
        f" hello-world's `/`, goal >= {HEALTH_RPS_GOAL}x with one client; `/api/items` vs the classic app's,"
        f" goal >= {ITEMS_RPS_GOAL}x with {CONCURRENT_CLIENTS} clients)",
        ["bundle", "path", "1 client", "ratio", f"{CONCURRENT_CLIENTS} clients", "ratio", "goal"],
        rows,
    )
    lines += table(
        f"**Round trips to PostgreSQL per warm request, and one client's warm `GET /api/items` at a 2 ms"
        f" round trip** (a relay counts query-and-answer exchanges, or holds each packet 1 ms each way;"
        f" goals: GET 1, POST <= 3, <= {LATENCY_GOAL}x the classic app)",
        ["bundle", "GET", "POST", "GET at 2 ms, ms", "x classic", "goal"],
        [
            [
                b.label,
                b.results["round trips GET"],
                b.results["round trips POST"],
                f"{b.results['GET at 2 ms']:.1f}",
                ratio(b.results["GET at 2 ms"], classic.results["GET at 2 ms"]),
                verdict(
                    max(b.results["round trips GET"] - 1, b.results["round trips POST"] - 3, 0)
                    + (b.results["GET at 2 ms"] / classic.results["GET at 2 ms"] > LATENCY_GOAL),
                    0,
                )
                if b in strategies
                else "",
            ]
            for b in with_database
        ],
    )
    return "\n".join(lines) + "\n"


def update_readme(table_text):
    text = README.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    README.write_text(text[:start] + "\n" + table_text + text[end:])
