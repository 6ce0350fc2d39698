"""FastAPI's security tutorial, ported by changing the imports only.

The apps below follow the patterns of FastAPI's documentation ("OAuth2 with Password
(and hashing), Bearer with JWT tokens", "OAuth2 scopes" with ``SecurityScopes``,
"HTTP Basic Auth" with ``secrets.compare_digest``, API keys), written for these
tests. What differs from a FastAPI app, and why:

* ``from qakeapi import ..., QakeAPI as FastAPI`` and ``from qakeapi.security import ...``
  instead of ``fastapi`` / ``fastapi.security``.
* qakeapi has no ``status`` module (FastAPI re-exports Starlette's): the small
  namespace below stands in for it.
* Password hashing uses the standard library's scrypt (the tutorial uses pwdlib, which
  is not installed here).
* Error bodies are RFC 9457 problem documents; their ``detail`` is FastAPI's.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Annotated, Any

import jwt
import pytest
from jwt.exceptions import InvalidTokenError
from pydantic import BaseModel, ValidationError

from qakeapi import Depends, HTTPException, Security
from qakeapi import QakeAPI as FastAPI
from qakeapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    SecurityScopes,
)
from qakeapi.testing import TestClient

# NOTE: stands in for `from fastapi import status` (not exported by qakeapi).
status = SimpleNamespace(HTTP_400_BAD_REQUEST=400, HTTP_401_UNAUTHORIZED=401)

# ------------------------------------------------------------ password hashing


def get_password_hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**12, r=8, p=1)
    return f"{salt.hex()}${digest.hex()}"


def verify_password(plain_password: str, hashed_password: str) -> bool:
    salt, _, digest = hashed_password.partition("$")
    candidate = hashlib.scrypt(plain_password.encode(), salt=bytes.fromhex(salt), n=2**12, r=8, p=1)
    return secrets.compare_digest(candidate.hex(), digest)


# ------------------------------------------------- OAuth2 scopes with JWT tokens

SECRET_KEY = secrets.token_hex(32)
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE_MINUTES = 30

fake_users_db: dict[str, dict[str, Any]] = {
    "johndoe": {
        "username": "johndoe",
        "full_name": "John Doe",
        "email": "johndoe@example.com",
        "hashed_password": get_password_hash("secret"),
        "disabled": False,
    },
    "alice": {
        "username": "alice",
        "full_name": "Alice Chains",
        "email": "alicechains@example.com",
        "hashed_password": get_password_hash("secret2"),
        "disabled": True,
    },
}


class Token(BaseModel):
    access_token: str
    token_type: str


class TokenData(BaseModel):
    username: str | None = None
    scopes: list[str] = []


class User(BaseModel):
    username: str
    email: str | None = None
    full_name: str | None = None
    disabled: bool | None = None


class UserInDB(User):
    hashed_password: str


oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="token",
    scopes={"me": "Read information about the current user.", "items": "Read items."},
)

app = FastAPI()


def get_user(db: dict[str, Any], username: str | None) -> UserInDB | None:
    if username in db:
        user_dict = db[username]
        return UserInDB(**user_dict)
    return None


def authenticate_user(fake_db: dict[str, Any], username: str, password: str) -> Any:
    user = get_user(fake_db, username)
    if not user:
        return False
    if not verify_password(password, user.hashed_password):
        return False
    return user


def create_access_token(data: dict[str, Any], expires_delta: timedelta | None = None) -> str:
    to_encode = data.copy()
    if expires_delta:
        expire = datetime.now(UTC) + expires_delta
    else:
        expire = datetime.now(UTC) + timedelta(minutes=15)
    to_encode.update({"exp": expire})
    encoded_jwt: str = jwt.encode(to_encode, SECRET_KEY, algorithm=ALGORITHM)
    return encoded_jwt


async def get_current_user(
    security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2_scheme)]
) -> User:
    if security_scopes.scopes:
        authenticate_value = f'Bearer scope="{security_scopes.scope_str}"'
    else:
        authenticate_value = "Bearer"
    credentials_exception = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": authenticate_value},
    )
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
        username = payload.get("sub")
        if username is None:
            raise credentials_exception
        scope: str = payload.get("scope", "")
        token_scopes = scope.split(" ")
        token_data = TokenData(scopes=token_scopes, username=username)
    except (InvalidTokenError, ValidationError):
        raise credentials_exception from None
    user = get_user(fake_users_db, username=token_data.username)
    if user is None:
        raise credentials_exception
    for scope in security_scopes.scopes:
        if scope not in token_data.scopes:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Not enough permissions",
                headers={"WWW-Authenticate": authenticate_value},
            )
    return user


async def get_current_active_user(
    current_user: Annotated[User, Security(get_current_user, scopes=["me"])],
) -> User:
    if current_user.disabled:
        raise HTTPException(status_code=400, detail="Inactive user")
    return current_user


@app.post("/token")
async def login_for_access_token(
    form_data: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    user = authenticate_user(fake_users_db, form_data.username, form_data.password)
    if not user:
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    access_token_expires = timedelta(minutes=ACCESS_TOKEN_EXPIRE_MINUTES)
    access_token = create_access_token(
        data={"sub": user.username, "scope": " ".join(form_data.scopes)},
        expires_delta=access_token_expires,
    )
    return Token(access_token=access_token, token_type="bearer")


@app.get("/users/me/", response_model=User)
async def read_users_me(current_user: Annotated[User, Depends(get_current_active_user)]) -> Any:
    return current_user


@app.get("/users/me/items/")
async def read_own_items(
    current_user: Annotated[User, Security(get_current_active_user, scopes=["items"])],
) -> Any:
    return [{"item_id": "Foo", "owner": current_user.username}]


@app.get("/status/")
async def read_system_status(current_user: Annotated[User, Depends(get_current_user)]) -> Any:
    return {"status": "ok"}


# ------------------------------------------------------------------ HTTP Basic

basic_app = FastAPI()

security = HTTPBasic()


def get_current_username(
    credentials: Annotated[HTTPBasicCredentials, Depends(security)],
) -> str:
    current_username_bytes = credentials.username.encode("utf8")
    correct_username_bytes = b"stanleyjobson"
    is_correct_username = secrets.compare_digest(current_username_bytes, correct_username_bytes)
    current_password_bytes = credentials.password.encode("utf8")
    correct_password_bytes = b"swordfish"
    is_correct_password = secrets.compare_digest(current_password_bytes, correct_password_bytes)
    if not (is_correct_username and is_correct_password):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Basic"},
        )
    return credentials.username


@basic_app.get("/users/me")
def read_current_user(username: Annotated[str, Depends(get_current_username)]) -> Any:
    return {"username": username}


# -------------------------------------------------------------------- API keys

key_app = FastAPI()

API_KEY = "supersecret"

api_key_header = APIKeyHeader(name="X-API-Key")
api_key_query = APIKeyQuery(name="api_key", auto_error=False)
api_key_cookie = APIKeyCookie(name="api_key", auto_error=False)


async def get_api_key(api_key: Annotated[str, Security(api_key_header)]) -> str:
    if not secrets.compare_digest(api_key, API_KEY):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid API key",
            headers={"WWW-Authenticate": "APIKey"},
        )
    return api_key


async def get_api_key_anywhere(
    from_query: Annotated[str | None, Security(api_key_query)],
    from_cookie: Annotated[str | None, Security(api_key_cookie)],
) -> str:
    for api_key in (from_query, from_cookie):
        if api_key is not None and secrets.compare_digest(api_key, API_KEY):
            return api_key
    raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Not authenticated")


@key_app.get("/protected-route")
async def protected_route(api_key: Annotated[str, Security(get_api_key)]) -> Any:
    return {"message": "You are authorized"}


@key_app.get("/items/")
async def read_items(api_key: Annotated[str, Depends(get_api_key_anywhere)]) -> Any:
    return [{"item_id": "Foo"}]


# ======================================================================= tests


def get_access_token(client: TestClient, username: str = "johndoe", scope: str = "") -> str:
    data = {"username": username, "password": "secret" if username == "johndoe" else "secret2"}
    if scope:
        data["scope"] = scope
    response = client.post("/token", data=data)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    token: str = body["access_token"]
    return token


@pytest.fixture
def client() -> Any:
    with TestClient(app) as c:
        yield c


def test_login(client: TestClient) -> None:
    token = get_access_token(client, scope="me items")
    claims = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
    assert claims["sub"] == "johndoe"
    assert claims["scope"] == "me items"


def test_login_incorrect_password(client: TestClient) -> None:
    response = client.post("/token", data={"username": "johndoe", "password": "incorrect"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Incorrect username or password"
    assert "incorrect" not in response.text.replace("Incorrect", "")


def test_login_incorrect_username(client: TestClient) -> None:
    response = client.post("/token", data={"username": "foo", "password": "secret"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Incorrect username or password"


def test_login_missing_fields_is_422(client: TestClient) -> None:
    response = client.post("/token", data={"password": "secret"})
    assert response.status_code == 422
    assert ["body", "username"] in [e["loc"] for e in response.json()["errors"]]
    assert "secret" not in response.text


def test_no_token(client: TestClient) -> None:
    response = client.get("/users/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Not authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token(client: TestClient) -> None:
    token = get_access_token(client, scope="me")
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {
        "username": "johndoe",
        "full_name": "John Doe",
        "email": "johndoe@example.com",
        "disabled": False,
    }


def test_incorrect_token(client: TestClient) -> None:
    response = client.get("/users/me", headers={"Authorization": "Bearer nonexistent"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Could not validate credentials"
    assert response.headers["WWW-Authenticate"] == 'Bearer scope="me"'


def test_incorrect_token_type(client: TestClient) -> None:
    response = client.get("/users/me", headers={"Authorization": "Notexistent testtoken"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Not authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_verify_password() -> None:
    assert verify_password("secret", fake_users_db["johndoe"]["hashed_password"])
    assert not verify_password("incorrect", fake_users_db["johndoe"]["hashed_password"])


def test_token_no_sub(client: TestClient) -> None:
    token = create_access_token({"scope": "me"})
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Could not validate credentials"


def test_token_no_username(client: TestClient) -> None:
    token = create_access_token({"sub": "foo", "scope": "me"})
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Could not validate credentials"


def test_token_no_scope(client: TestClient) -> None:
    token = get_access_token(client)
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Not enough permissions"
    assert response.headers["WWW-Authenticate"] == 'Bearer scope="me"'


def test_expired_token(client: TestClient) -> None:
    token = create_access_token({"sub": "johndoe", "scope": "me"}, timedelta(minutes=-5))
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Could not validate credentials"


def test_token_signed_with_another_key(client: TestClient) -> None:
    token = jwt.encode({"sub": "johndoe", "scope": "me"}, "x" * 32, algorithm=ALGORITHM)
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_token_inactive_user(client: TestClient) -> None:
    token = get_access_token(client, username="alice", scope="me")
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Inactive user"


def test_read_items(client: TestClient) -> None:
    token = get_access_token(client, scope="me items")
    response = client.get("/users/me/items/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == [{"item_id": "Foo", "owner": "johndoe"}]


def test_read_items_without_the_items_scope(client: TestClient) -> None:
    token = get_access_token(client, scope="me")
    response = client.get("/users/me/items/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Not enough permissions"
    # The scopes of every Security on the way, outermost first.
    assert response.headers["WWW-Authenticate"] == 'Bearer scope="items me"'


def test_read_system_status(client: TestClient) -> None:
    token = get_access_token(client)
    response = client.get("/status/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_read_system_status_no_token(client: TestClient) -> None:
    response = client.get("/status/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_openapi_schema(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"] == {
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {
                "password": {
                    "tokenUrl": "token",
                    "scopes": {
                        "me": "Read information about the current user.",
                        "items": "Read items.",
                    },
                }
            },
        }
    }
    paths = document["paths"]
    assert paths["/users/me/"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]
    assert paths["/users/me/items/"]["get"]["security"] == [
        {"OAuth2PasswordBearer": ["items", "me"]}
    ]
    assert paths["/status/"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
    assert "security" not in paths["/token"]["post"]
    body = paths["/token"]["post"]["requestBody"]
    assert list(body["content"]) == ["application/x-www-form-urlencoded"]


# ------------------------------------------------------------------ HTTP Basic


def basic_auth(username: str, password: str) -> tuple[str, str]:
    return (username, password)


def test_basic_auth() -> None:
    with TestClient(basic_app) as client:
        response = client.get("/users/me", auth=basic_auth("stanleyjobson", "swordfish"))
    assert response.status_code == 200
    assert response.json() == {"username": "stanleyjobson"}


def test_basic_auth_no_credentials() -> None:
    with TestClient(basic_app) as client:
        response = client.get("/users/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Not authenticated"
    assert response.headers["WWW-Authenticate"] == "Basic"


def test_basic_auth_invalid_header() -> None:
    with TestClient(basic_app) as client:
        response = client.get("/users/me", headers={"Authorization": "Basic notabase64token"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid authentication credentials"
    assert response.headers["WWW-Authenticate"] == "Basic"


def test_basic_auth_incorrect_credentials() -> None:
    with TestClient(basic_app) as client:
        wrong_password = client.get("/users/me", auth=basic_auth("stanleyjobson", "hunter2-x"))
        wrong_user = client.get("/users/me", auth=basic_auth("alice", "swordfish"))
    for response in (wrong_password, wrong_user):
        assert response.status_code == 401
        assert response.json()["detail"] == "Incorrect username or password"
        assert response.headers["WWW-Authenticate"] == "Basic"
    assert "hunter2" not in wrong_password.text


# -------------------------------------------------------------------- API keys


def test_api_key_header() -> None:
    with TestClient(key_app) as client:
        ok = client.get("/protected-route", headers={"X-API-Key": API_KEY})
        missing = client.get("/protected-route")
        wrong = client.get("/protected-route", headers={"X-API-Key": "guess"})
    assert ok.json() == {"message": "You are authorized"}
    assert missing.status_code == 401
    assert missing.json()["detail"] == "Not authenticated"
    assert missing.headers["WWW-Authenticate"] == "APIKey"
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Invalid API key"


def test_api_key_query_or_cookie() -> None:
    with TestClient(key_app) as client:
        by_query = client.get("/items/", params={"api_key": API_KEY})
        by_cookie = client.get("/items/", headers={"Cookie": f"api_key={API_KEY}"})
        missing = client.get("/items/")
        wrong = client.get("/items/", params={"api_key": "guess"})
    assert by_query.json() == [{"item_id": "Foo"}]
    assert by_cookie.json() == [{"item_id": "Foo"}]
    assert missing.status_code == 401
    assert wrong.status_code == 401


def test_api_key_schemes_in_openapi() -> None:
    with TestClient(key_app) as client:
        document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"] == {
        "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "APIKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
        "APIKeyCookie": {"type": "apiKey", "in": "cookie", "name": "api_key"},
    }
    assert document["paths"]["/items/"]["get"]["security"] == [
        {"APIKeyQuery": []},
        {"APIKeyCookie": []},
    ]
