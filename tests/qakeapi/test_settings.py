"""Typed settings (``qakeapi.Settings``, qake_core.settings): environment variables, a
``.env`` file, a secrets directory and their precedence; injection with ``Depends``,
one instance per process, overrides in tests; a missing or invalid setting stops the
start with the variable to set (in process and under a real ``qake run``)."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, Field, SecretStr, ValidationError

import qake_core.settings as settings_module
from qakeapi import Depends, QakeAPI, Settings, SettingsConfigDict, SettingsError
from qakeapi.testing import LifespanError, TestClient

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = (
    *("APP_SECRET_KEY", "APP_DATABASE_URL", "APP_WORKERS"),
    *("APP_DB", "APP_DB__HOST", "APP_DB__PORT", "CHAT_REDIS_URL"),
)


class AppSettings(Settings):
    model_config = SettingsConfigDict(env_prefix="APP_")

    secret_key: SecretStr
    database_url: str = "sqlite:///app.sqlite3"
    workers: int = 1


class Database(BaseModel):
    host: str
    port: int = 5432


class NestedSettings(Settings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_nested_delimiter="__")

    db: Database


class AliasSettings(Settings):
    redis_url: str = Field(validation_alias="CHAT_REDIS_URL")


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No stray variable, and a working directory without a ``.env``."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    for cls in (AppSettings, NestedSettings, AliasSettings):
        cls.cache_clear()


def test_environment_variables_are_read_typed_and_case_insensitive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("app_workers", "4")
    settings = AppSettings.load()
    assert settings.secret_key.get_secret_value() == "k" * 32
    assert settings.workers == 4
    assert settings.database_url == "sqlite:///app.sqlite3"  # the default
    assert "k" * 32 not in repr(settings)
    assert "k" * 32 not in str(settings.model_dump())


def test_an_instance_is_immutable() -> None:
    settings = AppSettings.load(secret_key="s")
    with pytest.raises(ValidationError, match="frozen"):
        settings.workers = 8


def test_a_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# comment\nAPP_SECRET_KEY=from-dotenv\nAPP_WORKERS=3\nAPP_UNRELATED_TOOL=ignored\n"
    )
    settings = AppSettings.load()
    assert settings.secret_key.get_secret_value() == "from-dotenv"
    assert settings.workers == 3


def test_a_secrets_directory_holds_one_file_per_setting(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "app_secret_key").write_text("from-a-secret-file\n")

    class Mounted(AppSettings):
        model_config = SettingsConfigDict(secrets_dir=secrets)

    settings = Mounted.load()
    assert settings.secret_key.get_secret_value() == "from-a-secret-file"
    assert settings.database_url == "sqlite:///app.sqlite3"


def test_default_secrets_dir_is_run_secrets_only_when_it_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mounted = tmp_path / "run-secrets"
    monkeypatch.setattr(settings_module, "SECRETS_DIR", mounted)
    assert settings_module.default_secrets_dir() is None
    mounted.mkdir()
    assert settings_module.default_secrets_dir() == mounted
    real = Path("/run/secrets")
    readable = real.is_dir() and os.access(real, os.R_OK | os.X_OK)
    assert Settings.model_config["secrets_dir"] == (real if readable else None)


def test_precedence_arguments_then_environment_then_dotenv_then_secrets_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()

    class Layered(AppSettings):
        model_config = SettingsConfigDict(secrets_dir=secrets)

    def url(**values: str) -> str:
        return Layered.load(secret_key="s", **values).database_url

    assert url() == "sqlite:///app.sqlite3"
    (secrets / "app_database_url").write_text("from-secret")
    assert url() == "from-secret"
    (tmp_path / ".env").write_text("APP_DATABASE_URL=from-dotenv\n")
    assert url() == "from-dotenv"
    monkeypatch.setenv("APP_DATABASE_URL", "from-environment")
    assert url() == "from-environment"
    assert url(database_url="from-argument") == "from-argument"


def test_an_empty_variable_counts_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_DATABASE_URL", "")
    assert AppSettings.load(secret_key="s").database_url == "sqlite:///app.sqlite3"
    monkeypatch.setenv("APP_SECRET_KEY", "")
    with pytest.raises(SettingsError, match="APP_SECRET_KEY: missing"):
        AppSettings.load()


def test_a_missing_setting_names_the_variable_to_set() -> None:
    with pytest.raises(SettingsError) as caught:
        AppSettings.load()
    message = str(caught.value)
    assert message.startswith("AppSettings: 1 setting(s) missing or invalid:")
    assert "APP_SECRET_KEY: missing, set it (the environment, .env" in message
    assert caught.value.errors == [
        {"type": "missing", "loc": ("secret_key",), "msg": "Field required"}
    ]
    # pydantic-settings' own error type, and a ValueError, like pydantic's.
    from pydantic_settings import SettingsError as PydanticSettingsError

    assert isinstance(caught.value, PydanticSettingsError)
    assert isinstance(caught.value, ValueError)


def test_aliases_and_nested_settings_name_their_own_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SettingsError, match=r"CHAT_REDIS_URL: missing"):
        AliasSettings.load()
    monkeypatch.setenv("CHAT_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert AliasSettings.load().redis_url == "redis://127.0.0.1:6379/0"
    with pytest.raises(SettingsError, match=r"APP_DB: missing"):
        NestedSettings.load()
    monkeypatch.setenv("APP_DB__HOST", "db.internal")
    assert NestedSettings.load().db == Database(host="db.internal")
    monkeypatch.setenv("APP_DB__PORT", "not-a-port")
    with pytest.raises(SettingsError, match=r"APP_DB__PORT: Input should be a valid integer"):
        NestedSettings.load()


def test_an_invalid_value_is_named_but_never_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    class Strict(AppSettings):
        secret_key: SecretStr = Field(min_length=32)

    leaked = "half-pasted-secret-value"
    monkeypatch.setenv("APP_SECRET_KEY", leaked)
    monkeypatch.setenv("APP_WORKERS", "many")
    with pytest.raises(SettingsError) as caught:
        Strict.load()
    message = str(caught.value)
    assert "APP_SECRET_KEY: Value should have at least 32 items" in message
    assert "APP_WORKERS: Input should be a valid integer" in message
    assert "2 setting(s)" in message
    shown = "".join(traceback.format_exception(caught.value))
    assert leaked not in shown
    assert "many" not in shown
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert all("input" not in error for error in caught.value.errors)


def test_cached_loads_once_per_process_even_from_many_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[int] = []

    class Counted(AppSettings):
        def model_post_init(self, context: object, /) -> None:
            loads.append(1)

    monkeypatch.setenv("APP_SECRET_KEY", "first")
    barrier = threading.Barrier(8)
    seen: list[Counted] = []

    def read() -> None:
        barrier.wait(timeout=30)
        seen.append(Counted.cached())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(seen) == 8
    assert all(s is seen[0] for s in seen)
    assert len(loads) == 1
    monkeypatch.setenv("APP_SECRET_KEY", "second")
    assert Counted.cached().secret_key.get_secret_value() == "first"
    Counted.cache_clear()
    assert Counted.cached().secret_key.get_secret_value() == "second"
    assert len(loads) == 2


Config = Annotated[AppSettings, Depends(AppSettings.dependency())]


def settings_app() -> QakeAPI:
    app = QakeAPI()

    @app.get("/config")
    async def config(settings: Config) -> dict[str, object]:
        return {"database_url": settings.database_url, "settings_id": id(settings)}

    @app.get("/config-sync")
    def config_sync(settings: Config) -> dict[str, object]:
        return {"database_url": settings.database_url, "settings_id": id(settings)}

    AppSettings.preload(app)
    return app


def test_the_dependency_gives_the_process_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_SECRET_KEY", "s")
    monkeypatch.setenv("APP_DATABASE_URL", "postgresql://db/app")
    assert AppSettings.dependency() is AppSettings.dependency()
    assert AppSettings.dependency() is not NestedSettings.dependency()
    with TestClient(settings_app()) as client:
        answers = [client.get(path).json() for path in ("/config", "/config-sync", "/config")]
    assert {a["database_url"] for a in answers} == {"postgresql://db/app"}
    assert {a["settings_id"] for a in answers} == {id(AppSettings.cached())}


def test_tests_override_the_settings_without_any_environment() -> None:
    app = settings_app()
    app.dependency_overrides[AppSettings.dependency()] = lambda: AppSettings.load(
        secret_key="test-secret", database_url="sqlite:///:memory:"
    )
    with TestClient(app) as client:  # preload skips overridden settings
        assert client.get("/config").json()["database_url"] == "sqlite:///:memory:"
        assert client.get("/config-sync").json()["database_url"] == "sqlite:///:memory:"
    app.dependency_overrides.clear()


def test_preload_fails_the_startup_not_a_request() -> None:
    app = settings_app()
    reached: list[str] = []
    failed = pytest.raises(LifespanError, match=r"(?s)startup failed.*APP_SECRET_KEY: missing")
    with failed, TestClient(app) as client:
        reached.append(client.get("/config").text)  # pragma: no cover
    assert reached == []


APP_MODULE = """
from typing import Annotated

from pydantic import SecretStr

from qakeapi import Depends, QakeAPI, Settings, SettingsConfigDict


class ServiceSettings(Settings):
    model_config = SettingsConfigDict(env_prefix="SERVICE_")
    secret_key: SecretStr
    database_url: str = "sqlite:///service.sqlite3"


app = QakeAPI()
ServiceSettings.preload(app)


@app.get("/")
async def index(
    settings: Annotated[ServiceSettings, Depends(ServiceSettings.dependency())],
) -> dict[str, str]:
    return {"database_url": settings.database_url}
"""


def test_qake_run_exits_with_the_variable_to_set(tmp_path: Path) -> None:
    (tmp_path / "service_app.py").write_text(textwrap.dedent(APP_MODULE))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    run = subprocess.run(
        [sys.executable, "-m", "qakeapi", "run", "service_app:app", "--port", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "SERVICE_SECRET_KEY: missing, set it" in run.stderr
    assert "Application startup failed" in run.stderr
    assert "Uvicorn running" not in run.stderr


def test_without_pydantic_settings_the_error_names_the_extra() -> None:
    code = (
        "import sys\n"
        "import qakeapi\n"
        "assert 'pydantic_settings' not in sys.modules, 'import qakeapi stays cheap'\n"
        "sys.modules['pydantic_settings'] = None\n"
        "try:\n"
        "    qakeapi.Settings\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'qake-core[settings]'" in out.stdout


def test_the_docs_page_app_and_its_tests_pass(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # ~2 s of unrelated plugins
    page = (ROOT / "docs" / "settings.md").read_text("utf-8")
    files = dict(re.findall(r'```python title="([\w.]+)"\n(.*?)```', page, re.DOTALL))
    assert set(files) == {"settings_app.py", "test_settings_app.py"}
    for name, code in files.items():
        pytester.path.joinpath(name).write_text(code)
    result = pytester.runpytest_subprocess(
        "-W", "error", "-p", "no:cacheprovider", "test_settings_app.py"
    )
    result.assert_outcomes(passed=4)


#: Each example's settings class, its variables and their defaults (unchanged from the
#: examples' former ``os.environ`` reads).
EXAMPLES = {
    "examples.auth_app:AuthAppSettings": {
        "AUTH_APP_SECRET": ("secret", None),
        "AUTH_APP_DB": ("db", ":memory:"),
        "AUTH_APP_ADMIN_PASSWORD": ("admin_password", None),
        "AUTH_APP_REDIS": ("redis", None),
    },
    "examples.websocket_app:ChatEnvironment": {
        "CHAT_APP_SECRET": ("secret", None),
        "CHAT_APP_DB": ("db", ":memory:"),
        "CHAT_APP_USERS": ("users", ""),
        "CHAT_REDIS_URL": ("redis_url", None),
    },
    "examples.db_app:DbAppSettings": {
        "DB_APP_SQLITE": ("sqlite", str(Path(tempfile.gettempdir()) / "qakeapi-db-app.sqlite3")),
        "DB_APP_DSN": ("dsn", None),
        "DB_APP_SCHEMA": ("db_schema", None),
    },
}


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


@pytest.mark.parametrize("target", sorted(EXAMPLES))
def test_the_examples_read_their_variables_from_every_source(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, _, name = target.partition(":")
    monkeypatch.syspath_prepend(str(ROOT))
    cls: type[Settings] = getattr(importlib.import_module(module), name)
    variables = EXAMPLES[target]
    for variable in variables:
        monkeypatch.delenv(variable, raising=False)
    defaults = cls.load()
    assert {v: _plain(getattr(defaults, a)) for v, (a, _) in variables.items()} == {
        v: default for v, (_, default) in variables.items()
    }
    for variable, (attribute, _) in variables.items():
        monkeypatch.setenv(variable, f"env:{variable}")
        assert _plain(getattr(cls.load(), attribute)) == f"env:{variable}"
        monkeypatch.setenv(variable, "")  # empty: the default again
        assert _plain(getattr(cls.load(), attribute)) == variables[variable][1]
        monkeypatch.delenv(variable)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for variable in variables:
        (secrets / variable.lower()).write_text(f"file:{variable}\n")
    (tmp_path / ".env").write_text("".join(f"{v}=dotenv:{v}\n" for v in list(variables)[:1]))
    loaded = cls.load(_secrets_dir=secrets)
    first, *others = variables.items()
    assert _plain(getattr(loaded, first[1][0])) == f"dotenv:{first[0]}"  # .env over secrets
    for variable, (attribute, _) in others:
        assert _plain(getattr(loaded, attribute)) == f"file:{variable}"
