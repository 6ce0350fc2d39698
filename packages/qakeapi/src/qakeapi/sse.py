"""``qakeapi.sse``: FastAPI's ``fastapi.sse`` — server-sent events.

``response_class=EventSourceResponse`` on a route whose handler yields makes each item
a ``data:`` event (validated and serialised by the declared item type); a
``ServerSentEvent`` item sets ``event``, ``id``, ``retry`` or a comment itself.
"""

from qake_core import EventSourceResponse, ServerSentEvent, end_event_streams

__all__ = ["EventSourceResponse", "ServerSentEvent", "end_event_streams"]
