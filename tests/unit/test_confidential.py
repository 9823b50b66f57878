"""The user's side of TEE data and results: encrypted datasets, result keys, sealed results."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from pathlib import Path

import pytest

from pnyx.domain import crypto
from pnyx.domain.archive import (
    ENCRYPTED_RESULT_NAME,
    RESULT_SEAL_CONTEXT,
    ArchiveError,
    Computed,
    build_archive,
    read_archive,
    result_digest,
)
from pnyx.domain.task import digest_of_file
from pnyx.errors import NotFoundError, PnyxInputError
from pnyx.sdk.confidential import (
    KeyFileExistsError,
    NotEncryptedResultError,
    check_result_key,
    decrypt_dataset,
    decrypt_result,
    encrypt_dataset,
    load_result_key,
    open_result,
    push_dataset_secret,
    read_key_file,
    result_key_path,
    result_keygen,
    write_files,
)

pytestmark = pytest.mark.unit

BENEFICIARY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OUTPUT = {"result.json": b'{"mean": 4.5}\n', "logs/stdout.txt": b"done\n"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.csv"
    path.write_bytes(b"1,2,3\n4,5,6\n")
    return path


@pytest.fixture
def result_keys() -> tuple[bytes, bytes]:
    return crypto.new_box_keypair()


def tee_archive_files(public: bytes, output: dict[str, bytes]) -> dict[str, bytes]:
    """The files of a TEE result archive, built the way the enclave builds it."""
    sealed = crypto.seal(public, build_archive(output), context=RESULT_SEAL_CONTEXT)
    computed = Computed(f"/iexec_out/{ENCRYPTED_RESULT_NAME}", None, None)
    return {"computed.json": computed.to_json(), ENCRYPTED_RESULT_NAME: sealed}


def extracted(folder: Path, files: dict[str, bytes]) -> Path:
    """A result archive as `pnyx result get` leaves it on disk (through a real zip round trip)."""
    write_files(folder, read_archive(build_archive(files)))
    return folder


def raw_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name), content)
    return buffer.getvalue()


# ─── Datasets ───
def test_encrypt_dataset_round_trips_with_its_key_file(dataset: Path) -> None:
    encrypted = encrypt_dataset(dataset)

    assert encrypted.path == dataset.with_name("numbers.csv.enc")
    assert encrypted.key_file == dataset.with_name("numbers.csv.key")
    assert read_key_file(encrypted.key_file) == encrypted.key
    blob = encrypted.path.read_bytes()
    assert blob != dataset.read_bytes()
    assert decrypt_dataset(blob, read_key_file(encrypted.key_file)) == dataset.read_bytes()


def test_encrypt_dataset_checksum_is_the_encrypted_files_sha256(dataset: Path) -> None:
    encrypted = encrypt_dataset(dataset)

    blob = encrypted.path.read_bytes()
    # What the worker compares the on-chain checksum with after downloading the dataset.
    assert encrypted.checksum == "0x" + hashlib.sha256(blob).hexdigest() == digest_of_file(blob)
    assert encrypted.as_json()["checksum"] == encrypted.checksum
    assert "key" not in encrypted.as_json()


def test_encrypt_dataset_writes_the_key_file_owner_only(dataset: Path) -> None:
    encrypted = encrypt_dataset(dataset)

    assert encrypted.key_file is not None
    assert mode(encrypted.key_file) == 0o600
    assert encrypted.key_file.read_text() == "0x" + encrypted.key.hex() + "\n"


def test_encrypt_dataset_uses_fresh_keys_and_nonces(dataset: Path, tmp_path: Path) -> None:
    first = encrypt_dataset(dataset, tmp_path / "a.enc")
    second = encrypt_dataset(dataset, tmp_path / "b.enc")

    assert first.key != second.key
    assert first.checksum != second.checksum
    assert first.key_file == tmp_path / "a.key"


def test_encrypt_dataset_refuses_to_replace_a_key_file_when_asked(
    dataset: Path, tmp_path: Path
) -> None:
    first = encrypt_dataset(dataset)
    before = first.path.read_bytes()

    with pytest.raises(KeyFileExistsError, match="already exists: pass --force"):
        encrypt_dataset(dataset, overwrite=False)
    assert first.path.read_bytes() == before  # still the file the stored key opens
    assert read_key_file(dataset.with_name("numbers.csv.key")) == first.key

    forced = encrypt_dataset(dataset)
    assert read_key_file(dataset.with_name("numbers.csv.key")) == forced.key
    assert mode(dataset.with_name("numbers.csv.key")) == 0o600


def test_encrypt_dataset_without_key_file_keeps_the_key_in_memory(dataset: Path) -> None:
    encrypted = encrypt_dataset(dataset, write_key=False)

    assert encrypted.key_file is None
    assert not dataset.with_name("numbers.csv.key").exists()
    assert decrypt_dataset(encrypted.path.read_bytes(), encrypted.key) == dataset.read_bytes()


def test_encrypt_dataset_refuses_to_overwrite_the_original(dataset: Path) -> None:
    with pytest.raises(PnyxInputError, match="would replace the original"):
        encrypt_dataset(dataset, dataset)


def test_encrypt_dataset_reports_a_missing_file_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(PnyxInputError, match="cannot read dataset") as caught:
        encrypt_dataset(tmp_path / "nope.csv")
    assert "\n" not in str(caught.value)


def test_read_key_file_rejects_anything_but_one_hex_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("0x1234\n")

    with pytest.raises(PnyxInputError, match="is not a key file"):
        read_key_file(path)


class FakeSms:
    """Records what the SDK hands to the SMS client."""

    def __init__(self, result_key: bytes | None = None) -> None:
        self.pushed: list[tuple[object, ...]] = []
        self.asked: list[str] = []
        self._result_key = result_key

    def push_dataset_key(self, dataset: str, key: bytes, account: object) -> None:
        self.pushed.append((dataset, key, account))

    def result_key(self, beneficiary: str) -> bytes | None:
        self.asked.append(beneficiary)
        return self._result_key


def test_push_dataset_secret_sends_the_checksummed_address() -> None:
    sms, key = FakeSms(), crypto.new_symmetric_key()

    push_dataset_secret(sms, "owner", BENEFICIARY.lower(), key)  # type: ignore[arg-type]

    assert sms.pushed == [(BENEFICIARY, key, "owner")]


def test_push_dataset_secret_refuses_a_short_key() -> None:
    with pytest.raises(PnyxInputError, match="32 bytes"):
        push_dataset_secret(FakeSms(), "owner", BENEFICIARY, b"short")  # type: ignore[arg-type]


# ─── Result keys ───
def test_result_keygen_stores_the_private_key_owner_only(tmp_path: Path) -> None:
    path, public = result_keygen(tmp_path, BENEFICIARY)

    assert path == tmp_path / "result-keys" / f"{BENEFICIARY.lower()}.key"
    assert path == result_key_path(tmp_path, BENEFICIARY.lower())
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert crypto.box_public_key(load_result_key(tmp_path, BENEFICIARY)) == public


def test_result_keygen_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path, public = result_keygen(tmp_path, BENEFICIARY)
    private = load_result_key(tmp_path, BENEFICIARY)

    with pytest.raises(KeyFileExistsError, match=f"{path} already exists") as caught:
        result_keygen(tmp_path, BENEFICIARY)
    assert "\n" not in str(caught.value)
    assert load_result_key(tmp_path, BENEFICIARY) == private

    _, replaced = result_keygen(tmp_path, BENEFICIARY, force=True)
    assert replaced != public
    assert crypto.box_public_key(load_result_key(tmp_path, BENEFICIARY)) == replaced


def test_load_result_key_names_the_path_and_keygen_when_missing(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="run `pnyx result keygen`") as caught:
        load_result_key(tmp_path, BENEFICIARY)
    assert str(result_key_path(tmp_path, BENEFICIARY)) in str(caught.value)


def test_check_result_key_accepts_the_pushed_key(result_keys: tuple[bytes, bytes]) -> None:
    private, public = result_keys
    sms = FakeSms(public)

    check_result_key(sms, BENEFICIARY.lower(), private)  # type: ignore[arg-type]

    assert sms.asked == [BENEFICIARY]


def test_check_result_key_refuses_a_missing_or_other_key(
    result_keys: tuple[bytes, bytes],
) -> None:
    private, _ = result_keys

    with pytest.raises(NotFoundError, match="pnyx result push-key"):
        check_result_key(FakeSms(None), BENEFICIARY, private)  # type: ignore[arg-type]
    other = crypto.new_box_keypair()[1]
    with pytest.raises(PnyxInputError, match="push-key --replace"):
        check_result_key(FakeSms(other), BENEFICIARY, private)  # type: ignore[arg-type]


# ─── Results ───
def test_tee_archive_digest_is_the_sealed_files(result_keys: tuple[bytes, bytes]) -> None:
    files = tee_archive_files(result_keys[1], OUTPUT)

    assert result_digest(files) == digest_of_file(files[ENCRYPTED_RESULT_NAME])


def test_decrypt_result_round_trips(tmp_path: Path, result_keys: tuple[bytes, bytes]) -> None:
    private, public = result_keys
    folder = extracted(tmp_path / "result", tee_archive_files(public, OUTPUT))

    names = decrypt_result(folder, private, folder / "decrypted")

    assert names == sorted(OUTPUT)
    for name, content in OUTPUT.items():
        assert (folder / "decrypted" / name).read_bytes() == content


def test_open_result_reads_the_archive_in_memory(result_keys: tuple[bytes, bytes]) -> None:
    private, public = result_keys

    assert open_result(tee_archive_files(public, OUTPUT), private) == OUTPUT


def test_decrypt_result_refuses_a_tampered_result_in_one_line(
    tmp_path: Path, result_keys: tuple[bytes, bytes]
) -> None:
    private, public = result_keys
    files = tee_archive_files(public, OUTPUT)
    sealed = bytearray(files[ENCRYPTED_RESULT_NAME])
    sealed[-20] ^= 0x01
    folder = extracted(tmp_path / "result", {**files, ENCRYPTED_RESULT_NAME: bytes(sealed)})

    with pytest.raises(crypto.DecryptionError, match="cannot decrypt result.zip.enc") as caught:
        decrypt_result(folder, private, folder / "decrypted")
    assert "\n" not in str(caught.value)
    assert not (folder / "decrypted").exists()


def test_decrypt_result_refuses_another_beneficiarys_key(
    tmp_path: Path, result_keys: tuple[bytes, bytes]
) -> None:
    folder = extracted(tmp_path / "result", tee_archive_files(result_keys[1], OUTPUT))
    someone_else = crypto.new_box_keypair()[0]

    with pytest.raises(crypto.DecryptionError, match="wrong key"):
        decrypt_result(folder, someone_else, folder / "decrypted")


def test_decrypt_result_refuses_a_box_sealed_for_another_purpose(
    tmp_path: Path, result_keys: tuple[bytes, bytes]
) -> None:
    private, public = result_keys
    files = tee_archive_files(public, OUTPUT)
    files[ENCRYPTED_RESULT_NAME] = crypto.seal(
        public, build_archive(OUTPUT), context="pnyx-sms-session"
    )
    folder = extracted(tmp_path / "result", files)

    with pytest.raises(crypto.DecryptionError):
        decrypt_result(folder, private, folder / "decrypted")


@pytest.mark.parametrize("name", ["../escaped.txt", "/tmp/absolute.txt", "a/../../escaped.txt"])
def test_decrypt_result_refuses_paths_leaving_the_output(
    tmp_path: Path, result_keys: tuple[bytes, bytes], name: str
) -> None:
    private, public = result_keys
    inner = raw_zip({"result.json": b"{}", name: b"pwned"})
    files = tee_archive_files(public, {})
    files[ENCRYPTED_RESULT_NAME] = crypto.seal(public, inner, context=RESULT_SEAL_CONTEXT)
    folder = extracted(tmp_path / "result", files)

    with pytest.raises(ArchiveError, match="unsafe path"):
        decrypt_result(folder, private, folder / "decrypted")
    assert not (tmp_path / "escaped.txt").exists()
    assert not (folder / "escaped.txt").exists()
    assert not (folder / "decrypted").exists()


def test_decrypt_result_refuses_a_result_that_is_not_encrypted(
    tmp_path: Path, result_keys: tuple[bytes, bytes]
) -> None:
    folder = extracted(tmp_path / "result", {"error.txt": b"APP_FAILED: exit 3\n"})

    with pytest.raises(NotEncryptedResultError, match=r"not an encrypted TEE result.*APP_FAILED"):
        decrypt_result(folder, result_keys[0], folder / "decrypted")


def test_write_files_refuses_a_path_leaving_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="unsafe path"):
        write_files(tmp_path / "out", {"ok.txt": b"", "../escaped.txt": b"x"})
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "out" / "ok.txt").exists()
