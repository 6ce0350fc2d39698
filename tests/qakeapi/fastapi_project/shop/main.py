"""The application: the items router and a health check."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from shop.items import router

app = FastAPI(title="Shop", version="1.0.0")
app.include_router(router)


@app.get("/health")
def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})
