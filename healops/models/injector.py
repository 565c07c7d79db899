"""The injector's request: ``{"action": ..., ...}``, validated before anything changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from healops.models.incident import SERVICE_NAME_PATTERN

InjectorAction = Literal["inject", "clear", "list", "status", "chaos", "seed"]
INJECTOR_ACTIONS: tuple[str, ...] = get_args(InjectorAction)
MAX_DURATION_S = 7 * 86_400

# Fields each action needs, checked after the types.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "inject": ("service", "fault"),
    "clear": ("service",),
    "seed": ("definition", "fleet_size"),
}


class InjectorRequest(BaseModel):
    """A request to the injector function (direct invoke, the CLI, the chaos schedule, Terraform's seed)."""

    model_config = ConfigDict(extra="forbid")

    action: InjectorAction
    service: str | None = Field(default=None, pattern=SERVICE_NAME_PATTERN)
    fault: str | None = Field(default=None, min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    # Numbers are strict: "600" or true is refused rather than read as 600 or 1 (params are strict too).
    duration_s: int | None = Field(default=None, ge=1, le=MAX_DURATION_S, strict=True)
    requested_by: str = Field(default="manual", pattern=r"^[A-Za-z0-9@._:/-]{1,64}$")
    # chaos: the schedule's event time and the chance of a fault per firing
    time: datetime | None = None
    rate: float | None = Field(default=None, ge=0.0, le=1.0, strict=True)
    # seed: the fleet definition file's content and the fleet's size
    definition: dict[str, Any] | None = None
    fleet_size: int | None = Field(default=None, ge=1, le=5000, strict=True)

    @model_validator(mode="after")
    def _required_for_action(self) -> InjectorRequest:
        missing = [name for name in _REQUIRED.get(self.action, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{', '.join(missing)}: required for action {self.action!r}")
        return self
