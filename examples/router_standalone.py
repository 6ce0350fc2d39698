"""qake-routing outside the web: a tiny command-line dispatcher.

    python examples/router_standalone.py users show 42
    python examples/router_standalone.py            # runs a short demo

Each command line becomes a path (``users show 42`` -> ``/users/show/42``, every word
percent-encoded so that a word containing '/' stays one segment) and is matched with
``methods=None`` routes: no HTTP anywhere, just templates, converters and handlers.
"""

from __future__ import annotations

import sys
from urllib.parse import quote

from qake_routing import MethodNotAllowed, NotFound, Router

cli = Router(meta={"group": ["cli"]})


@cli.route("/users/show/{user_id:int}", name="show-user", help="show one user")
def show_user(user_id: int) -> str:
    return f"user #{user_id}"


@cli.route("/users/find/{name}", help="find users by name")
def find_user(name: str) -> str:
    return f"searching users named {name!r}"


@cli.route("/files/cat/{rest:path}", help="print a file")
def cat(rest: str) -> str:
    return f"contents of {rest}"


@cli.route("/version", help="print the version")
def version() -> str:
    return "demo 1.0"


admin = Router(meta={"group": ["admin"]})


@admin.route("/purge/{days:int}", name="purge", help="delete old records")
def purge(days: int) -> str:
    return f"purging records older than {days} days"


cli.include(admin, prefix="/admin", name="admin")


def dispatch(words: list[str]) -> str:
    path = "/" + "/".join(quote(word, safe="") for word in words)
    try:
        match = cli.match(None, path)
    except (NotFound, MethodNotAllowed):
        return f"unknown command: {' '.join(words)!r} (try 'help')"
    result: str = match.handler(**match.params)
    return result


def help_text() -> str:
    lines = ["commands:"]
    for route in cli:  # iteration, e.g. for a `routes` listing
        usage = route.path.replace("/", " ").strip()
        lines.append(f"  {usage:<32} {route.meta['help']}  [{'/'.join(route.meta['group'])}]")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv == ["help"]:
        print(help_text())
        return
    if argv:
        print(dispatch(argv))
        return
    for line in (
        "users show 42",
        "users show forty-two",
        "users find Ada Lovelace",
        "users find a/b",
        "files cat docs/readme.md",
        "admin purge 30",
        "version",
    ):
        words = line.split(" ", 2) if line.startswith("users find") else line.split()
        print(f"$ {line}\n{dispatch(words)}")
    print("url for purge:", cli.url_for("admin:purge", days=7))
    print(help_text())


if __name__ == "__main__":
    main(sys.argv[1:])
