"""An ``Item`` model (another lives in ``openapi_models_a``): same name, two modules."""

from pydantic import BaseModel


class Item(BaseModel):
    sku: int
