"""``qakeapi.concurrency``: FastAPI's ``fastapi.concurrency`` names.

``run_in_threadpool(func, *args, **kwargs)`` calls blocking code in a worker thread
(the caller's contextvars copied); ``iterate_in_threadpool(iterable)`` is an async
iterator over a blocking one, each ``next()`` in a worker thread. Both are qake-core's.

Starlette's ``run_until_first_complete`` is not offered: it is deprecated there, and
an ``anyio`` task group whose first finished task cancels the others says the same
thing in three lines of the app's own code.
"""

from qake_core import iterate_in_threadpool, run_in_threadpool

__all__ = ["iterate_in_threadpool", "run_in_threadpool"]
