#!/usr/bin/env python3
"""Writes the encrypted Ente Auth and Bitwarden exports that `tests/import_vectors.rs` reads,
with implementations independent of Twofold's: PyNaCl (libsodium's crypto_pwhash Argon2id and
crypto_secretstream_xchacha20poly1305, as Ente Auth uses them) and `cryptography` (PBKDF2,
Argon2id, HKDF-Expand, AES-256-CBC, HMAC-SHA256: Bitwarden's EncString type 2).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pynacl cryptography
    /tmp/venv/bin/python generate.py        # in this folder; rewrites the files below

Everything random comes from `random.Random(SEED)` except the secretstream header, which
libsodium's init_push draws itself (its API takes no header): a new run writes a different but
equally valid Ente file. `expected.json` lists the accounts every file must import to.

Files: ente-encrypted.json (password "ente test password"), bitwarden-encrypted-pbkdf2.json
and bitwarden-encrypted-argon2id.json (password "bitwarden test password"),
bitwarden-account-restricted.json (encrypted with an account key, which an importer refuses).
"""

import base64
import hashlib
import json
import random
import urllib.parse
from pathlib import Path

import nacl.bindings as sodium
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

SEED = 22
rng = random.Random(SEED)
HERE = Path(__file__).resolve().parent
ENTE_PASSWORD = b"ente test password"
BITWARDEN_PASSWORD = b"bitwarden test password"


def rand(n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


# The accounts, as `expected.json` states them (secrets in Base32).
ACCOUNTS = [
    {"type": "totp", "issuer": "ACME Co", "name": "alice@example.com", "secret": b32(rand(20)),
     "algorithm": "SHA1", "digits": 6, "period": 30, "counter": None},
    {"type": "totp", "issuer": "Bank", "name": "bob", "secret": b32(rand(32)),
     "algorithm": "SHA256", "digits": 8, "period": 60, "counter": None},
    {"type": "hotp", "issuer": "Forge", "name": "carol", "secret": b32(rand(20)),
     "algorithm": "SHA512", "digits": 6, "period": None, "counter": 5},
    {"type": "steam", "issuer": "Steam", "name": "dave", "secret": b32(rand(20)),
     "algorithm": "SHA1", "digits": 5, "period": 30, "counter": None},
]


def uri(a: dict) -> str:
    label = urllib.parse.quote(f"{a['issuer']}:{a['name']}")
    query = {"secret": a["secret"], "issuer": a["issuer"]}
    if a["type"] != "steam":
        query.update(algorithm=a["algorithm"], digits=str(a["digits"]))
    if a["period"] is not None:
        query["period"] = str(a["period"])
    if a["counter"] is not None:
        query["counter"] = str(a["counter"])
    return f"otpauth://{a['type']}/{label}?{urllib.parse.urlencode(query)}"


# ---- Ente Auth: Argon2id (crypto_pwhash) + one secretstream message tagged FINAL
def ente() -> dict:
    lines = []
    for i, a in enumerate(ACCOUNTS):
        display = {"pinned": i == 0, "trashed": False, "tags": ["work"] if i == 0 else [],
                   "note": "first" if i == 0 else ""}
        lines.append(uri(a) + "&codeDisplay=" + urllib.parse.quote(json.dumps(display)))
    trashed = dict(ACCOUNTS[0], name="trashed", secret=b32(rand(20)))
    lines.append(uri(trashed) + "&codeDisplay=" + urllib.parse.quote(
        json.dumps({"pinned": False, "trashed": True, "tags": [], "note": ""})))
    plain = "\n".join(lines).encode()

    salt = rand(sodium.crypto_pwhash_SALTBYTES)
    # libsodium's "interactive" limits (older Ente versions used them): 64 MiB, 2 passes.
    mem_limit, ops_limit = 64 * 1024 * 1024, 2
    key = sodium.crypto_pwhash_alg(32, ENTE_PASSWORD, salt, ops_limit, mem_limit,
                                   sodium.crypto_pwhash_ALG_ARGON2ID13)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    sealed = sodium.crypto_secretstream_xchacha20poly1305_push(
        state, plain, None, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL)
    return {
        "version": 1,
        "kdfParams": {"memLimit": mem_limit, "opsLimit": ops_limit, "salt": b64(salt)},
        "encryptedData": b64(sealed),
        "encryptionNonce": b64(header),
    }


# ---- Bitwarden: key from the password, stretched with HKDF-Expand, EncString type 2
def stretch(key: bytes) -> tuple[bytes, bytes]:
    enc = HKDFExpand(hashes.SHA256(), 32, b"enc").derive(key)
    mac = HKDFExpand(hashes.SHA256(), 32, b"mac").derive(key)
    return enc, mac


def enc_string(enc: bytes, mac_key: bytes, plain: bytes) -> str:
    iv = rand(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(enc), modes.CBC(iv)).encryptor()
    ct = encryptor.update(padded) + encryptor.finalize()
    h = hmac.HMAC(mac_key, hashes.SHA256())
    h.update(iv + ct)
    return f"2.{b64(iv)}|{b64(ct)}|{b64(h.finalize())}"


def bitwarden_plain() -> dict:
    folder = "5f2b6e1c-0000-4000-8000-00000000f01d"
    items = []
    for i, a in enumerate(ACCOUNTS):
        # The second account as a bare Base32 secret, as Bitwarden allows (TOTP, SHA1, 6, 30).
        totp = uri(a) if i != 1 else a["secret"]
        items.append({
            "id": f"00000000-0000-4000-8000-00000000000{i}", "folderId": folder if i == 0 else None,
            "type": 1, "name": a["issuer"], "notes": "first" if i == 0 else None,
            "favorite": i == 0,
            "login": {"username": a["name"], "password": "not an OTP", "totp": totp, "uris": []},
        })
    items.append({"id": "00000000-0000-4000-8000-000000000009", "folderId": None, "type": 1,
                  "name": "Plain login", "notes": None, "favorite": False,
                  "login": {"username": "eve", "password": "pw", "totp": None}})
    items.append({"id": "00000000-0000-4000-8000-00000000000a", "folderId": None, "type": 2,
                  "name": "A note", "notes": "text", "favorite": False, "secureNote": {"type": 0}})
    return {"encrypted": False, "folders": [{"id": folder, "name": "Work"}], "items": items}


def bitwarden(kdf_type: int) -> dict:
    salt = b64(rand(16))  # Bitwarden uses the Base64 text itself as the salt
    if kdf_type == 0:
        iterations, memory, parallelism = 600_000, None, None
        key = PBKDF2HMAC(hashes.SHA256(), 32, salt.encode(), iterations).derive(BITWARDEN_PASSWORD)
    else:
        iterations, memory, parallelism = 3, 64, 4  # Bitwarden's defaults; memory in MiB
        key = Argon2id(salt=hashlib.sha256(salt.encode()).digest(), length=32,
                       iterations=iterations, lanes=parallelism,
                       memory_cost=memory * 1024).derive(BITWARDEN_PASSWORD)
    enc, mac = stretch(key)
    validation = "c0ffee00-1234-4abc-8def-%012x" % rng.getrandbits(48)
    return {
        "encrypted": True,
        "passwordProtected": True,
        "salt": salt,
        "kdfType": kdf_type,
        "kdfIterations": iterations,
        "kdfMemory": memory,
        "kdfParallelism": parallelism,
        "encKeyValidation_DO_NOT_EDIT": enc_string(enc, mac, validation.encode()),
        "data": enc_string(enc, mac, json.dumps(bitwarden_plain(), indent=2).encode()),
    }


def account_restricted() -> dict:
    enc, mac = rand(32), rand(32)  # an account's key, which the file does not hold
    e = lambda text: enc_string(enc, mac, text.encode())  # noqa: E731
    return {
        "encrypted": True,
        "encKeyValidation_DO_NOT_EDIT": e("c0ffee00-1234-4abc-8def-000000000001"),
        "folders": [{"id": "f", "name": e("Work")}],
        "items": [{"id": "i", "type": 1, "name": e("ACME"), "favorite": False,
                   "login": {"username": e("alice"), "totp": e(uri(ACCOUNTS[0]))}}],
    }


def write(name: str, value) -> None:
    (HERE / name).write_text(json.dumps(value, indent=2) + "\n")


write("ente-encrypted.json", ente())
write("bitwarden-encrypted-pbkdf2.json", bitwarden(0))
write("bitwarden-encrypted-argon2id.json", bitwarden(1))
write("bitwarden-account-restricted.json", account_restricted())
write("expected.json", {"seed": SEED, "ente_password": ENTE_PASSWORD.decode(),
                        "bitwarden_password": BITWARDEN_PASSWORD.decode(),
                        "accounts": ACCOUNTS})
