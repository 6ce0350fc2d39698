"""Typed settings: an application's configuration read from environment variables, a
``.env`` file and a secrets directory, validated by pydantic at startup.

Needs the ``settings`` extra (pydantic-settings): ``pip install 'qake-core[settings]'``;
the qakeapi meta-package includes it. ::

    class AppSettings(Settings):
        model_config = SettingsConfigDict(env_prefix="APP_")
        secret_key: SecretStr
        database_url: str = "sqlite:///app.sqlite3"

    settings = AppSettings.cached()  # at import: a missing APP_SECRET_KEY stops the start
    Config = Annotated[AppSettings, Depends(AppSettings.dependency())]

Precedence, highest first: keyword arguments of :meth:`Settings.load`, environment
variables, the ``.env`` file, files of the secrets directory, the fields' defaults.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, Self, cast

try:
    from pydantic_settings import BaseSettings, SettingsConfigDict
    from pydantic_settings import SettingsError as _SourceError
except ImportError as exc:  # pragma: no cover - exercised in a test by hiding the module
    raise ImportError(
        "qake_core.settings needs pydantic-settings: install the settings extra, "
        "pip install 'qake-core[settings]' (the qakeapi meta-package includes it)",
        name="pydantic_settings",
    ) from exc

from pydantic import AliasChoices, AliasPath, ValidationError

__all__ = ["SECRETS_DIR", "Settings", "SettingsConfigDict", "SettingsError", "default_secrets_dir"]

#: Where Docker (swarm and compose ``secrets:``) and Kubernetes mounts put secret files.
SECRETS_DIR = Path("/run/secrets")


def default_secrets_dir() -> Path | None:
    """:data:`SECRETS_DIR` when it is a readable directory, else ``None`` (no warning)."""
    if SECRETS_DIR.is_dir() and os.access(SECRETS_DIR, os.R_OK | os.X_OK):
        return SECRETS_DIR
    return None


class SettingsError(_SourceError):
    """A required setting is missing or a value is invalid.

    Raised by :meth:`Settings.load` (so at startup, never at request time) with one line
    per problem naming the environment variable to set. The values given are never
    repeated, neither in the message nor in ``errors`` (pydantic's errors without
    their inputs): a half-pasted secret does not end up in a log.
    """

    def __init__(self, message: str, errors: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class Settings(BaseSettings):
    """Base class of an application's settings (pydantic-settings' ``BaseSettings``).

    Defaults, safe for a service: no prefix (set ``env_prefix`` in ``model_config``),
    environment variables matched case-insensitively, ``.env`` in the working directory
    read when present, secret files from ``/run/secrets`` when it exists, an empty
    variable counts as unset, unrelated entries of ``.env`` are ignored, and an
    instance is immutable (one is shared by every request).
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        secrets_dir=default_secrets_dir(),
        extra="ignore",
        frozen=True,
    )

    @classmethod
    def load(cls, **values: Any) -> Self:
        """A new instance read from the sources now; ``values`` win over every source.

        A missing or invalid setting raises :class:`SettingsError` naming the
        environment variable to set.
        """
        try:
            return cls(**values)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False, include_context=False)
            raise SettingsError(_describe(cls, errors), errors) from None
        except SettingsError:
            raise
        except _SourceError as exc:  # a source could not parse a value (e.g. bad JSON)
            raise SettingsError(f"{cls.__name__}: {exc}") from exc

    @classmethod
    def cached(cls) -> Self:
        """The process's instance: loaded on the first call (thread-safe), then kept.

        Call it when the app is built so that a missing setting stops the start.
        """
        found = _instances.get(cls)
        if found is None:
            with _lock:
                found = _instances.get(cls)
                if found is None:
                    found = _instances[cls] = cls.load()
        return cast(Self, found)

    @classmethod
    def cache_clear(cls) -> None:
        """Forget the process's instance: the next :meth:`cached` reads the sources again."""
        with _lock:
            _instances.pop(cls, None)

    @classmethod
    def dependency(cls) -> Callable[[], Coroutine[Any, Any, Self]]:
        """The dependency giving :meth:`cached`: ``Depends(AppSettings.dependency())``.

        Always the same function for a class, so it is the key to override in tests:
        ``app.dependency_overrides[AppSettings.dependency()] = lambda: AppSettings.load(...)``.
        """
        provider = _providers.get(cls)
        if provider is None:
            with _lock:
                provider = _providers.get(cls)
                if provider is None:
                    provider = _providers[cls] = _provider_for(cls)
        return cast(Callable[[], Coroutine[Any, Any, Self]], provider)

    @classmethod
    def preload(cls, app: _Startup) -> None:
        """Load :meth:`cached` in ``app``'s startup, so that a missing setting fails the
        start (the server exits with the message) instead of a request.

        Skipped while :meth:`dependency` is overridden in ``app.dependency_overrides``
        (tests that replace the settings need no environment).
        """
        provider = cls.dependency()

        def load_settings() -> None:
            if provider not in app.dependency_overrides:
                cls.cached()

        load_settings.__qualname__ = f"{cls.__qualname__}.preload"
        app.on_startup.append(load_settings)


class _Startup(Protocol):
    """What :meth:`Settings.preload` needs of an app (qake-core's ``App``)."""

    on_startup: list[Callable[[], Any]]
    dependency_overrides: dict[Callable[..., Any], Callable[..., Any]]


_lock = threading.RLock()
_instances: dict[type[Settings], Settings] = {}
_providers: dict[type[Settings], Callable[[], Coroutine[Any, Any, Settings]]] = {}


def _provider_for(cls: type[Settings]) -> Callable[[], Coroutine[Any, Any, Settings]]:
    # A coroutine function: the dependency resolver awaits it instead of using a thread.
    async def provide() -> Settings:
        return cls.cached()

    provide.__name__ = "dependency"
    provide.__qualname__ = f"{cls.__qualname__}.dependency"
    return provide


def _describe(cls: type[Settings], errors: Sequence[Mapping[str, Any]]) -> str:
    config = cls.model_config
    sources = ["the environment"]
    if config.get("env_file"):
        sources.append(f"{config['env_file']}")
    secrets_dir = config.get("secrets_dir")
    if secrets_dir:
        sources.append(f"a file of that name in {secrets_dir}")
    where = ", ".join(sources)
    lines = [f"{cls.__name__}: {len(errors)} setting(s) missing or invalid:"]
    for error in errors:
        variable = _variable_for(cls, tuple(error.get("loc", ())))
        if error.get("type") == "missing":
            lines.append(f"  {variable}: missing, set it ({where})")
        else:
            lines.append(f"  {variable}: {error.get('msg', 'invalid')}")
    return "\n".join(lines)


def _variable_for(cls: type[Settings], loc: tuple[Any, ...]) -> str:
    """The environment variable setting the value at ``loc`` (pydantic's error location)."""
    if not loc:
        return cls.__name__
    config = cls.model_config
    upper = not config.get("case_sensitive", False)
    head = str(loc[0])
    variable = head
    for name, field in cls.model_fields.items():
        aliases = _aliases(field.validation_alias)
        if head == name or head in aliases:
            variable = _env_names(name, aliases, config)[0]
            break
    variable = variable.upper() if upper else variable
    rest = [str(part) for part in loc[1:]]
    if not rest:
        return variable
    delimiter = config.get("env_nested_delimiter")
    if delimiter:
        tail = delimiter.join(part.upper() if upper else part for part in rest)
        return f"{variable}{delimiter}{tail}"
    return f"{variable} (JSON, at {'.'.join(rest)})"


def _aliases(alias: str | AliasPath | AliasChoices | None) -> list[str]:
    if alias is None:
        return []
    if isinstance(alias, str):
        return [alias]
    if isinstance(alias, AliasPath):
        return [str(alias.path[0])]
    return [choice if isinstance(choice, str) else str(choice.path[0]) for choice in alias.choices]


def _env_names(name: str, aliases: list[str], config: Mapping[str, Any]) -> list[str]:
    prefix = config.get("env_prefix") or ""
    target = config.get("env_prefix_target") or "variable"  # pydantic-settings >= 2.12
    if aliases:
        return [(prefix if target in ("alias", "all") else "") + alias for alias in aliases]
    return [(prefix if target in ("variable", "all") else "") + name]
