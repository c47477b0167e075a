"""One exception tree for all of fitroom.

Every error carries a stable ``type`` slug (the API turns it into the problem+json
``type`` URI), an HTTP status that the API uses, a human message that says what is
wrong and what would be right, and structured ``details`` (field names, row numbers).
The CLI prints the message and exits non-zero; the API answers
``application/problem+json``. Domains raise these; nothing else is raised on purpose.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FitroomError(Exception):
    """Base of every error fitroom raises on purpose."""

    type_slug: ClassVar[str] = "fitroom-error"
    title: ClassVar[str] = "fitroom error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        """The error as plain data, for JSON output."""
        return {
            "type": self.type_slug,
            "title": self.title,
            "detail": self.message,
            **self.details,
        }


class InputError(FitroomError):
    """The caller sent something fitroom cannot use as it is."""

    type_slug = "invalid-input"
    title = "Invalid input"
    http_status = 422


class MeasurementOutOfRange(InputError):
    """A body measurement outside what an adult can have (often a unit mix-up)."""

    type_slug = "measurement-out-of-range"
    title = "Measurement out of range"


class LikelyWrongUnit(MeasurementOutOfRange):
    """A value that makes sense in inches or pounds but not in cm or kg."""

    type_slug = "likely-wrong-unit"
    title = "Measurement looks like the wrong unit"


class NotEnoughMeasurements(InputError):
    """The measurements given do not cover any zone the size chart uses."""

    type_slug = "not-enough-measurements"
    title = "Not enough measurements"


class InvalidSizeChart(InputError):
    """A size chart that is empty, overlapping the wrong way, or out of order."""

    type_slug = "invalid-size-chart"
    title = "Invalid size chart"


class UnknownSize(InputError):
    """A size label that the chart or product does not have."""

    type_slug = "unknown-size"
    title = "Unknown size"


class ImportFailed(InputError):
    """A bulk import with row-level errors; nothing was written."""

    type_slug = "import-failed"
    title = "Import failed; nothing was written"


class BatchRejected(InputError):
    """A batch of events with row-level errors; nothing was written."""

    type_slug = "invalid-batch"
    title = "Invalid batch; nothing was written"


class NotFound(FitroomError):
    """A referenced object does not exist."""

    type_slug = "not-found"
    title = "Not found"
    http_status = 404


class Conflict(FitroomError):
    """The write would clash with an existing object (a duplicate id, say)."""

    type_slug = "conflict"
    title = "Conflict"
    http_status = 409


class ConsentRequired(FitroomError):
    """Storing measurements needs the shopper's explicit consent."""

    type_slug = "consent-required"
    title = "Consent required"
    http_status = 422


class Unauthorized(FitroomError):
    """A write that needs the admin API key came without a valid one."""

    type_slug = "unauthorized"
    title = "Admin API key required"
    http_status = 401


class ModelError(FitroomError):
    """A shipped model file is missing or does not match its config."""

    type_slug = "model-error"
    title = "Model error"
    http_status = 500


class ConfigError(FitroomError):
    """A setting has a value fitroom cannot use."""

    type_slug = "config-error"
    title = "Configuration error"
    http_status = 500


class NotCompressible(ModelError):
    """A compression step cannot handle this model: an op ONNX cannot express, outputs
    that differ from torch beyond the tolerance, or no channels that can be pruned."""

    type_slug = "not-compressible"
    title = "Model cannot be compressed this way"
    http_status = 422


class InvalidImage(InputError):
    """An upload or file that is not a readable image (wrong format or corrupt)."""

    type_slug = "invalid-image"
    title = "Invalid image"


class ImageTooLarge(InputError):
    """An image whose pixel count or upscaled result is past the configured limit."""

    type_slug = "image-too-large"
    title = "Image too large"
    http_status = 413


class PhotoRejected(InputError):
    """A body photo the quality gate refuses; ``details`` say which view and what to do.

    Each subclass is one reason with its own stable ``type``; the message names the
    problem and ``advice`` says how to take a photo that works.
    """

    type_slug = "photo-rejected"
    title = "Photo cannot be measured"

    def __init__(self, message: str, *, view: str, advice: str, **details: Any) -> None:
        super().__init__(message, view=view, advice=advice, **details)
        self.view = view
        self.advice = advice


class PhotoTooSmall(PhotoRejected):
    type_slug = "photo-too-small"
    title = "Photo too small"


class NoPersonFound(PhotoRejected):
    type_slug = "no-person"
    title = "No person found"


class MultiplePeople(PhotoRejected):
    type_slug = "multiple-people"
    title = "More than one person"


class BodyCutOff(PhotoRejected):
    type_slug = "body-cut-off"
    title = "Head or feet cut off"


class PersonTooFar(PhotoRejected):
    type_slug = "person-too-far"
    title = "Person too far from the camera"


class PersonTooClose(PhotoRejected):
    type_slug = "person-too-close"
    title = "Person too close to the camera"


class NotFacingCamera(PhotoRejected):
    type_slug = "not-facing-camera"
    title = "Not facing the camera"


class NotInProfile(PhotoRejected):
    type_slug = "not-in-profile"
    title = "Not standing side-on"


class ArmsAgainstBody(PhotoRejected):
    type_slug = "arms-against-body"
    title = "Arms against the body"


class ArmsRaised(PhotoRejected):
    type_slug = "arms-raised"
    title = "Arm raised"


class PhotoTooDark(PhotoRejected):
    type_slug = "photo-too-dark"
    title = "Photo too dark"


class PhotoTooBlurry(PhotoRejected):
    type_slug = "photo-too-blurry"
    title = "Photo too blurry"


class UnsupportedCategory(InputError):
    """A garment category the try-on cannot dress (it knows upper, lower and dress)."""

    type_slug = "unsupported-category"
    title = "Unsupported garment category"


class GarmentRejected(InputError):
    """A garment photo the try-on cannot prepare; ``advice`` says what photo works."""

    type_slug = "garment-rejected"
    title = "Garment photo cannot be used"

    def __init__(self, message: str, *, advice: str, **details: Any) -> None:
        super().__init__(message, advice=advice, **details)
        self.advice = advice


class GarmentBackgroundBusy(GarmentRejected):
    type_slug = "garment-background-busy"
    title = "Garment photo background is not plain"


class NoGarmentFound(GarmentRejected):
    type_slug = "no-garment"
    title = "No garment found in the photo"


class PersonFacingAway(PhotoRejected):
    type_slug = "person-facing-away"
    title = "Person facing away from the camera"


class GarmentShowsPerson(GarmentRejected):
    type_slug = "garment-shows-person"
    title = "The garment photo shows a person"
