"""A file-backed keyring backend, so that ``cim`` run in a subprocess shares a keyring with
the test that started it (a real ``KeyringBackend`` subclass; tests only).

Selected with ``PYTHON_KEYRING_BACKEND=tests.file_keyring.FileKeyring``; entries live in the
JSON file named by ``CIM_TEST_KEYRING_FILE``. Without that variable the backend declares itself
not viable, so it can never be picked up by accident.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import keyring.errors
from keyring.backend import KeyringBackend
from keyring.compat import properties

ENV = "CIM_TEST_KEYRING_FILE"


def _key(service: str, username: str) -> str:
    return f"{service}\x1f{username}"


class FileKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805  (a class property, as keyring declares it)
        if not os.environ.get(ENV):
            raise RuntimeError(f"{ENV} is not set")
        return 1

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[ENV])

    def _load(self) -> dict[str, Any]:
        try:
            text = self._path().read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        # A damaged file is a bug in the test, and must surface as one (not as "no entry").
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError("the test keyring file does not hold a JSON object")
        return data

    def _save(self, data: dict[str, Any]) -> None:
        path = self._path()
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)

    def get_password(self, service: str, username: str) -> str | None:
        value = self._load().get(_key(service, username))
        return None if value is None else str(value)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[_key(service, username)] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(_key(service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._save(data)
