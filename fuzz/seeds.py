#!/usr/bin/env python3
"""Writes the committed seed corpora (fuzz/corpus/<target>/seed-*): small, valid inputs the
fuzzer starts from, so it begins past the formats a random input rarely hits (a live session
record, pending-login slots, a cookie sealed with the targets' key, queries with the real state).

The formats are the library's: postcard (unsigned LEB128 varints, strings as length + bytes,
Option as 0/1, enum variants as varints) and the cookie seal, base64url(nonce || AES-256-GCM
ciphertext || tag) with the key HKDF-SHA256(salt "discord-oauth cookie keys", SECRET_KEY,
info per cookie) and the cookie name as associated data. The constants match fuzz/common.rs.
Run from anywhere: python3 fuzz/seeds.py (needs the `cryptography` package for the sealed seed).
"""
import base64
import os
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
NOW = 1_800_000_000
SECRET_KEY = b"fuzz-secret-key-fuzz-secret-key-fuzz-secret-key!"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return varint(len(b)) + b


def option(value, encode):
    return b"\x00" if value is None else b"\x01" + encode(value)


def record(refresh="fuzz-refresh-token", user=80351110224678912, created=NOW - 60):
    return (
        bytes([7] * 16)
        + varint(1)
        + string("fuzz-access-token")
        + option(refresh, string)
        + string("identify guilds")
        + option(user, varint)
        + varint(NOW + 3600)
        + varint(created)
        + varint(created)
    )


def pending(slots):
    out = varint(len(slots))
    for state, flow, created in slots:
        out += (
            string(state)
            + option("v" * 43, string)
            + option("/after?x=1", string)
            + option('{"a":1}', string)
            + string("identify")
            + varint(created)
            + flow
        )
    return out


def seal(info, name, plaintext):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"discord-oauth cookie keys", info=info
    ).derive(SECRET_KEY)
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(key).encrypt(nonce, plaintext, name.encode())
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


LOGIN = varint(0)
INSTALL = varint(1) + option(123, varint) + bytes([0, 1])
LINKED_ROLE = varint(2)

session_sealed = seal(b"discord-oauth/v1/session-cookie", "discord_session", record())
pending_sealed = seal(
    b"discord-oauth/v1/pending-login-cookie",
    "discord_login",
    pending([("s" * 22, LOGIN, NOW - 10)]),
)

SEEDS = {
    "session_cookie": [
        b"\x00" + f"discord_session={session_sealed}".encode(),
        b"\x00" + f"a=1; discord_session=garbage; discord_session={session_sealed}".encode(),
        b"\x00" + f"discord_login={pending_sealed}\ndiscord_session=x".encode(),
        b"\x00discord_session=; discord_session=\"AAAA\"; __Host-discord_session=x",
        b"\x01" + record(),
        b"\x01" + record(refresh=None, user=None),
        b"\x01" + record(created=NOW - 40 * 24 * 3600),
        b"\x02" + bytes([7] * 16),
        b"\x02" + bytes([8] * 16),
        b"\x03" + pending([("s" * 22, LOGIN, NOW - 10)]),
        b"\x03" + pending([("a" * 22, INSTALL, NOW - 10), ("b" * 22, LINKED_ROLE, NOW - 900)]),
    ],
    "callback_query": [
        b"code=NhhvTDYsFcdgNLnnLijcl7Ku7bEEeee&state=STATE",
        b"error=access_denied&error_description=The+user+cancelled&state=STATE",
        b"error=invalid_scope&error_description=a%0D%0Ab%E2%80%A8c&state=STATE",
        b"state=STATE&code=bo%20gus",
        b"state=STATE",
        b"code=abc&state=forged",
        b"guild_id=123&permissions=8&code=a.b_c~d-e&state=STATE&state=",
    ],
    "next_sanitizer": [
        b"/",
        b"/me?x=1#frag",
        b"//evil.example",
        b"/\\evil.example",
        b"/\t/evil.example",
        b"/a b\"<>\xc3\xa9t\xc3\xa9",
        b"/%2F%2Fevil.example",
        b"/./..//evil.example",
        b"https://evil.example/",
    ],
}

for target, seeds in SEEDS.items():
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("seed-*"):
        old.unlink()
    for i, seed in enumerate(seeds):
        (folder / f"seed-{i:02}").write_bytes(seed)
    print(f"{target}: {len(seeds)} seeds")
