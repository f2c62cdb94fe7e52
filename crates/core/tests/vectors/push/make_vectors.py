#!/usr/bin/env python3
"""Writes the push test vectors with Python's `cryptography` and `rfc8785` (the libraries
privacyIDEA 3.14 itself signs with), independent of the Rust code under test:

- phone-key-2048.*: a PKCS#8 key, its SubjectPublicKeyInfo and its signature of `1234|PIPU0001`;
- server-key.pkcs1.b64: a 4096-bit server public key as privacyIDEA sends it (a newline every
  64 characters);
- challenges.jsonl: challenges signed the way privacyIDEA 3.14's _build_smartphone_data signs;
- jcs.jsonl: RFC 8785 inputs and their canonical form (the RFC's own examples).

Run with a Python that has `cryptography` and `rfc8785` (e.g. the privacyIDEA test venv)."""
import base64, json, os
import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))

def write(name, text):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)

def sign(key, data):
    return base64.b32encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()

phone = rsa.generate_private_key(public_exponent=65537, key_size=2048)
der = phone.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
write("phone-key-2048.pk8.b64", base64.b64encode(der).decode() + "\n")
spki = phone.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
write("phone-key-2048.spki.b64", base64.b64encode(spki).decode() + "\n")
write("phone-key-2048.sig.b32", sign(phone, b"1234|PIPU0001") + "\n")

server = rsa.generate_private_key(public_exponent=65537, key_size=4096)
pkcs1 = server.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.PKCS1)
b64 = base64.b64encode(pkcs1).decode()
write("server-key.pkcs1.b64", "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)))

def challenge(nonce, question, title, presence=None, capabilities=None, sslverify="1"):
    d = {"nonce": nonce, "question": question, "serial": "PIPU0001A2B3", "title": title,
         "sslverify": sslverify, "url": "https://pi.example.com/ttype/push"}
    s = "{nonce}|{url}|{serial}|{question}|{title}|{sslverify}"
    if presence is not None:
        d["require_presence"] = ",".join(presence)
        d["version"] = "2"
        s += "|" + d["require_presence"]
    d["signature"] = sign(server, s.format(**d).encode("utf8"))
    if capabilities is not None:
        d["capabilities"] = json.dumps(capabilities)
        d["capabilities_signature"] = sign(
            server, rfc8785.dumps({"capabilities": capabilities, "nonce": nonce}))
    return d

lines = [
    {"name": "plain", "challenge": challenge(
        "GVMQ7TAXP5SQH4JDTJ7NUB2A6UXHDFZ4", "Sign in to 192.0.2.7 as alice?", "ACME")},
    {"name": "number-matching", "challenge": challenge(
        "2HHJ3BP6VUBTNSB4NSZG6V2F4MTBYMMI", "Sign-in to Firefox from 192.0.2.7 at 17:47?",
        "ACME sign-in", presence=["07", "69", "23"])},
    {"name": "capabilities", "challenge": challenge(
        "QJ6RN7NZHRWLVCAWKI54JGGAW5RFQ2OP", "Anmeldung bei München – ok? ✓", "ACME",
        capabilities={"decline_reason": True})},
    {"name": "number-matching-capabilities-sslverify-0", "challenge": challenge(
        "RZ3ZL5W3ZBT4XWQ3YZ4Q6XVBGDMXS5RS", "Sign in as bob?", "Title | with bar",
        presence=["A", "B"], capabilities={"decline_reason": True}, sslverify="0")},
]
write("challenges.jsonl", "".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lines))

jcs_inputs = [
    # RFC 8785 section 3.2.2
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
    ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
    ' "literals": [null, true, false]}',
    # RFC 8785 section 3.2.3 (sorting by UTF-16 code units)
    '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",'
    ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",'
    ' "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    # What privacyIDEA 3.14 signs
    '{"nonce": "QJ6RN7NZHRWLVCAWKI54JGGAW5RFQ2OP", "capabilities": {"decline_reason": true}}',
    '{"b": [1, 10, -0, 1e21, 1e-7, 0.1], "a": {"z": {}, "y": []}}',
]
write("jcs.jsonl", "".join(
    json.dumps({"input": i, "canonical": rfc8785.dumps(json.loads(i)).decode()},
               ensure_ascii=False) + "\n" for i in jcs_inputs))
