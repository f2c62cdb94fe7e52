#!/usr/bin/env python3
"""Captures real-3.14.json: a challenge exactly as a live privacyIDEA 3.14 sends it to a
polling phone (number matching, signed capabilities), with the token's server public key as
the enrolment reply carried it (newlines included) and the phone key that polled, so the Rust
unit tests verify genuine server bytes without a server.

Usage: capture_real.py BASE_URL ADMIN_PASSWORD USER PIN, against a server configured as
tests/cli/privacyidea.rs configures it (poll only, a number-matching policy for USER). The phone
side is done here with `cryptography`, independent of the Rust code."""
import base64, datetime, json, os, sys
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

base, admin_pw, user, pin = sys.argv[1:5]
auth = requests.post(f"{base}/auth", data={"username": "admin", "password": admin_pw}).json()
hdr = {"PI-Authorization": auth["result"]["value"]["token"]}
init = requests.post(f"{base}/token/init", headers=hdr,
                     data={"type": "push", "genkey": "1", "user": user, "pin": pin}).json()
qr = init["detail"]["pushurl"]["value"]
q = dict(p.split("=", 1) for p in qr.split("?", 1)[1].split("&"))
url = requests.utils.unquote(q["url"])
serial = q["serial"]

phone = rsa.generate_private_key(public_exponent=65537, key_size=2048)
spki = phone.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
enrol = requests.post(url, data={"enrollment_credential": q["enrollment_credential"],
                                 "serial": serial, "fbtoken": "no_firebase_token",
                                 "pubkey": base64.b64encode(spki).decode()}).json()
server_key = enrol["detail"]["public_key"]

trigger = requests.post(f"{base}/validate/check", data={"user": user, "pass": pin}).json()
ts = datetime.datetime.now(datetime.timezone.utc).isoformat()
sig = base64.b32encode(phone.sign(f"{serial}|{ts}".encode(), padding.PKCS1v15(),
                                  hashes.SHA256())).decode()
poll = requests.get(url, params={"serial": serial, "timestamp": ts, "signature": sig})
der = phone.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
out = {
    "version": poll.json()["version"],
    "serial": serial,
    "url": url,
    "server_public_key": server_key,
    "phone_private_key_pkcs8": base64.b64encode(der).decode(),
    "presence_answer": trigger["detail"].get("presence_answer"),
    "poll_reply": poll.text,
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "real-3.14.json"), "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(serial, len(poll.json()["result"]["value"]), "challenge(s)")
