"""The engine's exceptions. web/errors.py is the one place that turns them into HTTP answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CarepathError(Exception):
    """Base of every error the engine raises on purpose. `code` is the machine-readable name."""

    code = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(CarepathError):
    code = "not_found"


class NotAllowed(CarepathError):
    code = "forbidden"


class NotOnCareTeam(NotAllowed):
    """A clinical role, but not on this client's care team: the record opens only by breaking the glass."""

    code = "not_on_care_team"

    def __init__(self, message: str, client_id: int):
        super().__init__(message)
        self.client_id = client_id


class NotAuthenticated(CarepathError):
    code = "unauthorized"


class TooManyAttempts(CarepathError):
    """Repeated failed sign-ins: the caller must wait `retry_after` seconds before trying again."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int = 30):
        super().__init__(message)
        self.retry_after = retry_after


class BadRequest(CarepathError):
    code = "bad_request"


class TaskNotOpen(CarepathError):
    """The task was completed, cancelled or taken by someone else meanwhile."""

    code = "task_not_open"


class CaseAlreadyOpen(CarepathError):
    """The client already has an open case (staff open one case at a time)."""

    code = "case_already_open"


class StaleInstance(CarepathError):
    """Someone else changed the pathway instance between our read and our write."""

    code = "conflict"


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message}


class InvalidFormData(CarepathError):
    """Submitted data does not satisfy the form's JSON Schema; `fields` says what is wrong where."""

    code = "invalid_form_data"

    def __init__(self, message: str, fields: list[FieldError]):
        super().__init__(message)
        self.fields = fields


class ContactRequired(InvalidFormData):
    """The step requires a contact (its form's `x-requires-contact` hint) and none was recorded from the task."""

    code = "contact_required"

    def __init__(self, message: str):
        super().__init__(message, [FieldError("", message)])


@dataclass(frozen=True)
class Finding:
    """One problem found in a pathway file, with where it is.

    `severity` is `error` (the files cannot be published like this) or `warning` (they can, but something
    will not behave as a reader of the diagram might expect); `element` is the BPMN/DMN element's id when
    the finding is about one, so an editor can show it on the diagram."""

    file: str
    line: int | None
    message: str
    severity: str = "error"
    element: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "severity": self.severity,
            "message": self.message,
            "element": self.element,
        }


class PathwayInvalid(CarepathError):
    code = "pathway_invalid"

    def __init__(self, findings: list[Finding]):
        super().__init__(f"{len(findings)} problem(s) in the pathway files: " + "; ".join(map(str, findings[:5])))
        self.findings = findings


class PathwayFailed(CarepathError):
    """A pathway step failed (a script error, a condition on missing data, a time limit). Nothing was saved.

    Where it failed (ids, pathway, element) and what kind of failure it was travel with it, so an
    incident can be recorded for an admin without quoting the message (which may quote task data)."""

    code = "pathway_error"

    def __init__(
        self,
        message: str,
        *,
        kind: str = "pathway_error",
        error_type: str | None = None,
        process_id: str | None = None,
        pathway_version: int | None = None,
        element: str | None = None,
        case_id: int | None = None,
        instance_id: int | None = None,
        username: str | None = None,
    ):
        super().__init__(message)
        self.kind, self.error_type = kind, error_type
        self.process_id, self.pathway_version, self.element = process_id, pathway_version, element
        self.case_id, self.instance_id, self.username = case_id, instance_id, username
        self.incident_id: int | None = None

    def summary(self) -> str:
        """The kind and the place, never the message: safe for logs and incidents."""
        where = f" in {self.process_id}" if self.process_id else ""
        at = f" at {self.element}" if self.element else ""
        detail = f" ({self.error_type})" if self.error_type and self.error_type != self.kind else ""
        return f"{self.kind}{detail}{where}{at}"


class StepLimitExceeded(PathwayFailed):
    """Pathway code hit the step's time, memory or recursion bound and was stopped; nothing was saved.
    `kind` is time_limit, memory_limit, recursion_limit, output_limit or sandbox_crash."""


def described(exc: BaseException) -> str:
    """An exception as logs and admins may see it: its type and the types it was raised from, never a
    message (a message can quote a form's answers, a message payload or an SQL statement's parameters)."""
    names: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    return " from ".join(names)
