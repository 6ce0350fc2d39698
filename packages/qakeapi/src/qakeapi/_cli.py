"""The ``qake`` command: run an app on uvicorn and inspect its routes."""

from __future__ import annotations

import argparse
import copy
import importlib
import inspect
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["choose_http", "load_app", "logging_config", "main"]

#: What uvicorn's pure-Python h11 parser lets through that httptools (llhttp) refuses.
H11_RISKS = (
    "uvicorn's h11 parser accepts what httptools refuses (Content-Length together with "
    "Transfer-Encoding, obs-folded header lines, request targets over 64 KiB) and is slow "
    "on bodies sent in tiny chunks; use httptools in production (the qakeapi package "
    "installs it through uvicorn[standard])"
)

#: Bytes of a request head h11 buffers while waiting for its end; beyond it h11 refuses
#: with a plain 400. Above the default header limits (64 KiB, qake-core's Limits) so
#: that the app's 431 answers oversized headers under h11 as under httptools.
H11_HEAD_BUFFER = 96 * 1024

#: Seconds a client has to send a whole request head before ``408`` (nginx's
#: ``client_header_timeout`` is 60, Apache's ``RequestReadTimeout`` 20 to 40): ``--head-timeout``.
HEAD_TIMEOUT = 10.0


def load_app(target: str) -> Any:
    """Import ``module:attribute`` (the current directory is importable); a wrong path
    exits with a message that names what is wrong and the fix."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise SystemExit(
            f"qake: expected MODULE:ATTRIBUTE (e.g. examples.basic_app:app), got {target!r}"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise SystemExit(
                f"qake: no module named {module_name!r} (looked in {os.getcwd()} and "
                f"sys.path); run qake from the folder that holds {exc.name.replace('.', '/')}, "
                "or give the module's dotted path"
            ) from None
        raise SystemExit(f"qake: importing {module_name!r} failed: {exc}") from exc
    except ImportError as exc:
        raise SystemExit(f"qake: importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        # Settings read at import time (qakeapi.Settings): the message names each
        # variable to set; a traceback would add nothing (checked by module name: the
        # CLI does not import pydantic-settings for it).
        if type(exc).__module__ == "qake_core.settings":
            raise SystemExit(f"qake: {module_name}: {exc}") from None
        raise
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            apps = sorted(
                name
                for name, value in vars(module).items()
                if not name.startswith("_") and _is_app(value)
            )
            hint = f"; it has {', '.join(apps)}" if apps else "; define app = QakeAPI() in it"
            raise SystemExit(
                f"qake: module {module_name!r} has no attribute {attr!r}{hint}"
            ) from None
    if not _is_asgi(obj):
        kind = "class" if isinstance(obj, type) else type(obj).__name__
        raise SystemExit(
            f"qake: {target} is a {kind}, not an ASGI app; point at the "
            "QakeAPI() instance (e.g. module:app)"
        )
    return obj


def _is_asgi(obj: Any) -> bool:
    """Whether ``obj`` can be called as an ASGI 3 app: ``obj(scope, receive, send)``."""
    if not callable(obj) or isinstance(obj, type):
        return False
    try:
        inspect.signature(obj).bind(None, None, None)
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): let the server judge it
        return True
    return True


def _is_app(value: Any) -> bool:
    """An ASGI app object (an instance, not a class or function) the user may mean."""
    from qake_core import App

    return isinstance(value, App)


def choose_http(requested: str) -> tuple[str, str | None]:
    """The HTTP/1.1 implementation to serve with, and a warning to print, if any.

    ``auto`` means httptools when it can be imported (the meta-package installs it),
    else h11 with a warning; asking for ``h11`` explicitly also warns.
    """
    if requested == "auto":
        try:
            import httptools  # noqa: F401
        except ImportError:
            return "h11", f"qake: warning: httptools is not installed: {H11_RISKS}"
        return "httptools", None
    if requested == "h11":
        return "h11", f"qake: warning: --http h11: {H11_RISKS}"
    return requested, None


#: uvicorn's levels (``trace`` is its own, below ``debug``).
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def logging_config(level: str = "info", *, json_lines: bool = False) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of ``qake run --log-json``/``--log-level``, for
    uvicorn's loggers and the app's own (the root logger, to which every logger the app
    or qakeapi makes propagates), at ``level``.

    JSON: one :class:`qake_core.JSONFormatter` line per record on standard output,
    uvicorn's included. Text: uvicorn's own configuration (its format, errors on standard
    error, access lines on standard output) plus the root logger on uvicorn's error
    handler. uvicorn applies it in every worker process.
    """
    from uvicorn.config import LOG_LEVELS as UVICORN_LEVELS
    from uvicorn.config import LOGGING_CONFIG

    number = UVICORN_LEVELS[level]
    if not json_lines:
        config = copy.deepcopy(LOGGING_CONFIG)
        config["root"] = {"handlers": ["default"], "level": number}
        return config
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "qake_core.JSONFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            # uvicorn.error and uvicorn.access propagate to it, and no further.
            "uvicorn": {"handlers": ["json"], "level": number, "propagate": False},
        },
        "root": {"handlers": ["json"], "level": number},
    }


def _run(args: argparse.Namespace) -> int:
    http, warning = choose_http(args.http)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)
    print(f"qake: serving HTTP/1.1 with uvicorn's {http} parser", file=sys.stderr, flush=True)
    from qakeapi._head_deadline import protocol_for

    options: dict[str, Any] = {
        # uvicorn's protocol with a deadline for the request head (``_head_deadline``).
        "http": protocol_for(http),
        "head_timeout": args.head_timeout,
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level or "info",
        "access_log": args.access_log,
        "ws": args.ws,
        "ws_max_size": args.ws_max_size,
        "ws_ping_interval": args.ws_ping_interval,
        "ws_ping_timeout": args.ws_ping_timeout,
        "proxy_headers": args.proxy_headers,
        "h11_max_incomplete_event_size": H11_HEAD_BUFFER,
    }
    # The app's own loggers print too (the root logger on uvicorn's handler, at the
    # level asked, INFO by default): a background task's log line is seen.
    options["log_config"] = logging_config(args.log_level or "info", json_lines=args.log_json)
    if args.reload or args.workers > 1:
        # uvicorn needs an import string to reload or to start several workers; the app
        # is imported here first all the same, so that a wrong path is reported clearly.
        load_app(args.app)
        from qakeapi._drain import supervise

        return supervise(args.app, reload=args.reload, workers=args.workers, **options)
    from qakeapi._drain import serve

    # uvicorn's Server with a drain period and a clean exit status (``_drain``).
    return serve(load_app(args.app), drain_seconds=args.drain_seconds, **options)


def _security(route: Any) -> str:
    """The schemes a route requires, with their scopes: ``OAuth2PasswordBearer[read,write]``."""
    from qake_docs import SecuritySchemes

    spec = getattr(route, "spec", None)
    if spec is None or not hasattr(spec, "dependencies"):
        return "-"
    requirements = SecuritySchemes().requirements(spec, route.path)
    shown = [
        f"{name}[{','.join(scopes)}]" if scopes else name
        for requirement in requirements
        for name, scopes in requirement.items()
    ]
    return " ".join(shown) or "-"


def _routes(args: argparse.Namespace) -> int:
    app = load_app(args.app)
    for route in getattr(app, "routes", []):
        methods = ",".join(sorted(getattr(route, "methods", None) or ["WS"]))
        print(f"{methods:<20} {route.path:<40} {route.name:<30} {_security(route)}")
    return 0


def _openapi(args: argparse.Namespace) -> int:
    import json

    app = load_app(args.app)
    if not callable(getattr(app, "openapi", None)):
        raise SystemExit(f"{args.app} has no openapi() method; is it a qakeapi.QakeAPI?")
    document = app.openapi()
    if args.yaml:
        try:
            yaml = importlib.import_module("yaml")  # PyYAML: optional, untyped
        except ImportError:
            raise SystemExit(
                "qake openapi --yaml needs PyYAML: pip install pyyaml (or omit --yaml for JSON)"
            ) from None
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _port_fastapi(args: argparse.Namespace) -> int:
    from pathlib import Path

    from qakeapi._port import command

    return command(Path(args.path), dry_run=args.dry_run, compat=args.compat)


def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds, 0 or more")
    return value


def _count(text: str) -> int:
    """An argparse type: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 or more")
    return value


def _serving_options(
    run: argparse.ArgumentParser, *, reload: bool = False, log_level: str | None = None
) -> None:
    """The options of ``qake run`` (and ``qake dev``, with its defaults)."""
    run.add_argument("app", help="import path, e.g. examples.basic_app:app")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument(
        "--reload", action="store_true", default=reload, help="restart when code changes"
    )
    run.add_argument(
        "--workers", type=_count, default=1, help="worker processes sharing the port (uvicorn)"
    )
    run.add_argument(
        "--drain-seconds",
        type=_seconds,
        default=0.0,
        help="on SIGTERM/SIGINT: answer readiness (qakeapi.Health) with 503 and keep serving "
        "this many seconds, then shut down gracefully (a second signal: at once; one worker)",
    )
    run.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=log_level,
        help="level of uvicorn's loggers and of the app's own (the root logger gets "
        "uvicorn's handler: the app's records are printed too); default info",
    )
    run.add_argument(
        "--log-json",
        action="store_true",
        help="every log record as one JSON line on standard output (qake_core.JSONFormatter): "
        "uvicorn's, qakeapi's and the app's own",
    )
    run.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="no uvicorn access lines (when the app logs its own with AccessLogMiddleware)",
    )
    run.add_argument(
        "--http",
        choices=("auto", "httptools", "h11"),
        default="auto",
        help="HTTP/1.1 parser: httptools when installed (auto), else h11 with a warning",
    )
    run.add_argument(
        "--head-timeout",
        type=_seconds,
        default=HEAD_TIMEOUT,
        metavar="SECONDS",
        help="a request head not complete within this many seconds is answered 408 and its "
        f"connection closed (slowloris); an idle new connection is closed (default "
        f"{HEAD_TIMEOUT:g}; 0: no deadline)",
    )
    run.add_argument(
        "--ws",
        choices=("auto", "websockets-sansio", "websockets", "wsproto", "none"),
        default="auto",
        help="uvicorn's WebSocket implementation (auto: websockets-sansio when installed)",
    )
    run.add_argument(
        "--ws-max-size",
        type=int,
        default=16 * 1024 * 1024,
        help="largest WebSocket frame/message the server accepts, in bytes (uvicorn); "
        "routes' max_message_size (1 MiB by default) applies after it",
    )
    run.add_argument(
        "--ws-ping-interval",
        type=float,
        default=20.0,
        help="seconds between WebSocket protocol pings sent by the server (uvicorn)",
    )
    run.add_argument(
        "--ws-ping-timeout",
        type=float,
        default=20.0,
        help="seconds to wait for a pong before closing the WebSocket (uvicorn)",
    )
    run.add_argument(
        "--proxy-headers",
        action="store_true",
        help="trust X-Forwarded-* from the proxy addresses uvicorn trusts",
    )


def _new(args: argparse.Namespace) -> int:
    from pathlib import Path

    from qakeapi._scaffold import command

    return command(args.name, Path(args.dir) if args.dir else None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qake`` console script."""
    parser = argparse.ArgumentParser(prog="qake", description="Run and inspect qakeapi apps.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve MODULE:APP with uvicorn")
    _serving_options(run)
    run.set_defaults(func=_run)
    dev = sub.add_parser(
        "dev",
        help="serve MODULE:APP for development: reload on change, debug logs of uvicorn "
        "and the app (qake run --reload --log-level debug)",
    )
    _serving_options(dev, reload=True, log_level="debug")
    dev.set_defaults(func=_run)
    new = sub.add_parser("new", help="start a project NAME: an app, its tests, a pyproject")
    new.add_argument("name", help="the project's name, e.g. my-shop (package my_shop)")
    new.add_argument("--dir", help="where to write it (default: ./NAME)")
    new.set_defaults(func=_new)
    routes = sub.add_parser("routes", help="list the routes of MODULE:APP")
    routes.add_argument("app")
    routes.set_defaults(func=_routes)
    openapi = sub.add_parser("openapi", help="write the OpenAPI document of MODULE:APP")
    openapi.add_argument("app")
    openapi.add_argument("--output", "-o", help="write to this file (default: standard output)")
    openapi.add_argument("--yaml", action="store_true", help="YAML (needs PyYAML) instead of JSON")
    openapi.set_defaults(func=_openapi)
    port = sub.add_parser(
        "port-fastapi",
        help="rewrite a FastAPI project's imports to qakeapi's; exit 1 if some need a hand",
    )
    port.add_argument("path", help="a Python file or a directory (walked recursively)")
    port.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    port.add_argument(
        "--compat",
        action="store_true",
        help="import the app class as qakeapi.compat.FastAPI: the ported app answers as "
        "FastAPI did (error bodies, str as JSON...; see the migration guide)",
    )
    port.set_defaults(func=_port_fastapi)
    args = parser.parse_args(argv)
    if getattr(args, "drain_seconds", 0) and (args.workers > 1 or args.reload):
        # The drain runs in the serving process; uvicorn's supervisor of several workers
        # (or of the reloader) stops them at once. Refused, not silently ignored.
        parser.error(
            "--drain-seconds needs a single worker without --reload: run one worker per "
            "container or process (the orchestrator or load balancer adds more), or drop "
            "--drain-seconds"
        )
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
