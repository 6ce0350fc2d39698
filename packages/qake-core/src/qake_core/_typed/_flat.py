"""PERF: a route's dependency tree flattened, at startup, into one generated function.

The general resolution (``_dependencies``: a per-request state, a cache dict, a
coroutine per node and per plan) does, for a given tree, the same work as a list of
steps run in order: each step's result goes to a numbered slot, and a dependency
declared twice (with the per-request cache, the same scopes) is one step whose slot
both read. The steps keep the general order exactly: the body first, then a callable's
parameters before its dependencies are resolved, its dependencies in declaration
order, the route's ``dependencies=[...]`` before the handler's own; each kind of
callable (async, sync in a thread, yield dependencies with their clean-ups,
app-scoped values) is called as ``DependencyNode`` calls it, and the injected
sub-response and background tasks are merged as the general endpoint merges them.
The steps become the straight-line source of one ``async def run(request)``.

Dependency overrides change the tree per request: the endpoints built on this hand a
request to the general endpoint whenever ``app.dependency_overrides`` is not empty.
"""

from __future__ import annotations

import inspect
import linecache
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, NoReturn

from qake_core._background import BackgroundTasks
from qake_core._exceptions import RequestValidationError
from qake_core._requests import Request, body_value
from qake_core._responses import Response
from qake_core._typed._dependencies import CallPlan, DependencyExit, DependencyNode, to_thread
from qake_core._typed._extraction import Getter, Problems, read_params, unique_errors

__all__ = ["BodyReader", "FlatPlan", "Step", "flatten", "merge_injected"]

#: A failed slot (a parameter of it, or of a dependency of it, was refused).
_FAILED: Any = object()

Getters = tuple[tuple[str, Getter], ...]
#: ``await run_sync(func, kwargs)``: a sync callable in a worker thread.
RunSync = Callable[[Callable[..., Any], dict[str, Any]], Awaitable[Any]]


def merge_injected(
    response: Response, sub: Response | None, background: BackgroundTasks | None
) -> Response:
    """Carry the injected sub-response's status and headers, and the injected
    background tasks, over to the response the handler's value became."""
    if sub is not None and sub is not response:
        if sub.status_code:
            response.status_code = sub.status_code
        response.raw_headers.extend(sub.raw_headers)
    if background is not None and background.tasks:
        if response.background is None:
            response.background = background
        elif isinstance(response.background, BackgroundTasks):
            response.background.tasks.extend(background.tasks)
    return response


class BodyReader(NamedTuple):
    """How the route reads its body: ``parse(raw, request)`` (JSON, given the bytes) or
    ``read(request)`` (a form), each giving ``(values by parameter name, problems)``;
    ``names`` are the body parameters."""

    parse: Callable[[bytes, Request], tuple[dict[str, Any], Problems | None]] | None
    read: Callable[[Request], Awaitable[tuple[dict[str, Any], Problems | None]]] | None
    names: tuple[str, ...]


class Step(NamedTuple):
    """One step of a flat plan: read ``getters`` (into a new dict, or into the dict in
    slot ``kw_slot`` when >= 0), add each ``(name, slot)`` of ``args``, call ``call``
    as its ``kind`` says ("async", "sync", "agen", "gen": ``DependencyNode.kind``) and
    put the value in slot ``out``. A step with ``call`` ``None`` only reads a callable's
    parameters (before its dependencies run). ``unnamed`` are the slots of its
    ``dependencies=[...]``: their failure fails the step too."""

    getters: Getters
    kw_slot: int
    call: Callable[..., Any] | None
    args: tuple[tuple[str, int], ...]
    out: int
    unnamed: tuple[int, ...]
    kind: str


class _NotFlat(Exception):
    """The tree has a part the flat plan does not run (the general endpoint does)."""


class FlatPlan:
    """The flattened tree of one route: ``await plan.run(request)`` is the handler's
    return value (``RequestValidationError`` when a parameter was refused)."""

    __slots__ = (
        "app_keys",
        "app_values",
        "body",
        "body_slots",
        "injected",
        "needs_request",
        "run",
        "run_sync",
        "serialize",
        "slots",
        "source",
        "steps",
    )

    def __init__(
        self,
        steps: tuple[Step, ...],
        slots: list[Any],
        needs_request: bool,
        run_sync: RunSync,
        where: str = "",
        body: BodyReader | None = None,
        body_slots: tuple[tuple[str, int], ...] = (),
        injected: dict[str, int] | None = None,
        serialize: Callable[[Any], Response] | None = None,
        app_values: dict[Any, Any] | None = None,
        app_keys: dict[int, Any] | None = None,
    ) -> None:
        self.steps = steps
        #: The app's store of app-scoped values (``AppScopedValues.values``), and the
        #: key in it of each app-scoped step's slot.
        self.app_values = app_values
        self.app_keys = app_keys or {}
        #: The slots of the injected sub-response and background tasks ("response",
        #: "background"): made when the request starts, shared by every callable, and
        #: merged into the response the handler's value becomes (``serialize``).
        self.injected = injected or {}
        self.serialize = serialize
        #: The body's reader, and the slot of each body parameter (read first, as the
        #: general endpoint reads the body before any dependency runs).
        self.body = body
        self.body_slots = body_slots
        #: Slot 0 is the request, then the constants (``SecurityScopes``), then one
        #: per step (``None`` here).
        self.slots = slots
        #: Whether a step reads the request (its parameters, the ``Request`` itself, or
        #: the clean-ups of a yield dependency).
        self.needs_request = needs_request
        self.run_sync = run_sync
        self.source, namespace = _source(self)
        filename = f"<qake dependencies of {where or 'a route'}>"
        exec(compile(self.source, filename, "exec"), namespace)
        # NOTE: tracebacks through the generated function show its lines (as attrs does).
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        self.run: Callable[[Request | None], Awaitable[Any]] = namespace["run"]

    async def refuse(
        self,
        request: Request | None,
        values: list[Any],
        first: int,
        body_errors: Problems | None = None,
        body: dict[str, Any] | None = None,
    ) -> NoReturn:
        """From the first step whose parameters failed (or from the start when the body
        did, with its ``body_errors`` and values), what the general resolution does once
        a parameter failed: the dependencies whose inputs are all valid still run, the
        others (and the handler) do not; then the 422 with every problem."""
        errors: Problems = list(body_errors or ())
        if body is not None:
            for name, slot in self.body_slots:
                values[slot] = body.get(name, _FAILED)
        last = len(self.steps) - 1
        for index in range(first, last + 1):
            getters, kw_slot, call, args, out, unnamed, kind = self.steps[index]
            failed = False
            kwargs: Any = {}
            if getters:
                problems = read_params(getters, request, kwargs, None)
                if problems is not None:
                    errors.extend(problems)
                    failed = True
                if call is None:
                    values[out] = _FAILED if failed else kwargs
                    continue
            elif kw_slot >= 0:
                kwargs = values[kw_slot]
                failed = kwargs is _FAILED
            if index == last:
                break  # the handler: never called once a parameter failed
            assert call is not None  # a step without one has getters: handled above
            for name, slot in args:
                value = values[slot]
                if value is _FAILED:
                    failed = True
                elif not failed:
                    kwargs[name] = value
            if any(values[slot] is _FAILED for slot in unnamed):
                failed = True
            values[out] = _FAILED if failed else await self._call(kind, call, kwargs, request)
        raise RequestValidationError(unique_errors(errors), body=body_value(request))

    async def _call(
        self, kind: str, call: Callable[..., Any], kwargs: dict[str, Any], request: Any
    ) -> Any:
        """``DependencyNode._call``'s (the generated function has each kind inline)."""
        if kind == "async":
            return await call(**kwargs)
        if kind == "sync":
            return await self.run_sync(call, kwargs)
        if kind == "app":
            return await call()
        it = call(**kwargs)
        value = await it.__anext__() if kind == "agen" else await to_thread(next, it)
        request.add_cleanup(DependencyExit(it, kind == "agen"))
        return value


def _source(plan: FlatPlan) -> tuple[str, dict[str, Any]]:
    """PERF: the plan as the source of one ``async def run(request)``, as Falcon's
    compiled router is generated: straight-line calls with keyword arguments (no loop,
    no per-request dict when a callable reads no parameter, no slot list).

    Only names generated here are variables (``request``, ``s<slot>``, ``kw``, ``it``);
    the parameter names of the callables appear as keywords (or, for a sync callable,
    as string keys) only. Callables, getters and constants are globals of the
    generated function.
    """
    namespace: dict[str, Any] = {
        "app_values": plan.app_values,
        "MISSING": _FAILED,
        "read_params": read_params,
        "refuse": plan.refuse,
        "run_sync": plan.run_sync,
        "to_thread": to_thread,
        "DependencyExit": DependencyExit,
    }
    for slot, value in enumerate(plan.slots):
        if value is not None:
            namespace[f"k{slot}"] = value
    lines = ["async def run(request):"]
    assigned = {0, *(slot for slot, v in enumerate(plan.slots) if v is not None)}
    last = len(plan.steps) - 1

    def ref(slot: int) -> str:
        return (
            "request" if slot == 0 else f"k{slot}" if plan.slots[slot] is not None else f"s{slot}"
        )

    if plan.injected:
        namespace.update(Response=Response, BackgroundTasks=BackgroundTasks)
        namespace.update(serialize=plan.serialize, merge_injected=merge_injected)
        for what, slot in plan.injected.items():
            make = "Response(None, status_code=0)" if what == "response" else "BackgroundTasks()"
            lines.append(f"    s{slot} = {make}")
            assigned.add(slot)
    if plan.body is not None:
        lines += _body_lines(
            plan, [ref(i) if i in assigned else "None" for i in range(len(plan.slots))], namespace
        )
        assigned.update(slot for _, slot in plan.body_slots)

    for index, step in enumerate(plan.steps):
        spread = ""
        if step.getters:
            namespace[f"g{index}"] = step.getters
            target = f"s{step.out}" if step.call is None else "kw"
            values = ", ".join(ref(i) if i in assigned else "None" for i in range(len(plan.slots)))
            lines += [
                f"    {target} = {{}}",
                f"    if read_params(g{index}, request, {target}, None) is not None:",
                f"        await refuse(request, [{values}], {index})",
            ]
            spread = "**kw"
        elif step.kw_slot >= 0:
            spread = f"**s{step.kw_slot}"
        assigned.add(step.out)
        if step.kind == "app":
            # never the last step (the handler's); it reads no parameters
            namespace[f"c{index}"], namespace[f"a{index}"] = step.call, plan.app_keys[step.out]
            lines += [
                f"    s{step.out} = app_values.get(a{index}, MISSING)",
                f"    if s{step.out} is MISSING:",
                f"        s{step.out} = await c{index}()",
            ]
        elif step.call is not None:
            namespace[f"c{index}"] = step.call
            target = f"s{step.out} ="
            if index == last:
                target = "value =" if plan.injected else "return"
            lines += _call_lines(step, index, target, spread, ref, namespace)
    if plan.injected:
        sub, tasks = (plan.injected.get(what) for what in ("response", "background"))
        sub_ref = "None" if sub is None else f"s{sub}"
        tasks_ref = "None" if tasks is None else f"s{tasks}"
        lines.append(f"    return merge_injected(serialize(value), {sub_ref}, {tasks_ref})")
    return "\n".join(lines) + "\n", namespace


def _body_lines(plan: FlatPlan, values: list[str], namespace: dict[str, Any]) -> list[str]:
    """The lines reading the body into the slots of the body parameters, first (as the
    general endpoint does: its problems come first in a 422)."""
    assert plan.body is not None
    namespace["parse_body"], namespace["read_body"] = plan.body.parse, plan.body.read
    read = (
        "await read_body(request)"
        if plan.body.read is not None
        else "parse_body(await request.body(), request)"
    )
    lines = [
        f"    body, problems = {read}",
        "    if problems:",
        f"        await refuse(request, [{', '.join(values)}], 0, problems, body)",
    ]
    lines += [f"    s{slot} = body[{name!r}]" for name, slot in plan.body_slots]
    return lines


def _call_lines(
    step: Step,
    index: int,
    target: str,
    spread: str,
    ref: Callable[[int], str],
    namespace: dict[str, Any],
) -> list[str]:
    """The lines calling ``step`` as ``DependencyNode._call`` does for its kind."""
    call, kind = f"c{index}", step.kind
    if kind == "sync":
        items = [spread] if spread else []
        items += [f"{name!r}: {ref(slot)}" for name, slot in step.args]
        return [f"    {target} await run_sync({call}, {{{', '.join(items)}}})"]
    keywords = [spread] if spread else []
    keywords += [f"{name}={ref(slot)}" for name, slot in step.args]
    method = _unbound_call(step.call) if kind == "async" else None
    if method is not None:
        namespace[call], namespace[f"o{index}"] = method, step.call
        keywords.insert(0, f"o{index}")
    if kind == "async":
        return [f"    {target} await {call}({', '.join(keywords)})"]
    first = "await it.__anext__()" if kind == "agen" else "await to_thread(next, it)"
    return [
        f"    it = {call}({', '.join(keywords)})",
        f"    {target} {first}",
        f"    request.add_cleanup(DependencyExit(it, {kind == 'agen'}))",
    ]


def _unbound_call(call: Any) -> Callable[..., Any] | None:
    """PERF: the ``__call__`` function of a callable object (``JWTAuth(...)``), to call
    with the object as first argument: an object's call goes through its type's call
    slot, which turns the keywords into a dict and back (~250 ns per call).

    NOTE: read once, at startup, as the rest of the plan: a ``__call__`` replaced on
    the class afterwards is not seen (the general path, under overrides, would).
    """
    if inspect.isfunction(call) or inspect.ismethod(call):
        return None
    method = inspect.getattr_static(type(call), "__call__", None)
    return method if inspect.isfunction(method) else None


class _Flattener:
    """Walks a route's tree as the general resolution would, emitting steps."""

    def __init__(self, body_names: tuple[str, ...] = ()) -> None:
        self.steps: list[Step] = []
        self.slots: list[Any] = [None]
        #: body parameter name → its slot
        self.body = {name: len(self.slots) + i for i, name in enumerate(body_names)}
        self.slots += [None] * len(body_names)
        self.needs_request = bool(body_names)
        self.constants: dict[int, int] = {}
        #: "response" / "background" → the slot of the one injected per request
        self.injected: dict[str, int] = {}
        #: slot of an app-scoped value → its key in the app's store (``app_values``)
        self.app_keys: dict[int, Any] = {}
        self.app_values: dict[Any, Any] | None = None
        #: cache key → slot of a dependency resolved with the per-request cache.
        self.cached: dict[Any, int] = {}

    def new_slot(self, value: Any = None) -> int:
        self.slots.append(value)
        return len(self.slots) - 1

    def constant(self, value: Any) -> int:
        slot = self.constants.get(id(value))
        if slot is None:
            slot = self.constants[id(value)] = self.new_slot(value)
        return slot

    def node(self, node: DependencyNode) -> int:
        """The slot of ``node``'s value (``_NotFlat`` for a node the plan cannot run)."""
        if node.app_scoped:
            # PERF: the store's dict read inline; its get (a coroutine) on first use only.
            out = self.new_slot()
            self.steps.append(Step((), -1, node.app_value, (), out, (), "app"))
            self.app_keys[out] = node.key
            self.app_values = node.planner.app_scoped.values
            return out
        if node.use_cache:
            slot = self.cached.get(node.cache_key)
            if slot is not None:
                return slot
        if node.kind in ("agen", "gen"):
            if node.function_scoped:  # its clean-up runs when the handler returns
                raise _NotFlat
            self.needs_request = True  # its clean-up is registered on the request
        out = self.call(node.plan, node.call, node.kind)
        if node.use_cache:
            self.cached[node.cache_key] = out
        return out

    def call(self, plan: CallPlan, call: Callable[..., Any], kind: str) -> int:
        """Emit the steps of one call (its parameters, its dependencies, itself)."""
        if any(name not in self.body for name in plan.body):
            raise _NotFlat
        getters, kw_slot = plan.getters, -1
        if getters:
            self.needs_request = True
            if plan.deps:
                # Its parameters are read before its dependencies run, as in CallPlan.solve.
                kw_slot = self.new_slot()
                self.steps.append(Step(getters, -1, None, (), kw_slot, (), kind))
                getters = ()
        # CallPlan.solve's order: parameters, body parameters, dependencies, injections.
        args: list[tuple[str, int]] = [(name, self.body[name]) for name in plan.body]
        unnamed: list[int] = []
        for name, dep in plan.deps:
            slot = self.node(dep)
            if name is None:
                unnamed.append(slot)
            else:
                args.append((name, slot))
        for name, what in plan.injected:
            if what == "request":
                self.needs_request = True
                args.append((name, 0))
            elif what == "security_scopes":
                args.append((name, self.constant(plan.security_scopes)))
            else:  # "response", "background": one per request
                if what not in self.injected:
                    self.injected[what] = self.new_slot()
                args.append((name, self.injected[what]))
        out = self.new_slot()
        self.steps.append(Step(getters, kw_slot, call, tuple(args), out, tuple(unnamed), kind))
        return out


def flatten(
    top: tuple[DependencyNode, ...],
    plan: CallPlan,
    handler: Callable[..., Any],
    is_async: bool,
    run_sync: RunSync,
    where: str = "",
    body: BodyReader | None = None,
    serialize: Callable[[Any], Response] | None = None,
) -> FlatPlan | None:
    """The flat plan of a route (its ``body`` first, its ``dependencies=[...]`` nodes,
    then ``handler`` with ``plan``, awaited or run in a thread by ``run_sync``), or
    ``None`` when a part of it needs the general path; ``where`` names the route (in
    tracebacks through the generated function)."""
    flat = _Flattener(body.names if body is not None else ())
    kind = "async" if is_async else "sync"
    try:
        for node in top:
            flat.node(node)
        flat.call(plan, handler, kind)
    except _NotFlat:
        return None
    body_slots = tuple(flat.body.items())
    if flat.injected and serialize is None:
        return None
    return FlatPlan(
        tuple(flat.steps),
        flat.slots,
        flat.needs_request,
        run_sync,
        where,
        body,
        body_slots,
        flat.injected,
        serialize,
        flat.app_values,
        flat.app_keys,
    )
