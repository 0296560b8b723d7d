"""Call recordings (随访电话录音): checked by content, kept under the clinic's
storage prefix, converted to a playable format when needed, played through
a permission-checked view that writes an audit row for every playback."""
import logging

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.core import audit, storage
from app.followups import audio
from app.followups.models import CallRecording, FollowupRecord
from tenants.context import require_tenant_id
from tenants.db import db

log = logging.getLogger(__name__)
MAX_BYTES = 20 * 1024 * 1024
AREA = "recordings"


class RecordingRefused(ValueError):
    pass


def max_bytes() -> int:
    return int(current_app.config.get("FOLLOWUP_RECORDING_MAX_BYTES", MAX_BYTES))


def read_upload(upload) -> tuple[bytes, str]:
    """(bytes, file name) of a form's file; one byte past the limit is all that
    is read of a file too large, so attach() refuses it without reading it whole."""
    if upload is None:
        return b"", ""
    return upload.read(max_bytes() + 1), upload.filename or ""


def attach(record: FollowupRecord, data: bytes, filename: str, *, actor_id: int | None) -> CallRecording:
    """Check, store (and convert) one recording. The caller commits."""
    if not data:
        raise RecordingRefused(_("Choose a recording to upload."))
    if len(data) > max_bytes():
        raise RecordingRefused(_("A recording may be at most %(mb)d MB.", mb=max_bytes() // (1024 * 1024)))
    kind = audio.detect(data)
    if kind is None:
        raise RecordingRefused(_("This file is not an audio recording (MP3, M4A/AAC, WAV or AMR)."))
    tenant_id, backend = require_tenant_id(), storage.backend()
    original = storage.new_key(tenant_id, AREA, f".{kind}")
    backend.save(original, data)
    play_key: str | None = original  # None: kept, but the browser cannot play it
    play_mime, seconds = audio.MIME[kind], audio.duration(data, kind)
    if kind not in audio.PLAYABLE:
        try:
            converted = audio.to_wav(data, kind)
        except audio.ConversionUnavailable:
            log.warning("ffmpeg missing: recording kept as %s, not playable in the browser", kind)
            play_key, play_mime = None, ""
        else:
            play_key, play_mime = storage.new_key(tenant_id, AREA, ".wav"), audio.MIME["wav"]
            backend.save(play_key, converted)
            seconds = audio.duration(converted, "wav") or seconds
    recording = CallRecording(record_id=record.id, patient_id=record.patient_id, original_key=original,
                              original_format=kind, play_key=play_key, play_mime=play_mime, size=len(data),
                              duration_seconds=seconds, filename=(filename or "")[:200], uploaded_by=actor_id)
    db.session.add(recording)
    db.session.flush()
    audit.record("recording_uploaded", patient_id=record.patient_id, recording_id=recording.id, format=kind)
    return recording


def get(recording_id: int) -> CallRecording | None:
    return db.session.scalar(select(CallRecording).where(CallRecording.id == recording_id))


def of_records(record_ids: list[int]) -> dict[int, list[CallRecording]]:
    if not record_ids:
        return {}
    found: dict[int, list[CallRecording]] = {}
    for row in db.session.scalars(select(CallRecording).where(CallRecording.record_id.in_(record_ids))
                                  .order_by(CallRecording.created_at)):
        found.setdefault(row.record_id, []).append(row)
    return found


def play(recording: CallRecording) -> tuple[bytes, str]:
    """The playable bytes and their type; audited. The caller commits."""
    key = recording.play_key or recording.original_key
    if not storage.belongs_to(key, require_tenant_id()):
        raise storage.StorageError("recording outside the clinic's prefix")
    data = storage.backend().read(key)
    audit.record("recording_played", patient_id=recording.patient_id, recording_id=recording.id)
    return data, recording.play_mime or audio.MIME[recording.original_format]
