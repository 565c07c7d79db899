"""The injector's request: ``{"action": ..., ...}``, validated before anything changes."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from healops.models.incident import SERVICE_NAME_PATTERN

InjectorAction = Literal["inject", "clear", "list", "status", "chaos"]
INJECTOR_ACTIONS: tuple[str, ...] = get_args(InjectorAction)


class InjectorRequest(BaseModel):
    """A request to the injector function (direct invoke or the chaos schedule)."""

    model_config = ConfigDict(extra="forbid")

    action: InjectorAction
    service: str | None = Field(default=None, pattern=SERVICE_NAME_PATTERN)
    fault: str | None = Field(default=None, min_length=1, max_length=64)
    parameters: dict[str, Any] = Field(default_factory=dict)
