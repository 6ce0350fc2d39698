"""The typed-handler compiler: a route's handler signature, read once at startup,
compiled into the function that answers its requests.

One module per step, each asking the one before it:

- ``_types``: what an annotation means (sequence, body-only, upload, injected), cached
  signatures and type hints, shared ``TypeAdapter``s;
- ``_specs``: what a route declares, as data (``RouteSpec`` and its parts);
- ``_analysis``: signatures into specs, with every declaration error named;
- ``_extraction``: per-parameter getters (path, query, header, cookie, groups);
- ``_body``: the JSON and form body parsers;
- ``_dependencies``: dependency resolution, overrides, app-scoped values, clean-ups;
- ``_serialization``: a handler's return value into a ``Response``;
- ``_endpoint``: the compiled endpoint of a route, and its direct fast path.
"""
