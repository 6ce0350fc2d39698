"""An ``Item`` model (another lives in ``openapi_models_b``): same name, two modules."""

from pydantic import BaseModel


class Item(BaseModel):
    name: str
