"""What clients send and receive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

NO_NUL = r"^[^\x00]*$"
Username = Annotated[str, Field(min_length=1, max_length=254, pattern=NO_NUL)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
RoleName = Annotated[str, Field(min_length=1, max_length=50, pattern=NO_NUL)]


class TokenPair(BaseModel):
    """RFC 6749's token response, with the refresh token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    """Seconds the access token is valid."""
    refresh_token: str
    refresh_expires_in: int


class RefreshRequest(BaseModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class UserRead(BaseModel):
    id: int
    username: str
    is_active: bool
    roles: list[str]
    created_at: datetime


class Me(UserRead):
    permissions: list[str]


class UserCreate(BaseModel):
    username: Username
    password: Annotated[str, Field(min_length=8, max_length=1024)]
    roles: Annotated[list[RoleName], Field(max_length=20)] = ["user"]
