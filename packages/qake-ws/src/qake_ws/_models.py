"""Incoming messages validated by pydantic: one ``TypeAdapter`` per model, built once."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = ["INVALID_MESSAGE_POLICIES", "InvalidMessage", "adapter_for", "check_policy", "validate"]

#: What an invalid message does: ``"close"`` the connection with 1007 (RFC 6455's
#: "inconsistent data"), or send an ``"error"`` message and wait for the next one.
INVALID_MESSAGE_POLICIES = ("close", "error")

InvalidMessagePolicy = Literal["close", "error"]


class InvalidMessage(Exception):
    """A message that is not JSON or does not validate; ``errors`` as in a 422 body."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid message")
        self.errors = errors


def check_policy(value: Any, where: str) -> InvalidMessagePolicy:
    """``value`` if it is a policy; a developer's typo fails at startup naming ``where``."""
    if value not in INVALID_MESSAGE_POLICIES:
        raise ValueError(
            f"{where}: invalid_message must be 'close' (close with 1007) or 'error' (send "
            f"an error message and keep reading), got {value!r}"
        )
    return value  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=256)
def _cached_adapter(model: Any) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter

    return TypeAdapter(model)


def adapter_for(model: Any) -> TypeAdapter[Any]:
    """The ``TypeAdapter`` of ``model`` (a pydantic model, dataclass, TypedDict or any
    type pydantic validates), cached; a ``TypeAdapter`` is used as given."""
    from pydantic import TypeAdapter

    if isinstance(model, TypeAdapter):
        return model
    try:
        return _cached_adapter(model)
    except TypeError:  # unhashable (a parametrised alias with unhashable metadata)
        return TypeAdapter(model)


def validate(adapter: TypeAdapter[Any], data: str | bytes) -> Any:
    """``data`` (JSON text or bytes) validated by ``adapter``; raises :class:`InvalidMessage`."""
    from pydantic import ValidationError

    try:
        return adapter.validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise InvalidMessage([dict(e) for e in errors]) from None
