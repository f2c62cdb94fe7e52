#!/usr/bin/env python3
"""Writes google.jsonl: Google Authenticator migration URIs built with a hand-rolled protobuf
encoder (independent of the prost code under test) and the accounts they must decode to."""
import base64, json, os, urllib.parse

def varint(n):
    if n < 0:
        n += 1 << 64
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def field(tag, wt, val):
    key = varint((tag << 3) | wt)
    return key + varint(val) if wt == 0 else key + varint(len(val)) + val

def otp(secret, name, issuer, alg, digits, typ, counter=0):
    b = field(1, 2, secret) + field(2, 2, name.encode()) + field(3, 2, issuer.encode())
    for tag, v in ((4, alg), (5, digits), (6, typ), (7, counter)):
        if v:
            b += field(tag, 0, v)
    return b

def payload(ps, version=1, size=1, index=0, bid=0):
    return b"".join(field(1, 2, p) for p in ps) + field(2, 0, version) + field(3, 0, size) \
        + field(4, 0, index) + field(5, 0, bid)

def uri(b):
    return "otpauth-migration://offline?data=" + urllib.parse.quote(base64.b64encode(b).decode(), safe="")

def totp(issuer, name, secret, alg="SHA1", digits=6):
    return {"issuer": issuer, "name": name, "type": "totp", "algorithm": alg, "digits": digits,
            "period": 30, "secret_hex": secret.hex()}

s1 = b"12345678901234567890"
s2 = bytes(range(1, 11))
s3 = bytes([0xFB, 0xEF, 0xFF] * 7)
cases = [
    {"case": "three accounts, unspecified defaults, issuer prefix in name, HOTP",
     "uri": uri(payload([otp(s1, "Deno:Mason", "Deno", 1, 1, 2), otp(s2, "alice@example.com", "", 0, 0, 0),
                         otp(s1, "bob", "Issuu", 2, 2, 1, 42)], 1, 1, 0, 123456)),
     "batch_size": 1, "batch_index": 0, "batch_id": 123456,
     "entries": [totp("Deno", "Mason", s1), totp("", "alice@example.com", s2),
                 {"issuer": "Issuu", "name": "bob", "type": "hotp", "algorithm": "SHA256", "digits": 8,
                  "counter": 42, "secret_hex": s1.hex()}]},
    {"case": "bad entries are errors in place; second QR of three",
     "uri": uri(payload([otp(s1, "a", "X", 4, 1, 2), otp(b"", "b", "X", 1, 1, 2), otp(s1, "c", "X", 1, 1, 2),
                         otp(s1, "d", "X", 9, 1, 2), otp(s1, "e", "X", 1, 5, 2), otp(s1, "f", "X", 1, 1, 7)],
                        1, 3, 1, -7)),
     "batch_size": 3, "batch_index": 1, "batch_id": -7,
     "entries": [{"error": "Algorithm(4)"}, {"error": "EmptySecret"}, totp("X", "c", s1),
                 {"error": "Algorithm(9)"}, {"error": "Digits(5)"}, {"error": "Type(7)"}]},
    {"case": "no batch fields (old exports)", "uri": uri(field(1, 2, otp(s1, "n", "I", 1, 1, 2))),
     "batch_size": 1, "batch_index": 0, "batch_id": 0, "entries": [totp("I", "n", s1)]},
    {"case": "unencoded + and / in data",
     "uri": "otpauth-migration://offline?data=" + base64.b64encode(payload([otp(s3, "p", "Q", 1, 1, 2)])).decode(),
     "batch_size": 1, "batch_index": 0, "batch_id": 0, "entries": [totp("Q", "p", s3)]},
    {"case": "truncated payload", "uri": uri(payload([otp(s1, "n", "I", 1, 1, 2)])[:-9]), "error": "Protobuf"},
    {"case": "garbage bytes", "uri": uri(b"\xff\xff\xff\xff"), "error": "Protobuf"},
    {"case": "not base64", "uri": "otpauth-migration://offline?data=%25%25%25", "error": "Base64"},
    {"case": "no data", "uri": "otpauth-migration://offline?x=1", "error": "MissingData"},
    {"case": "index past size", "uri": uri(payload([], 1, 2, 2, 1)), "error": "Batch"},
]
assert "+" in cases[3]["uri"] or "/" in cases[3]["uri"]
with open(os.path.join(os.path.dirname(__file__), "google.jsonl"), "w") as f:
    for c in cases:
        f.write(json.dumps(c, ensure_ascii=False) + "\n")
