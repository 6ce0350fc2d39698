"""One WebSocket app per framework for ``benchmarks/websocket.py``.

Every module exposes ``app`` serving the same three routes:

* ``/echo``: accept, then send back every text message until the client leaves;
* ``/sub``: accept and stay subscribed to the broadcast until the client leaves;
* ``/pub``: every text message received is sent to every ``/sub`` connection.
"""
