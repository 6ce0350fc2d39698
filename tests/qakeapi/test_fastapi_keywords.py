"""Every keyword of FastAPI's app, router, route decorators, ``include_router`` and
parameter functions is taken by qakeapi or refused when it is given, naming it and
what to use instead — never silently ignored (issue 17).

``fastapi_keywords.json`` is a snapshot of FastAPI 0.165's signatures, made by
``make_fastapi_names.py`` where FastAPI is installed (the bench environment).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import qakeapi
from qakeapi import APIRouter, QakeAPI

KEYWORDS: dict[str, list[str]] = json.loads(
    (Path(__file__).with_name("fastapi_keywords.json")).read_text(encoding="utf-8")
)


def _route(**options: Any) -> object:
    async def endpoint() -> None:
        return None

    return APIRouter().get("/x", **options)(endpoint)


def _include(**options: Any) -> None:
    APIRouter().include_router(APIRouter(), **options)


#: FastAPI's callable → (qakeapi's callables whose signatures take its keywords, a call
#: of qakeapi's equivalent with one keyword).
EQUIVALENTS: dict[str, tuple[tuple[Callable[..., Any], ...], Callable[..., object]]] = {
    "FastAPI": ((QakeAPI.__init__, qakeapi.App.__init__), lambda **kw: QakeAPI(**kw)),
    "APIRouter": ((APIRouter.__init__,), lambda **kw: APIRouter(**kw)),
    "APIRouter.get": ((APIRouter.add_api_route,), _route),
    "APIRouter.include_router": ((APIRouter.include_router,), _include),
    "APIRouter.websocket": (
        (APIRouter.add_websocket_route,),
        lambda **kw: APIRouter().websocket("/w", **kw),
    ),
    **{
        name: (
            (getattr(qakeapi, name).__init__, qakeapi.Param.__init__),
            (lambda cls: lambda **kw: cls(**kw))(getattr(qakeapi, name)),
        )
        for name in ("Query", "Path", "Body", "Header", "Cookie", "Form", "File")
    },
    "Depends": ((qakeapi.Depends.__init__,), lambda **kw: qakeapi.Depends(lambda: 1, **kw)),
    "Security": (
        (qakeapi.Security.__init__, qakeapi.Depends.__init__),
        lambda **kw: qakeapi.Security(lambda: 1, **kw),
    ),
}

#: FastAPI's ``dependency`` is the first positional argument of Depends/Security, and the
#: route decorators' ``path`` that of qakeapi's; FastAPI's websocket ``name`` is taken.
POSITIONAL = {"dependency", "path"}


def taken(where: str) -> set[str]:
    signatures, _ = EQUIVALENTS[where]
    names: set[str] = set()
    for func in signatures:
        names |= {
            p.name
            for p in inspect.signature(func).parameters.values()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        }
    return names


CASES = [
    (where, keyword)
    for where, keywords in sorted(KEYWORDS.items())
    for keyword in keywords
    if keyword not in POSITIONAL and keyword not in taken(where)
]


def test_the_snapshot_covers_what_the_issue_names() -> None:
    assert set(KEYWORDS) == set(EQUIVALENTS)
    for keyword in ("response_model_include", "response_model_exclude_none", "deprecated"):
        assert keyword in KEYWORDS["APIRouter.get"]
        assert keyword in taken("APIRouter.get")
    for keyword in ("openapi_examples", "deprecated", "include_in_schema", "strict"):
        assert keyword in taken("Query")


@pytest.mark.parametrize(("where", "keyword"), CASES, ids=[f"{w}.{k}" for w, k in CASES])
def test_a_keyword_qakeapi_does_not_take_is_refused_with_advice(where: str, keyword: str) -> None:
    _, call = EQUIVALENTS[where]
    with pytest.raises(TypeError) as refused:
        call(**{keyword: None})
    message = str(refused.value)
    assert repr(keyword) in message
    # What to use instead, not only "unknown option": every FastAPI keyword has advice.
    assert "is not supported by qakeapi; " in message, message


def test_most_of_fastapis_keywords_are_taken() -> None:
    total = sum(len(k) for k in KEYWORDS.values())
    assert len(CASES) / total < 0.25, f"{len(CASES)} of {total} refused"
