"""A human's answer to a pending approval: complete the Step Functions task token, then audit it.

The remediator stores the task token on the attempt whose guard verdict was ``needs_approval``; the
answer is one conditional write (the first of two answers wins, the second gets 409 and changes nothing);
approving sends ``SendTaskSuccess`` (the execution acts), denying ``SendTaskFailure`` (it takes
its deny path). The attempt records who answered and when (written first, so the remediator's own
update of the attempt comes after ours); the remediator clears the token, and the reasoning trace
gets a step by the human.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from healops.dashboard.queries import check_incident_id, is_pending, iso, now_utc
from healops.dashboard.resources import StackResources
from healops.store.agent_decisions import DecisionStep

MAX_REASON_CHARS = 500
DENIED_ERROR = "Remediation.Denied"


class ApprovalError(ValueError):
    """The approval cannot be applied (unknown attempt, not pending, token rejected): 409."""


class ApprovalConflictError(ApprovalError):
    """Another answer to the same approval was recorded first: 409, and the first answer stands."""


@dataclass(frozen=True)
class ApprovalResult:
    incident_id: str
    attempt_id: str
    decision: str
    by: str
    at: str


def answer(
    res: StackResources, incident_id: str, attempt_id: str, approve: bool, by: str, reason: str = ""
) -> ApprovalResult:
    check_incident_id(incident_id)
    reason = reason.strip()[:MAX_REASON_CHARS]
    attempt = res.remediations.get(incident_id, attempt_id)
    if attempt is None:
        raise ApprovalError(f"no remediation attempt {attempt_id!r} for incident {incident_id}")
    raw: dict[str, Any] = attempt.model_dump(mode="json")
    if not is_pending(raw):
        raise ApprovalError(
            f"attempt {attempt_id} is not awaiting approval (guard decision {raw.get('guard_decision')!r}, "
            f"approval {raw.get('approval')!r})"
        )
    sfn = res.client("stepfunctions")
    decision = "approved" if approve else "denied"
    at = iso(now_utc())
    # Record the answer before completing the token (once it is completed the execution moves on and the
    # remediator writes this attempt), in one conditional write: of two answers at once, the first wins.
    if not res.remediations.answer_approval(attempt, decision, by, at):
        raise ApprovalConflictError(
            f"attempt {attempt_id} was answered by someone else first; nothing was changed (reload to see the answer)"
        )
    try:
        if approve:
            sfn.send_task_success(
                taskToken=raw["task_token"],
                output=json.dumps({"approved": True, "by": by, "at": at, "reason": reason}),
            )
        else:
            # The state machine's AwaitApproval catches this error name and takes its Denied path.
            sfn.send_task_failure(
                taskToken=raw["task_token"], error=DENIED_ERROR, cause=(reason or f"denied by {by}")[:256]
            )
    except (sfn.exceptions.TaskDoesNotExist, sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken) as exc:
        code = exc.response["Error"]["Code"]
        res.remediations.withdraw_approval(attempt, by, at, code)
        raise ApprovalError(
            f"Step Functions refused the answer for {attempt_id}: {code} "
            "(the execution may have timed out or already moved on)"
        ) from None
    res.agent_decisions.append(
        incident_id,
        [
            DecisionStep(
                phase=decision,
                title=f"{by} {decision} {attempt.action} on {attempt.service}",
                detail=reason,
                actor="human",
                data={"attempt_id": attempt_id},
            )
        ],
        at=at,
    )
    return ApprovalResult(incident_id, attempt_id, decision, by, at)
