"""Recognising call recordings by their content, and their duration.

Formats: MP3 (ID3 tag or an MPEG audio frame), M4A (ISO BMFF ``ftyp``), AAC
(ADTS frames), WAV (RIFF/WAVE) and AMR (``#!AMR``). The name a file was
uploaded with is never trusted. Durations come from the headers (WAV byte
rate, M4A ``mvhd``, counted AMR/ADTS frames, MP3 bitrate of the first frame,
which is exact for constant bitrate and an estimate otherwise).
"""
import shutil
import struct
import subprocess

MIME = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "aac": "audio/aac", "wav": "audio/wav", "amr": "audio/amr"}
PLAYABLE = ("mp3", "m4a", "aac", "wav")  # what current browsers play in <audio>
_MP3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)      # MPEG-1 Layer III
_MP3_KBPS_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)       # MPEG-2/2.5 Layer III
_ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
_AMR_NB_BYTES = (13, 14, 16, 18, 20, 21, 27, 32, 6, 1, 1, 1, 1, 1, 1, 1)           # per frame, with its header
_M4A_BRANDS = (b"M4A ", b"M4B ", b"mp42", b"mp41", b"isom", b"iso2", b"3gp4", b"3gp5", b"dash")


class ConversionUnavailable(RuntimeError):
    """ffmpeg is not installed."""


def _id3_size(data: bytes) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    return 10 + size


def _mp3_frame(data: bytes, at: int) -> tuple[int, int] | None:
    """(bitrate in kbit/s, MPEG version bits) of a frame header at ``at``."""
    if len(data) < at + 4 or data[at] != 0xFF or (data[at + 1] & 0xE0) != 0xE0:
        return None
    version, layer = (data[at + 1] >> 3) & 3, (data[at + 1] >> 1) & 3
    index, rate = data[at + 2] >> 4, (data[at + 2] >> 2) & 3
    if layer != 1 or version == 1 or index in (0, 15) or rate == 3:  # Layer III, a real bitrate and rate
        return None
    return (_MP3_KBPS if version == 3 else _MP3_KBPS_V2)[index], version


def detect(data: bytes) -> str | None:
    """The audio format of ``data`` ("mp3", "m4a", "aac", "wav", "amr") or None."""
    if data[:6] == b"#!AMR\n":
        return "amr"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[4:8] == b"ftyp" and data[8:12] in _M4A_BRANDS:
        return "m4a"
    if len(data) > 1 and data[0] == 0xFF and (data[1] & 0xF6) == 0xF0:
        return "aac"
    return "mp3" if _mp3_frame(data, _id3_size(data)) else None


def _wav_seconds(data: bytes) -> float | None:
    at, byte_rate = 12, None
    while at + 8 <= len(data):
        kind, size = data[at:at + 4], struct.unpack("<I", data[at + 4:at + 8])[0]
        if kind == b"fmt " and size >= 16:
            byte_rate = struct.unpack("<I", data[at + 16:at + 20])[0]
        elif kind == b"data" and byte_rate:
            return min(size, len(data) - at - 8) / byte_rate
        at += 8 + size + (size & 1)
    return None


def _m4a_seconds(data: bytes) -> float | None:
    at = data.find(b"mvhd")
    if at < 0 or len(data) < at + 32:
        return None
    version = data[at + 4]
    if version == 1:
        scale, length = struct.unpack(">IQ", data[at + 24:at + 36])
    else:
        scale, length = struct.unpack(">II", data[at + 16:at + 24])
    return length / scale if scale else None


def _amr_seconds(data: bytes) -> float:
    at, frames = 6, 0
    while at < len(data):
        at += _AMR_NB_BYTES[(data[at] >> 3) & 0x0F]
        frames += 1
    return frames * 0.02


def _aac_seconds(data: bytes) -> float | None:
    at, frames, rate = 0, 0, None
    while at + 7 <= len(data) and data[at] == 0xFF and (data[at + 1] & 0xF6) == 0xF0:
        index = (data[at + 2] >> 2) & 0x0F
        rate = _ADTS_RATES[index] if index < len(_ADTS_RATES) else None
        length = ((data[at + 3] & 3) << 11) | (data[at + 4] << 3) | (data[at + 5] >> 5)
        if length < 7 or rate is None:
            break
        at, frames = at + length, frames + 1
    return frames * 1024 / rate if rate and frames else None


def _mp3_seconds(data: bytes) -> float | None:
    offset = _id3_size(data)
    frame = _mp3_frame(data, offset)
    if frame is None or not frame[0]:
        return None
    return (len(data) - offset) * 8 / (frame[0] * 1000)


def duration(data: bytes, kind: str) -> float | None:
    try:
        return {"wav": _wav_seconds, "m4a": _m4a_seconds, "amr": _amr_seconds, "aac": _aac_seconds,
                "mp3": _mp3_seconds}[kind](data)
    except (struct.error, IndexError, ZeroDivisionError):
        return None


def ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


def to_wav(data: bytes, kind: str) -> bytes:
    """Convert (AMR) audio to a WAV browsers play; ConversionUnavailable without ffmpeg."""
    binary = ffmpeg()
    if binary is None:
        raise ConversionUnavailable("ffmpeg is not installed")
    done = subprocess.run([binary, "-nostdin", "-loglevel", "error", "-f", kind, "-i", "pipe:0",
                           "-ac", "1", "-f", "wav", "pipe:1"], input=data, capture_output=True, timeout=120)
    if done.returncode != 0 or detect(done.stdout) != "wav":
        raise RuntimeError(f"ffmpeg could not convert the recording: {done.stderr[-300:]!r}")
    return done.stdout
