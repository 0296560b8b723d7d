"""File storage under tenant-prefixed keys.

Keys look like ``tenants/<tenant_id>/<area>/<name>``; a view serves a file only
after checking the key is under the requesting tenant's prefix. The local
backend (``file://`` STORAGE_URL) keeps files in a folder; an S3-compatible
backend can implement the same three calls.
"""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app


class StorageError(RuntimeError):
    pass


def tenant_prefix(tenant_id: int) -> str:
    return f"tenants/{int(tenant_id)}/"


def new_key(tenant_id: int, area: str, suffix: str) -> str:
    return f"{tenant_prefix(tenant_id)}{area}/{secrets.token_hex(12)}{suffix}"


def belongs_to(key: str, tenant_id: int) -> bool:
    return key.startswith(tenant_prefix(tenant_id)) and ".." not in key.split("/")


class LocalStorage:
    def __init__(self, root: str):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise StorageError("key outside the storage root")
        return path

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # readers never see a half-written file

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def backend() -> LocalStorage:
    url = current_app.config["STORAGE_URL"]
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise StorageError(f"unsupported STORAGE_URL scheme {parts.scheme!r}")
    return LocalStorage(parts.path)
