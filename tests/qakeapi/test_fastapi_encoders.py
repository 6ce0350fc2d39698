"""``qakeapi.encoders.jsonable_encoder``: FastAPI's conversions and options (issue 17)."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections import deque
from decimal import Decimal
from ipaddress import IPv4Address, IPv6Network
from pathlib import Path, PurePosixPath
from re import compile as regex
from typing import Any
from uuid import UUID

import orjson
import pytest
from pydantic import BaseModel, Field, SecretStr

import qakeapi
from qakeapi import QakeAPI
from qakeapi.encoders import jsonable_encoder
from qakeapi.testing import TestClient


class Color(enum.Enum):
    RED = "red"
    PAIR = (1, 2)


class Level(enum.IntEnum):
    HIGH = 3


class Tag(enum.StrEnum):
    NEW = "new"


class Item(BaseModel):
    title: str
    timestamp: datetime.datetime
    description: str | None = None
    tax: float = 10.5
    item_id: int = Field(alias="itemId", default=0)
    tags: list[str] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int
    when: datetime.date
    label: str | None = None


class Update(BaseModel):
    title: str
    timestamp: datetime.datetime
    description: str | None = None


class Record:
    """An ORM-like object: its state in ``vars()``, SQLAlchemy's under ``_sa_``."""

    def __init__(self) -> None:
        self._sa_instance_state = object()
        self.name = "Plumbus"
        self.price = Decimal("3.50")


def test_jsonable_encoder_is_at_fastapis_path_only() -> None:
    from qake_core.encoders import jsonable_encoder as core

    assert jsonable_encoder is core
    assert "jsonable_encoder" not in qakeapi.__all__
    assert not hasattr(qakeapi, "jsonable_encoder")


def test_fastapis_tutorial_model_becomes_json_data() -> None:
    item = Item(title="Foo", timestamp=datetime.datetime(2024, 1, 2, 3, 4, 5), itemId=7)
    data = jsonable_encoder(item)
    assert data == {
        "title": "Foo",
        "timestamp": "2024-01-02T03:04:05",
        "description": None,
        "tax": 10.5,
        "itemId": 7,
        "tags": [],
    }
    assert orjson.loads(orjson.dumps(data)) == data


def test_model_options_are_pydantics() -> None:
    item = Item(title="Foo", timestamp=datetime.datetime(2024, 1, 1), tax=10.5, itemId=7)
    assert "item_id" in jsonable_encoder(item, by_alias=False)
    assert jsonable_encoder(item, include={"title", "itemId"}) == {"title": "Foo"}
    assert jsonable_encoder(item, include=["title"]) == {"title": "Foo"}
    assert set(jsonable_encoder(item, exclude={"timestamp", "tags"})) == {
        "title",
        "description",
        "tax",
        "itemId",
    }
    unset = {"title", "timestamp", "tax", "itemId"}
    assert set(jsonable_encoder(item, exclude_unset=True)) == unset
    assert set(jsonable_encoder(item, exclude_defaults=True)) == {"title", "timestamp", "itemId"}
    assert "description" not in jsonable_encoder(item, exclude_none=True)


def test_nested_models_in_containers() -> None:
    item = Item(title="A", timestamp=datetime.datetime(2024, 1, 1))
    data = jsonable_encoder({"items": [item], "by_id": {1: item}}, exclude_none=True)
    assert data["items"][0]["title"] == "A"
    assert "description" not in data["items"][0]
    assert data["by_id"][1]["timestamp"] == "2024-01-01T00:00:00"


def test_dataclasses_become_dicts() -> None:
    point = Point(1, 2, datetime.date(2024, 5, 6))
    assert jsonable_encoder(point) == {"x": 1, "y": 2, "when": "2024-05-06", "label": None}
    assert jsonable_encoder(point, exclude={"y"}, exclude_none=True) == {
        "x": 1,
        "when": "2024-05-06",
    }
    assert jsonable_encoder([point], include={"x"}) == [{"x": 1}]


def test_enums_become_their_values() -> None:
    assert jsonable_encoder(Color.RED) == "red"
    assert jsonable_encoder(Color.PAIR) == [1, 2]
    assert jsonable_encoder(Level.HIGH) == 3
    assert type(jsonable_encoder(Level.HIGH)) is int
    assert type(jsonable_encoder(Tag.NEW)) is str


def test_dates_and_times_in_iso_8601_and_timedelta_in_seconds() -> None:
    tz = datetime.timezone(datetime.timedelta(hours=2))
    assert jsonable_encoder(datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz)) == (
        "2024-01-02T03:04:05+02:00"
    )
    assert jsonable_encoder(datetime.date(2024, 1, 2)) == "2024-01-02"
    assert jsonable_encoder(datetime.time(3, 4, 5, 600)) == "03:04:05.000600"
    assert jsonable_encoder(datetime.timedelta(minutes=1, milliseconds=500)) == 60.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("3"), 3),
        (Decimal("300"), 300),
        (Decimal("3.50"), 3.5),
        (Decimal("1E+2"), 100),
        (Decimal("-0.25"), -0.25),
    ],
)
def test_decimals_are_int_when_integral_else_float(value: Decimal, expected: Any) -> None:
    encoded = jsonable_encoder(value)
    assert encoded == expected
    assert type(encoded) is type(expected)


def test_strings_for_ids_paths_addresses_patterns_and_secrets() -> None:
    uid = UUID("12345678-1234-5678-1234-567812345678")
    assert jsonable_encoder(uid) == "12345678-1234-5678-1234-567812345678"
    assert jsonable_encoder(Path("/tmp/a.txt")) == "/tmp/a.txt"
    assert jsonable_encoder(PurePosixPath("a/b")) == "a/b"
    assert jsonable_encoder(IPv4Address("10.0.0.1")) == "10.0.0.1"
    assert jsonable_encoder(IPv6Network("::/120")) == "::/120"
    assert jsonable_encoder(regex(r"^\d+$")) == r"^\d+$"
    assert jsonable_encoder(SecretStr("hunter2")) == "**********"
    assert jsonable_encoder(b"caf\xc3\xa9") == "café"


def test_collections_become_lists() -> None:
    assert jsonable_encoder((1, 2)) == [1, 2]
    assert sorted(jsonable_encoder({3, 1})) == [1, 3]
    assert jsonable_encoder(frozenset({"a"})) == ["a"]
    assert jsonable_encoder(deque([1])) == [1]
    assert jsonable_encoder(n * 2 for n in range(3)) == [0, 2, 4]


def test_dict_keys_are_filtered_and_encoded() -> None:
    data = {"a": 1, "b": None, "c": 3, Color.RED: 4, 5: 6}
    assert jsonable_encoder(data, include={"a", "b"}) == {"a": 1, "b": None}
    assert jsonable_encoder(data, exclude={"c"}, exclude_none=True) == {"a": 1, "red": 4, 5: 6}
    # include/exclude apply to the top level only.
    nested = {"a": {"a": 1, "b": 2}, "b": 3}
    assert jsonable_encoder(nested, include={"a"}) == {"a": {"a": 1, "b": 2}}


def test_sqlalchemy_safe_skips_sa_keys() -> None:
    assert jsonable_encoder(Record()) == {"name": "Plumbus", "price": 3.5}
    state = jsonable_encoder({"_sa_instance_state": "s", "x": 1}, sqlalchemy_safe=False)
    assert state == {"_sa_instance_state": "s", "x": 1}


def test_custom_encoder_wins_and_is_found_along_the_mro() -> None:
    class Money(Decimal):
        pass

    def as_text(value: Decimal) -> str:
        return f"{value:.2f}"

    custom = {Decimal: as_text}
    assert jsonable_encoder(Decimal("1.5"), custom_encoder=custom) == "1.50"
    assert jsonable_encoder(Money("2"), custom_encoder=custom) == "2.00"
    assert jsonable_encoder({"p": [Money("3")]}, custom_encoder=custom) == {"p": ["3.00"]}
    # The most specific class wins, whatever the mapping's order.
    both = {object: lambda _: "object", Money: lambda _: "money"}
    assert jsonable_encoder(Money("1"), custom_encoder=both) == "money"
    dated = {datetime.datetime: lambda d: d.strftime("%d/%m/%Y")}
    assert jsonable_encoder(datetime.datetime(2024, 3, 1), custom_encoder=dated) == "01/03/2024"


def test_other_objects_through_their_attributes_or_fail_clearly() -> None:
    class Plain:
        def __init__(self) -> None:
            self.when = datetime.date(2024, 1, 1)

    assert jsonable_encoder(Plain()) == {"when": "2024-01-01"}
    with pytest.raises(ValueError, match="cannot convert 'object'"):
        jsonable_encoder(object())


def test_plain_values_are_kept() -> None:
    for value in ("x", 1, 1.5, True, None):
        assert jsonable_encoder(value) is value


def test_fastapis_encoder_tutorial_stores_json_compatible_data() -> None:
    fake_db: dict[str, Any] = {}
    app = QakeAPI()

    @app.put("/items/{item_id}")
    def update_item(item_id: str, item: Update) -> None:
        fake_db[item_id] = jsonable_encoder(item)

    answer = TestClient(app).put(
        "/items/foo", json={"title": "Foo", "timestamp": "2024-01-02T03:04:05Z"}
    )
    assert answer.status_code in (200, 204)
    assert fake_db["foo"] == {
        "title": "Foo",
        "timestamp": "2024-01-02T03:04:05Z",
        "description": None,
    }
