"""Who is calling: a bearer token read by OAuth2PasswordBearer."""

from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

TOKENS = {"alice-token": "alice"}


def current_user(token: str = Depends(oauth2_scheme)) -> str:
    user = TOKENS.get(token)
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="Invalid token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user
