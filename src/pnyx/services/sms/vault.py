"""The SMS's master key, and the encryption of every secret at rest under it.

The database holds only AES-256-GCM ciphertexts whose additional data is the secret's identity
(`pnyx.domain.sms.secret_identity`), so a copy of the database without `master.key` reveals
nothing, and a ciphertext moved to another row does not decrypt. The key file is created once,
readable by its owner only, and refused if others can read it (as ssh refuses a shared key)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from pnyx.domain.crypto import KEY_BYTES, decrypt, encrypt, new_symmetric_key
from pnyx.errors import ConfigError


@dataclass(frozen=True)
class Vault:
    key: bytes

    def encrypt(self, identity: bytes, plaintext: bytes) -> bytes:
        return encrypt(self.key, plaintext, aad=identity)

    def decrypt(self, identity: bytes, ciphertext: bytes) -> bytes:
        return decrypt(self.key, ciphertext, aad=identity)

    @classmethod
    def open(cls, path: Path) -> Vault:
        """The vault of the key in `path`, creating the key (mode 0600) if there is none."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls(_read_key(path))
        with os.fdopen(descriptor, "wb") as file:
            file.write(new_symmetric_key())
        return cls(_read_key(path))


def _read_key(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path} is readable by others (mode {mode:04o}): the SMS master key must be private "
            f"(chmod 600 {path})"
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{path} holds {len(key)} bytes; an SMS master key is {KEY_BYTES}")
    return key
