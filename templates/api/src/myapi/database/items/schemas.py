"""What clients send and receive; independent of the ORM models.

Text must be storable by Postgres: no NUL character (pydantic already refuses text that is not
valid Unicode). A partial update may leave a field out, but may not set a required one to null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
Description = Annotated[str, Field(max_length=10_000, pattern=NO_NUL)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # may be left out, but is never null


class ItemCreate(BaseModel):
    name: Name
    description: Description | None = None


class ItemUpdate(BaseModel):
    """Partial update: only the fields sent change."""

    name: Name | SkipJsonSchema[None] = Field(None, json_schema_extra=_no_default)
    description: Description | None = None

    @field_validator("name")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        if value is None:  # only an explicit null gets here: a default is not validated
            raise ValueError("may be left out, but not null")
        return value


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    created_at: datetime
