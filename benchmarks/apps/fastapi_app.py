"""FastAPI, as its tutorial shows: decorators, typed parameters, a pydantic body.

S6 uses ``@app.middleware("http")`` (BaseHTTPMiddleware underneath), which is the form
the FastAPI docs teach.

S7 (``app_auth``) follows the security tutorial ("OAuth2 with Password, Bearer with JWT
tokens"): ``OAuth2PasswordBearer(tokenUrl="token")`` and a ``get_current_user``
dependency that decodes the token with PyJWT and raises 401 with
``WWW-Authenticate: Bearer``; Starlette's ``CORSMiddleware`` via ``app.add_middleware``;
the security header set by an ``@app.middleware("http")`` function, the form the FastAPI
docs teach for adding a header to every response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from apps.common import (
    CORS_ORIGIN,
    JWT_ALGORITHM,
    JWT_KEY,
    N_EXTRA,
    PLAINTEXT,
    STATIC_TEXT,
    Item,
    lazy_attribute,
)

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


class User(BaseModel):
    username: str


async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    credentials_exception = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        payload = jwt.decode(token, JWT_KEY, algorithms=[JWT_ALGORITHM])
    except jwt.InvalidTokenError:
        raise credentials_exception from None
    username = payload.get("sub")
    if username is None:
        raise credentials_exception
    return User(username=username)


def build(middleware: bool = False, extra: int = N_EXTRA, auth: bool = False) -> FastAPI:
    app = FastAPI()

    if auth:

        @app.middleware("http")
        async def security_headers(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            response = await call_next(request)
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response

        # Added last: the outermost, so that 401s get the CORS headers too.
        app.add_middleware(CORSMiddleware, allow_origins=[CORS_ORIGIN])

    if middleware:
        for _ in range(3):

            @app.middleware("http")
            async def passthrough(
                request: Request, call_next: Callable[[Request], Awaitable[Response]]
            ) -> Response:
                return await call_next(request)

    @app.get("/plaintext")
    async def plaintext() -> PlainTextResponse:
        return PlainTextResponse(PLAINTEXT)

    if auth:

        @app.get("/json")
        async def json_auth(
            current_user: Annotated[User, Depends(get_current_user)],
        ) -> dict[str, str]:
            return {"message": PLAINTEXT, "user": current_user.username}

    else:

        @app.get("/json")
        async def json_() -> dict[str, str]:
            return {"message": PLAINTEXT}

    @app.get("/users/{user_id}/items/{item_id}")
    async def user_item(
        user_id: int, item_id: int, limit: int = 10, q: str = ""
    ) -> dict[str, object]:
        return {"user_id": user_id, "item_id": item_id, "limit": limit, "q": q}

    @app.post("/items", status_code=201)
    async def create_item(item: Item) -> Item:
        return item

    async def echo_x(x: str) -> dict[str, str]:
        return {"x": x}

    async def static() -> PlainTextResponse:
        return PlainTextResponse(STATIC_TEXT)

    for i in range(extra):
        app.get(f"/r{i}/{{x}}")(echo_x)
        app.get(f"/static-{i}")(static)
    return app


app = build()
__getattr__ = lazy_attribute(
    {
        "app_mw": lambda: build(middleware=True),
        "app_small": lambda: build(extra=1),
        "app_auth": lambda: build(auth=True),
    },
    globals(),
)
