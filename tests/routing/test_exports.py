import qake_routing


def test_all_is_sorted_and_complete() -> None:
    assert qake_routing.__all__ == sorted(qake_routing.__all__)
    public = {name for name in vars(qake_routing) if not name.startswith("_")}
    assert public == set(qake_routing.__all__)


def test_error_hierarchy() -> None:
    assert issubclass(qake_routing.NotFound, LookupError)
    assert issubclass(qake_routing.MethodNotAllowed, LookupError)
    assert not issubclass(qake_routing.MethodNotAllowed, qake_routing.NotFound)
    assert issubclass(qake_routing.InvalidTemplate, ValueError)
    assert issubclass(qake_routing.RouteConflict, ValueError)
    assert issubclass(qake_routing.URLBuildError, ValueError)
