"""Authorization: requires(...) and Permission at route, router and app level; 401 vs
403; a denied request runs neither the handler nor its dependencies."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
import pytest
from pydantic import BaseModel

from qake_core import App, Depends, Request, Router
from qake_security import (
    AuthCredentials,
    BaseUser,
    HasRole,
    HasScope,
    HTTPBasic,
    IsAuthenticated,
    Permission,
    SimpleUser,
    requires,
    set_user,
    user_of,
)
from qake_testing import TestClient
from qakeapi import QakeAPI


class HeaderAuth:
    """A tiny authenticator: ``X-User: alice``, ``X-Roles: a,b``, ``X-Scopes: s t``."""

    challenge = 'Basic realm="test"'

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, request: Request) -> BaseUser:
        self.calls += 1
        name = request.headers.get("x-user")
        if name:
            roles = [r for r in request.headers.get("x-roles", "").split(",") if r]
            scopes = frozenset(request.headers.get("x-scopes", "").split())
            set_user(request.scope, SimpleUser(name, roles), AuthCredentials("test", scopes))
        return user_of(request.scope)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def dependency(self, name: str) -> Any:
        async def record() -> str:
            self.calls.append(name)
            return name

        return record


def as_user(name: str, roles: str = "", scopes: str = "") -> dict[str, str]:
    return {"x-user": name, "x-roles": roles, "x-scopes": scopes}


def check_refused(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_route_level_401_403_200_and_nothing_runs_when_denied() -> None:
    auth, seen = HeaderAuth(), Recorder()
    app = App(dependencies=[Depends(auth)])

    @app.get(
        "/admin", dependencies=[requires("admin"), Depends(seen.dependency("route-dependency"))]
    )
    async def admin(
        side: Annotated[str, Depends(seen.dependency("handler-dependency"))],
    ) -> dict[str, str]:
        seen.calls.append("handler")
        return {"ok": side}

    client = TestClient(app)
    anonymous = client.get("/admin")
    check_refused(anonymous, 401)
    assert anonymous.headers["www-authenticate"] == "Bearer"  # no auth= named a challenge
    check_refused(client.get("/admin", headers=as_user("bob", "editor")), 403)
    assert "www-authenticate" not in client.get("/admin", headers=as_user("bob")).headers
    assert seen.calls == []
    allowed = client.get("/admin", headers=as_user("ann", "editor,admin"))
    assert allowed.status_code == 200
    assert seen.calls == ["route-dependency", "handler-dependency", "handler"]


def test_auth_runs_first_and_names_the_challenge() -> None:
    auth, seen = HeaderAuth(), Recorder()
    app = App()

    @app.delete("/items/{item_id}", dependencies=[requires("admin", auth=auth)])
    async def delete(item_id: int) -> dict[str, int]:
        seen.calls.append("handler")
        return {"deleted": item_id}

    client = TestClient(app)
    refused = client.delete("/items/3")
    check_refused(refused, 401)
    assert refused.headers["www-authenticate"] == 'Basic realm="test"'
    assert auth.calls == 1
    check_refused(client.delete("/items/3", headers=as_user("bob")), 403)
    ok = client.delete("/items/3", headers=as_user("root", "admin"))
    assert ok.json() == {"deleted": 3}
    assert seen.calls == ["handler"]


def test_router_and_app_level() -> None:
    auth, seen = HeaderAuth(), Recorder()
    app = App(dependencies=[Depends(auth)])
    admin = Router(prefix="/admin", dependencies=[requires("admin")])

    @admin.get("/stats")
    async def stats() -> dict[str, int]:
        seen.calls.append("stats")
        return {"users": 2}

    @app.get("/public")
    async def public() -> dict[str, bool]:
        return {"public": True}

    app.include_router(admin)
    client = TestClient(app)
    assert client.get("/public").status_code == 200
    check_refused(client.get("/admin/stats"), 401)
    check_refused(client.get("/admin/stats", headers=as_user("bob")), 403)
    assert seen.calls == []
    assert client.get("/admin/stats", headers=as_user("ann", "admin")).json() == {"users": 2}

    guarded = App(dependencies=[requires(IsAuthenticated, auth=auth)])

    @guarded.get("/me")
    async def me(request: Request) -> dict[str, str]:
        return {"me": request.user.identity}

    client = TestClient(guarded)
    check_refused(client.get("/me"), 401)
    assert client.get("/me", headers=as_user("zoe")).json() == {"me": "zoe"}


def test_depends_requires_returns_the_user() -> None:
    auth = HeaderAuth()
    app = App()

    @app.get("/whoami")
    async def whoami(
        user: Annotated[BaseUser, Depends(requires("staff", auth=auth))],
    ) -> dict[str, Any]:
        return {"identity": user.identity, "roles": sorted(user.roles)}

    client = TestClient(app)
    check_refused(client.get("/whoami"), 401)
    answer = client.get("/whoami", headers=as_user("ann", "staff,x"))
    assert answer.json() == {"identity": "ann", "roles": ["staff", "x"]}


def test_permissions_combine_and_async_checks_see_path_params() -> None:
    auth = HeaderAuth()
    app = App(dependencies=[Depends(auth)])
    checked: list[Any] = []

    async def owns_account(request: Request) -> bool:
        await anyio.sleep(0)
        checked.append(request.path_params["account_id"])
        user = user_of(request.scope)
        return bool(user.identity == f"user{request.path_params['account_id']}")

    is_owner = Permission(owns_account, name="owner")
    frozen = Permission(lambda request: request.path_params["account_id"] == 13, name="frozen")

    @app.get(
        "/accounts/{account_id:int}",
        dependencies=[requires((HasRole("admin") | is_owner) & ~frozen)],
    )
    async def account(account_id: int) -> dict[str, int]:
        return {"account": account_id}

    client = TestClient(app)
    assert client.get("/accounts/7", headers=as_user("user7")).status_code == 200
    assert checked == [7]  # converted by the router: an int
    check_refused(client.get("/accounts/7", headers=as_user("user8")), 403)
    assert client.get("/accounts/7", headers=as_user("boss", "admin")).status_code == 200
    assert checked == [7, 7]  # "admin" short-circuits the owner check
    check_refused(client.get("/accounts/13", headers=as_user("boss", "admin")), 403)
    check_refused(client.get("/accounts/7"), 401)


def test_scopes_and_several_needs_all_required() -> None:
    auth = HeaderAuth()
    app = App(dependencies=[Depends(auth)])

    @app.post("/items", dependencies=[requires("editor", HasScope("items:write"))])
    async def create() -> dict[str, bool]:
        return {"created": True}

    client = TestClient(app)
    check_refused(client.post("/items", headers=as_user("ann", "editor", "items:read")), 403)
    check_refused(client.post("/items", headers=as_user("ann", "", "items:write")), 403)
    ok = client.post("/items", headers=as_user("ann", "editor", "items:read items:write"))
    assert ok.status_code == 200


class Item(BaseModel):
    name: str


def test_denied_before_the_body_is_judged_and_before_yield_dependencies() -> None:
    auth, events = HeaderAuth(), []

    async def transaction() -> AsyncIterator[str]:
        events.append("begin")
        yield "tx"
        events.append("commit")

    app = App(dependencies=[Depends(auth)])

    @app.post("/items", dependencies=[requires("admin")], status_code=201)
    async def create(item: Item, tx: Annotated[str, Depends(transaction)]) -> Item:
        events.append("handler")
        return item

    client = TestClient(app)
    # an invalid body from an anonymous client: 401, not a 422 that describes the model
    check_refused(client.post("/items", json={"wrong": 1}), 401)
    check_refused(client.post("/items", json={"name": "x"}, headers=as_user("bob")), 403)
    assert events == []
    created = client.post("/items", json={"name": "x"}, headers=as_user("root", "admin"))
    assert created.status_code == 201
    assert events == ["begin", "handler", "commit"]


def test_mistakes_fail_at_startup_with_the_fix() -> None:
    with pytest.raises(TypeError, match=r"requires\('admin'\)"):
        requires()
    with pytest.raises(TypeError, match=r"requires\(\*roles\)"):
        requires(["admin", "staff"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Permission"):
        requires(lambda request: True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="role names"):
        requires(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="authentication dependency"):
        requires("admin", auth="jwt")
    with pytest.raises(TypeError, match="one role"):
        HasRole("")
    with pytest.raises(TypeError, match="one scope"):
        HasScope("a b")
    with pytest.raises(TypeError, match="not callable"):
        Permission("admin")  # type: ignore[arg-type]


def test_a_check_that_forgets_to_return_fails_closed() -> None:
    forgot = Permission(lambda request: None, name="forgot")  # type: ignore[arg-type,return-value]
    request = Request({"type": "http", "headers": [], "path_params": {}})
    for permission in (forgot, ~forgot, forgot | IsAuthenticated):
        with pytest.raises(TypeError, match="return True or False"):
            anyio.run(permission.allows, request)

    app = App()

    @app.get("/x", dependencies=[requires(~forgot)])
    async def x() -> dict[str, bool]:
        return {"reached": True}

    response = TestClient(app, raise_server_exceptions=False).get("/x")
    assert response.status_code == 500
    assert "reached" not in response.text


def test_sync_combinations_stay_sync_and_names_read_well() -> None:
    combined = (HasRole("a") | HasRole("b")) & ~HasScope("x")
    assert not combined.is_async
    assert repr(combined) == "Permission(((HasRole('a') | HasRole('b')) & ~HasScope('x')))"

    async def later(request: Request) -> bool:
        return True

    assert (combined | Permission(later)).is_async
    assert requires("admin").__name__ == "requires[HasRole('admin')]"


def test_the_auth_layer_shows_in_openapi_and_names_the_challenge() -> None:
    app = QakeAPI()
    basic = HTTPBasic(auto_error=False)

    @app.get("/reports", dependencies=[requires("auditor", auth=basic)])
    async def reports() -> dict[str, bool]:
        return {"ok": True}

    operation = app.openapi()["paths"]["/reports"]["get"]
    assert operation["security"] == [{"HTTPBasic": []}]
    refused = TestClient(app).get("/reports")
    check_refused(refused, 401)
    assert refused.headers["www-authenticate"] == "Basic"


@pytest.mark.parametrize("kinds", ["sync", "async", "mixed"])
def test_and_or_truth_tables_short_circuit(kinds: str) -> None:
    """``&`` and ``|`` give the boolean answer for every input, and the second check
    runs only when the first did not decide, whichever kind each check is."""
    calls: list[str] = []

    def make(label: str, value: bool, is_async: bool) -> Permission:
        def sync_check(request: Request) -> bool:
            calls.append(label)
            return value

        async def async_check(request: Request) -> bool:
            calls.append(label)
            return value

        return Permission(async_check if is_async else sync_check, name=label)

    for x in (False, True):
        for y in (False, True):
            for symbol, expected, decides in (("&", x and y, not x), ("|", x or y, x)):
                first = make("a", x, kinds != "sync")
                second = make("b", y, kinds == "async")
                combined = first & second if symbol == "&" else first | second
                app = App(dependencies=[requires(combined, auth=HeaderAuth())])

                @app.get("/")
                async def index() -> dict[str, bool]:
                    return {"ok": True}

                calls.clear()
                with TestClient(app) as client:
                    status = client.get("/", headers={"X-User": "u"}).status_code
                assert status == (200 if expected else 403), (x, symbol, y)
                assert calls == (["a"] if decides else ["a", "b"]), (x, symbol, y)
