"""The shop's tests, as FastAPI's "Testing" tutorial writes them."""

from fastapi.testclient import TestClient
from shop.auth import current_user
from shop.main import app

client = TestClient(app)


def test_health() -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_list_items_with_a_limit() -> None:
    response = client.get("/items/", params={"limit": 1})
    assert response.status_code == 200
    assert response.json() == [{"id": 1, "name": "Hammer", "price": 9.5}]


def test_limit_out_of_range_is_refused() -> None:
    assert client.get("/items/", params={"limit": 0}).status_code == 422


def test_read_missing_item() -> None:
    assert client.get("/items/42").status_code == 404


def test_create_needs_a_token() -> None:
    response = client.post("/items/", json={"name": "Saw", "price": 12.0})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_create_with_a_token() -> None:
    response = client.post(
        "/items/",
        json={"name": "Saw", "price": 12.0},
        headers={"Authorization": "Bearer alice-token"},
    )
    assert response.status_code == 201
    assert response.json()["owner"] == "alice"


def test_create_with_an_overridden_user() -> None:
    app.dependency_overrides[current_user] = lambda: "bob"
    try:
        response = client.post("/items/", json={"name": "Nail", "price": 0.1})
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 201
    assert response.json()["owner"] == "bob"
