"""The security dependencies with FastAPI's names: what each yields, its 401 and
challenge, ``auto_error=False``, malformed and hostile credentials, and secrecy."""

from __future__ import annotations

import base64
import logging
from typing import Annotated, Any

import pytest

from qake_core import PROBLEM_JSON, Depends, Security
from qake_security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    BasicLogin,
    HTTPAuthorizationCredentials,
    HTTPBase,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
)
from qakeapi import QakeAPI
from qakeapi.testing import TestClient

SECRET = "s3cr3t-Pa55word-never-shown"


def client_for(dependency: Any, *, secured: bool = False) -> TestClient:
    """An app whose ``/`` returns what ``dependency`` yields, as JSON."""
    app = QakeAPI()
    marker = Security(dependency, scopes=["read"]) if secured else Depends(dependency)

    @app.get("/")
    async def read(value: Any = marker) -> dict[str, Any]:
        if isinstance(value, HTTPAuthorizationCredentials):
            return {"scheme": value.scheme, "credentials": value.credentials}
        if isinstance(value, HTTPBasicCredentials):
            return {"username": value.username, "password": value.password}
        return {"value": value}

    return TestClient(app)


def basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def assert_401(response: Any, challenge: str, detail: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == challenge
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == 401
    if detail is not None:
        assert body["detail"] == detail


# ---------------------------------------------------------------- OAuth2PasswordBearer


def test_password_bearer_yields_the_token() -> None:
    with client_for(OAuth2PasswordBearer(tokenUrl="token")) as client:
        response = client.get("/", headers={"Authorization": "Bearer abc.DEF-_~+/="})
    assert response.status_code == 200
    assert response.json() == {"value": "abc.DEF-_~+/="}


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(scheme: str) -> None:
    with client_for(OAuth2PasswordBearer(tokenUrl="token")) as client:
        response = client.get("/", headers={"Authorization": f"{scheme} tok"})
    assert response.json() == {"value": "tok"}


def test_password_bearer_works_under_security_with_scopes() -> None:
    with client_for(OAuth2PasswordBearer(tokenUrl="token"), secured=True) as client:
        assert client.get("/", headers={"Authorization": "Bearer t"}).json() == {"value": "t"}
        assert_401(client.get("/"), "Bearer", "Not authenticated")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Basic dTpw"}, {"Authorization": "Token t"}],
)
def test_password_bearer_without_a_bearer_token_is_401(headers: dict[str, str]) -> None:
    with client_for(OAuth2PasswordBearer(tokenUrl="token")) as client:
        assert_401(client.get("/", headers=headers), "Bearer", "Not authenticated")


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Bearer a b",
        "Bearer tok,en",
        "Bearer <script>",
        'Bearer "quoted"',
        "Bearer " + "A" * 9000,
        "Bearer a=b",
    ],
)
def test_malformed_bearer_token_is_401_invalid_token(value: str) -> None:
    with client_for(OAuth2PasswordBearer(tokenUrl="token")) as client:
        response = client.get("/", headers={"Authorization": value})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "<script>" not in response.text
    assert "A" * 100 not in response.text


def test_two_authorization_headers_are_refused() -> None:
    with client_for(OAuth2PasswordBearer(tokenUrl="token")) as client:
        headers = [("Authorization", "Bearer one"), ("Authorization", "Bearer two")]
        response = client.get("/", headers=headers)
    assert response.status_code == 401


def test_invalid_scheme_token_is_401_not_500() -> None:
    with client_for(OAuth2PasswordBearer(tokenUrl="token")) as client:
        response = client.get("/", headers={"Authorization": "Be@rer tok"})
    assert_401(response, "Bearer", "Not authenticated")


@pytest.mark.parametrize("value", [None, "Basic dTpw", "Bearer a b", "Bearer " + "x" * 9000])
def test_password_bearer_auto_error_false_yields_none(value: str | None) -> None:
    headers = {} if value is None else {"Authorization": value}
    with client_for(OAuth2PasswordBearer(tokenUrl="token", auto_error=False)) as client:
        response = client.get("/", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"value": None}


def test_password_bearer_scheme() -> None:
    scheme = OAuth2PasswordBearer(
        tokenUrl="/token", scopes={"me": "Read me"}, refreshUrl="/refresh", description="Log in"
    )
    assert scheme.scheme_name == "OAuth2PasswordBearer"
    assert scheme.security_scheme == {
        "type": "oauth2",
        "flows": {
            "password": {
                "tokenUrl": "/token",
                "refreshUrl": "/refresh",
                "scopes": {"me": "Read me"},
            }
        },
        "description": "Log in",
    }
    assert OAuth2PasswordBearer("/t", scheme_name="login").scheme_name == "login"
    assert OAuth2PasswordBearer("/t").security_scheme["flows"]["password"]["scopes"] == {}


# ------------------------------------------------------------ other OAuth2 classes


def test_authorization_code_bearer() -> None:
    scheme = OAuth2AuthorizationCodeBearer(
        authorizationUrl="https://id.example/authorize",
        tokenUrl="https://id.example/token",
        scopes={"openid": "OpenID"},
    )
    assert scheme.security_scheme == {
        "type": "oauth2",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": "https://id.example/authorize",
                "tokenUrl": "https://id.example/token",
                "scopes": {"openid": "OpenID"},
            }
        },
    }
    with client_for(scheme) as client:
        assert client.get("/", headers={"Authorization": "Bearer c0de"}).json() == {"value": "c0de"}
        assert_401(client.get("/"), "Bearer", "Not authenticated")


def test_oauth2_base_yields_the_raw_header_and_checks_its_flows() -> None:
    scheme = OAuth2(flows={"clientCredentials": {"tokenUrl": "/token"}})
    assert scheme.security_scheme == {
        "type": "oauth2",
        "flows": {"clientCredentials": {"tokenUrl": "/token", "scopes": {}}},
    }
    with client_for(scheme) as client:
        assert client.get("/", headers={"Authorization": "Custom x"}).json() == {
            "value": "Custom x"
        }
        assert_401(client.get("/"), "Bearer")
    with pytest.raises(ValueError, match="unknown OAuth2 flow 'magic'"):
        OAuth2(flows={"magic": {}})
    with pytest.raises(ValueError, match="'authorizationCode' flow needs tokenUrl"):
        OAuth2(flows={"authorizationCode": {"authorizationUrl": "/a"}})


# ---------------------------------------------------------------------- HTTPBearer


def test_http_bearer() -> None:
    scheme = HTTPBearer(bearerFormat="JWT")
    assert scheme.security_scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert scheme.scheme_name == "HTTPBearer"
    with client_for(scheme) as client:
        ok = client.get("/", headers={"Authorization": "Bearer xyz"})
        assert ok.json() == {"scheme": "Bearer", "credentials": "xyz"}
        assert_401(client.get("/"), "Bearer", "Not authenticated")
        other = client.get("/", headers={"Authorization": "Basic dTpw"})
        assert_401(other, "Bearer", "Invalid authentication credentials")
        assert client.get("/", headers={"Authorization": "Bearer a b"}).status_code == 401
        assert client.get("/", headers={"Authorization": "Bearer"}).status_code == 401


def test_http_bearer_auto_error_false() -> None:
    with client_for(HTTPBearer(auto_error=False)) as client:
        assert client.get("/").json() == {"value": None}
        assert client.get("/", headers={"Authorization": "Digest x"}).json() == {"value": None}


def test_credentials_repr_hides_the_secret() -> None:
    assert SECRET not in repr(HTTPAuthorizationCredentials("Bearer", SECRET))
    assert SECRET not in repr(HTTPBasicCredentials("alice", SECRET))


# ----------------------------------------------------------------------- HTTPBasic


def test_http_basic_yields_the_credentials() -> None:
    with client_for(HTTPBasic()) as client:
        response = client.get("/", headers=basic(b"alice:pa:ss word"))
    # RFC 7617: the user-id ends at the first colon; the password may hold colons.
    assert response.json() == {"username": "alice", "password": "pa:ss word"}


def test_http_basic_reads_utf8_then_latin1() -> None:
    with client_for(HTTPBasic()) as client:
        utf8 = client.get("/", headers=basic("jürgen:pässwörd".encode()))
        latin1 = client.get("/", headers=basic("jürgen:pässwörd".encode("latin-1")))
    assert utf8.json() == {"username": "jürgen", "password": "pässwörd"}
    assert latin1.json() == {"username": "jürgen", "password": "pässwörd"}


def test_http_basic_missing_is_401_with_challenge() -> None:
    with client_for(HTTPBasic()) as client:
        assert_401(client.get("/"), "Basic", "Not authenticated")
        assert_401(client.get("/", headers={"Authorization": "Bearer x"}), "Basic")
    with client_for(HTTPBasic(realm="simple")) as client:
        assert_401(client.get("/"), 'Basic realm="simple"')


def test_http_basic_realm_is_quoted_and_checked() -> None:
    assert HTTPBasic(realm='the "inner" \\ zone').challenge == (
        'Basic realm="the \\"inner\\" \\\\ zone"'
    )
    with pytest.raises(ValueError, match="control characters"):
        HTTPBasic(realm="a\r\nSet-Cookie: x=1")


@pytest.mark.parametrize(
    "value",
    [
        "Basic",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic dTpw dTpw",
        "Basic dTp",  # bad padding
        "Basic " + base64.b64encode(b"u:" + b"p" * 9000).decode(),
    ],
)
def test_http_basic_malformed_is_401_never_500(value: str) -> None:
    with client_for(HTTPBasic(realm="r")) as client:
        response = client.get("/", headers={"Authorization": value})
    assert_401(response, 'Basic realm="r"')
    assert response.json()["detail"] in ("Invalid authentication credentials", "Not authenticated")


@pytest.mark.parametrize(
    "raw", [b"alice\r\nX-Injected: 1:pw", b"alice:pw\x00", b"al\x7fice:pw", "al\x85ice:pw".encode()]
)
def test_http_basic_refuses_control_characters(raw: bytes) -> None:
    # RFC 7617 section 2: no control characters in the user-id or password (a user name
    # with CR LF would forge lines in the application's logs).
    with client_for(HTTPBasic()) as client:
        response = client.get("/", headers=basic(raw))
    assert_401(response, "Basic", "Invalid authentication credentials")


@pytest.mark.parametrize("value", [None, "Basic !!!", "Bearer t"])
def test_http_basic_auto_error_false(value: str | None) -> None:
    headers = {} if value is None else {"Authorization": value}
    with client_for(HTTPBasic(auto_error=False)) as client:
        assert client.get("/", headers=headers).json() == {"value": None}


def test_http_basic_password_is_not_in_the_error() -> None:
    with client_for(HTTPBasic()) as client:
        bad = base64.b64encode(SECRET.encode()).decode()  # no colon: malformed
        response = client.get("/", headers={"Authorization": f"Basic {bad}"})
    assert response.status_code == 401
    assert SECRET not in response.text
    assert bad not in response.text


def test_http_basic_scheme() -> None:
    scheme = HTTPBasic(scheme_name="basicAuth", description="Staff only")
    assert scheme.scheme_name == "basicAuth"
    assert scheme.security_scheme == {
        "type": "http",
        "scheme": "basic",
        "description": "Staff only",
    }


# ------------------------------------------------------------- HTTPBase, HTTPDigest


def test_http_base_yields_any_scheme() -> None:
    scheme = HTTPBase(scheme="hoba", scheme_name="hoba")
    assert scheme.security_scheme == {"type": "http", "scheme": "hoba"}
    with client_for(scheme) as client:
        ok = client.get("/", headers={"Authorization": "Other abc"})
        assert ok.json() == {"scheme": "Other", "credentials": "abc"}
        assert_401(client.get("/"), "Hoba", "Not authenticated")
        bare = client.get("/", headers={"Authorization": "Other"})
        assert_401(bare, "Hoba", "Invalid authentication credentials")


def test_http_digest_extracts_the_credentials() -> None:
    scheme = HTTPDigest()
    assert scheme.security_scheme == {"type": "http", "scheme": "digest"}
    value = 'username="Mufasa", realm="x", nonce="abc", uri="/", response="123"'
    with client_for(scheme) as client:
        ok = client.get("/", headers={"Authorization": f"Digest {value}"})
        assert ok.json() == {"scheme": "Digest", "credentials": value}
        assert_401(client.get("/"), "Digest", "Not authenticated")
        wrong = client.get("/", headers={"Authorization": "Bearer t"})
        assert_401(wrong, "Digest", "Invalid authentication credentials")
    with client_for(HTTPDigest(auto_error=False)) as client:
        assert client.get("/").json() == {"value": None}


# ------------------------------------------------------------------------ API keys


def test_api_key_header() -> None:
    scheme = APIKeyHeader(name="X-API-Key")
    assert scheme.security_scheme == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert scheme.scheme_name == "APIKeyHeader"
    with client_for(scheme) as client:
        assert client.get("/", headers={"x-api-key": "k1"}).json() == {"value": "k1"}
        assert_401(client.get("/"), "APIKey", "Not authenticated")
        assert_401(client.get("/", headers={"X-API-Key": ""}), "APIKey")
        assert_401(client.get("/", headers={"X-API-Key": "k" * 9000}), "APIKey")


def test_api_key_query() -> None:
    scheme = APIKeyQuery(name="api_key")
    assert scheme.security_scheme == {"type": "apiKey", "in": "query", "name": "api_key"}
    with client_for(scheme) as client:
        assert client.get("/?api_key=k2").json() == {"value": "k2"}
        assert_401(client.get("/?other=k2"), "APIKey", "Not authenticated")
        assert_401(client.get("/?api_key="), "APIKey")


def test_api_key_cookie() -> None:
    scheme = APIKeyCookie(name="session_key", description="From the login page")
    assert scheme.security_scheme == {
        "type": "apiKey",
        "in": "cookie",
        "name": "session_key",
        "description": "From the login page",
    }
    with client_for(scheme) as client:
        assert client.get("/", headers={"Cookie": "session_key=k3"}).json() == {"value": "k3"}
        assert_401(client.get("/", headers={"Cookie": "other=k3"}), "APIKey")


@pytest.mark.parametrize(
    "scheme", [APIKeyHeader(name="k", auto_error=False), APIKeyQuery(name="k", auto_error=False)]
)
def test_api_key_auto_error_false(scheme: Any) -> None:
    with client_for(scheme) as client:
        assert client.get("/").json() == {"value": None}


def test_api_key_needs_a_name() -> None:
    with pytest.raises(ValueError, match="name"):
        APIKeyHeader(name="")


def test_scheme_repr_names_the_scheme_only() -> None:
    assert repr(APIKeyHeader(name="X-Key", scheme_name="key")) == "APIKeyHeader(scheme_name='key')"


# --------------------------------------------------------- OAuth2PasswordRequestForm


def form_client(form_class: type[OAuth2PasswordRequestForm]) -> TestClient:
    app = QakeAPI()

    @app.post("/token")
    async def login(form_data: Any = Depends(form_class)) -> Any:
        return {
            "grant_type": form_data.grant_type,
            "username": form_data.username,
            "password_length": len(form_data.password),
            "scopes": form_data.scopes,
            "client_id": form_data.client_id,
            "has_secret": form_data.client_secret is not None,
            "repr": repr(form_data),
        }

    return TestClient(app)


def test_password_request_form_reads_the_fields() -> None:
    with form_client(OAuth2PasswordRequestForm) as client:
        response = client.post(
            "/token",
            data={
                "username": "alice",
                "password": SECRET,
                "scope": "  items:read   me ",
                "client_id": "cli",
                "client_secret": "cs-" + SECRET,
            },
        )
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "alice"
    assert body["password_length"] == len(SECRET)
    assert body["scopes"] == ["items:read", "me"]
    assert body["grant_type"] is None
    assert body["client_id"] == "cli"
    assert body["has_secret"] is True
    assert SECRET not in body["repr"]


def test_password_request_form_with_depends_and_no_argument() -> None:
    app = QakeAPI()

    # FastAPI's spelling: the class is the dependency, its __init__'s Form() parameters
    # are read from the body.
    @app.post("/token")
    async def login(form_data: OAuth2PasswordRequestForm = Depends()) -> dict[str, str]:  # type: ignore[assignment]
        return {"username": form_data.username}

    @app.post("/token2")
    async def login2(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        return {"username": form_data.username}

    with TestClient(app) as client:
        for url in ("/token", "/token2"):
            ok = client.post(url, data={"username": "bob", "password": "x"})
            assert ok.json() == {"username": "bob"}
            missing = client.post(url, data={"username": "bob"})
            assert missing.status_code == 422
            assert ["body", "password"] in [e["loc"] for e in missing.json()["errors"]]


def test_password_request_form_refuses_another_grant_type() -> None:
    with form_client(OAuth2PasswordRequestForm) as client:
        data = {"username": "a", "password": SECRET, "grant_type": "client_credentials"}
        response = client.post("/token", data=data)
    assert response.status_code == 422
    assert SECRET not in response.text


def test_strict_form_requires_grant_type_password() -> None:
    with form_client(OAuth2PasswordRequestFormStrict) as client:
        ok = client.post(
            "/token", data={"grant_type": "password", "username": "a", "password": SECRET}
        )
        missing = client.post("/token", data={"username": "a", "password": SECRET})
        wrong = client.post(
            "/token", data={"grant_type": "implicit", "username": "a", "password": SECRET}
        )
    assert ok.status_code == 200
    assert ok.json()["grant_type"] == "password"
    for bad in (missing, wrong):
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith(PROBLEM_JSON)
        assert [e["loc"] for e in bad.json()["errors"]] == [["body", "grant_type"]]
        assert SECRET not in bad.text


def test_password_never_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with form_client(OAuth2PasswordRequestFormStrict) as client:
        responses = [
            client.post("/token", data={"password": SECRET}),  # no username
            client.post("/token", data={"grant_type": "x", "username": "u", "password": SECRET}),
            client.post("/token", data={"grant_type": SECRET, "username": "u", "password": "p"}),
            client.post("/token", content=f"password={SECRET}&password={SECRET}&username[]=1"),
        ]
    for response in responses:
        assert 400 <= response.status_code < 500
        assert SECRET not in response.text
    assert caplog.records, "the requests were logged"
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in repr(record.__dict__)


def test_password_request_form_in_openapi() -> None:
    app = QakeAPI()

    @app.post("/token")
    async def login(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> None:
        return None

    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    body = document["paths"]["/token"]["post"]["requestBody"]
    assert "application/x-www-form-urlencoded" in body["content"]
    schemas = document["components"]["schemas"]
    (form_schema,) = (s for name, s in schemas.items() if name.startswith("Body_"))
    assert form_schema["properties"]["password"]["format"] == "password"
    assert form_schema["properties"]["grant_type"]["anyOf"][0]["pattern"] == "^password$"
    assert sorted(form_schema["required"]) == ["password", "username"]


# -------------------------------------------------------------------- BasicLogin


def test_basic_login_provider_with_login_as() -> None:
    app = QakeAPI()
    security = HTTPBasic()
    app.state.login_provider = BasicLogin({"alice": "wonder:land"})

    @app.get("/me")
    async def me(credentials: Any = Depends(security)) -> Any:
        return {"username": credentials.username, "password": credentials.password}

    with TestClient(app) as client:
        assert client.get("/me").status_code == 401
        client.login_as("alice")
        assert client.get("/me").json() == {"username": "alice", "password": "wonder:land"}
        with pytest.raises(LookupError, match="'mallory'"):
            client.login_as("mallory")
        with pytest.raises(ValueError, match="no roles"):
            client.login_as("alice", roles=["admin"])
    assert "wonder" not in repr(app.state.login_provider)


def test_basic_login_refuses_a_user_id_with_a_colon() -> None:
    with pytest.raises(ValueError, match="RFC 7617"):
        BasicLogin({"a:b": "pw"}).login_credentials("a:b", ())
