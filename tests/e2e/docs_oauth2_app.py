"""An app whose Swagger UI signs in by the OAuth2 password flow (FastAPI's tutorial
shape): ``POST /token`` takes the form Swagger UI's "Authorize" dialog sends, and
``GET /users/me`` requires the bearer token it returns.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from pydantic import BaseModel

from qakeapi import Depends, HTTPException, QakeAPI
from qakeapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm

USERNAME = "alice"
PASSWORD = "correct horse battery staple"

app = QakeAPI(title="OAuth2 password flow", version="1.0")
oauth2 = OAuth2PasswordBearer(tokenUrl="token")
TOKENS: dict[str, str] = {}


class Token(BaseModel):
    access_token: str
    token_type: str


class User(BaseModel):
    username: str


@app.post("/token", responses={400: {"description": "Incorrect username or password"}})
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    right = hmac.compare_digest(form.username, USERNAME) & hmac.compare_digest(
        form.password.encode(), PASSWORD.encode()
    )
    if not right:
        raise HTTPException(400, "Incorrect username or password")
    access_token = secrets.token_urlsafe(24)
    TOKENS[access_token] = form.username
    return Token(access_token=access_token, token_type="bearer")


@app.get("/users/me")
async def read_me(access_token: Annotated[str, Depends(oauth2)]) -> User:
    username = TOKENS.get(access_token)
    if username is None:
        raise HTTPException(401, "Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return User(username=username)
