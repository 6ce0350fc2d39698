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
    response = client.get("/items/", params={"limit": 0})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["type"] == "greater_than_equal"
    assert error["loc"] == ["query", "limit"]
    assert error["msg"] == "Input should be greater than or equal to 1"
    assert error["ctx"] == {"ge": 1}


def test_read_missing_item() -> None:
    response = client.get("/items/42")
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


def test_create_needs_a_token() -> None:
    response = client.post("/items/", json={"name": "Saw", "price": 12.0})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated"}


def test_a_body_that_is_not_json_is_a_validation_error() -> None:
    response = client.post(
        "/items/",
        content=b"name=Saw",
        headers={"Authorization": "Bearer alice-token", "Content-Type": "text/plain"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "model_attributes_type"


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
