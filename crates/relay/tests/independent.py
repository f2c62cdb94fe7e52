"""Independent checks for the relay's tests: reads a JSON list of tasks on stdin and writes a
JSON list of results. Any failed check raises, and the test fails with the traceback.

  {"op": "decrypt", "body": B64URL, "private_key": B64URL (32 bytes), "auth": B64URL}
      -> {"plaintext": TEXT}                      (http_ece, RFC 8291 aes128gcm)
  {"op": "verify_jwt", "jwt": TEXT, "alg": "ES256"|"RS256",
   "public_sec1": B64URL | "public_pem": TEXT, "audience": TEXT (optional)}
      -> {"header": {...}, "claims": {...}}       (PyJWT + cryptography)
  {"op": "rsa_key"} -> {"pem": PKCS#8 PEM}        (cryptography)
"""
import base64
import json
import sys

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def run(task):
    op = task["op"]
    if op == "decrypt":
        key = ec.derive_private_key(
            int.from_bytes(b64d(task["private_key"]), "big"), ec.SECP256R1()
        )
        plain = http_ece.decrypt(
            b64d(task["body"]),
            private_key=key,
            auth_secret=b64d(task["auth"]),
            version="aes128gcm",
        )
        return {"plaintext": plain.decode("utf-8")}
    if op == "verify_jwt":
        if "public_sec1" in task:
            key = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b64d(task["public_sec1"])
            )
        else:
            key = serialization.load_pem_public_key(task["public_pem"].encode())
        audience = task.get("audience")
        claims = jwt.decode(
            task["jwt"],
            key=key,
            algorithms=[task["alg"]],
            audience=audience,
            options={"verify_aud": audience is not None},
        )
        return {"header": jwt.get_unverified_header(task["jwt"]), "claims": claims}
    if op == "rsa_key":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        ).decode()
        return {"pem": pem, "public_pem": public}
    raise ValueError("unknown op " + op)


json.dump([run(t) for t in json.load(sys.stdin)], sys.stdout)
