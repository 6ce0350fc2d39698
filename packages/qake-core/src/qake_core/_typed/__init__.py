"""The typed-handler compiler: a route's handler signature, read once at startup,
compiled into the function that answers its requests.

One module per step, each asking the one before it:

- ``_types``: what an annotation means (sequence, body-only, upload, injected), cached
  signatures and type hints, shared ``TypeAdapter``s;
- ``_specs``: what a route declares, as data (``RouteSpec`` and its parts);
- ``_analysis``: signatures into specs, with every declaration error named;
- ``_extraction``: per-parameter getters (path, query, header, cookie, groups) and
  the one loop that runs them;
- ``_body``: the JSON body reader and the form reader;
- ``_dependencies``: dependency resolution, overrides, clean-ups of yield dependencies;
- ``_app_scoped``: the app's store of ``scope="app"`` values (the app closes it);
- ``_flat``: a tree of plain async dependencies flattened into one generated function,
  and ``_flat_runner``, the route runner that calls it;
- ``_serialization``: a handler's return value into a ``Response``;
- ``_endpoint``: ``compile_route``: a route's ``CompiledRoute`` (its endpoint, and
  the direct call the route runner makes when no ``Request`` is needed).
"""
