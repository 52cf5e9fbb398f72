#!/usr/bin/env python3
"""An audit packet verifier written from docs/audit-format.md alone, with
the Python standard library (hashlib) and Ed25519 after RFC 8032 §6: it
shares no code with pumpledger. Usage: verify_packet.py PACKET KEY
[WITNESS_KEY...] (PACKET: the .html page or the .json file; KEY: the
verifier key; each WITNESS_KEY a witness's key, whose cosignature of the
checkpoint is then required). Prints "cosigned by NAME" for each witness
and "ok N", and exits 0 if every entry is proven and every witness
cosigned; else names each entry or witness that is not and exits 1."""
import base64, hashlib, json, sys

# Ed25519 verification, RFC 8032 §6 (reference code, verify only).
p = 2**255 - 19
q = 2**252 + 27742317777372353535851937790883648493
d = -121665 * pow(121666, p - 2, p) % p
sqrt_m1 = pow(2, (p - 1) // 4, p)

def add(P, Q):
    A, B = (P[1] - P[0]) * (Q[1] - Q[0]) % p, (P[1] + P[0]) * (Q[1] + Q[0]) % p
    C, D = 2 * P[3] * Q[3] * d % p, 2 * P[2] * Q[2] % p
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F % p, G * H % p, F * G % p, E * H % p)

def mul(s, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            Q = add(Q, P)
        P, s = add(P, P), s >> 1
    return Q

def recover_x(y, sign):
    if y >= p:
        return None
    x2 = (y * y - 1) * pow(d * y * y + 1, p - 2, p)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (p + 3) // 8, p)
    if (x * x - x2) % p != 0:
        x = x * sqrt_m1 % p
    if (x * x - x2) % p != 0:
        return None
    return p - x if (x & 1) != sign else x

def decompress(s):
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % p)

gy = 4 * pow(5, p - 2, p) % p
G = (recover_x(gy, 0), gy, 1, recover_x(gy, 0) * gy % p)

def ed25519_verify(pub, msg, sig):
    A, R = decompress(pub), decompress(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if A is None or R is None or s >= q:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), "little") % q
    P, Q = mul(s, G), add(R, mul(h, A))
    return (P[0] * Q[2] - Q[0] * P[2]) % p == 0 and (P[1] * Q[2] - Q[1] * P[2]) % p == 0

# The packet's tree: RFC 6962 hashing, tlog's proof order.
sha = lambda b: hashlib.sha256(b).digest()

def run_proof(proof, lo, hi, n, leaf):
    if lo + 1 == hi:
        if proof:
            raise ValueError("proof too long")
        return leaf
    if not proof:
        raise ValueError("proof too short")
    k = 1
    while k * 2 < hi - lo:
        k *= 2
    if n < lo + k:
        return sha(b"\x01" + run_proof(proof[:-1], lo, lo + k, n, leaf) + proof[-1])
    return sha(b"\x01" + proof[-1] + run_proof(proof[:-1], lo + k, hi, n, leaf))

def cosigned(note, wkey):
    """Whether the signed note carries a valid tlog-cosignature/v1 by wkey."""
    name, keyhash, keyb64 = wkey.strip().split("+", 2)
    key = base64.b64decode(keyb64)
    if key[0] != 4 or len(key) != 33 or sha(name.encode() + b"\n" + key)[:4].hex() != keyhash:
        return False
    i = note.rindex("\n\n")
    body = note[: i + 1]
    for line in note[i + 2 :].rstrip("\n").split("\n"):
        dash, who, sig = line.split(" ")
        sig = base64.b64decode(sig)
        if dash == "\u2014" and who == name and len(sig) == 76 and sig[:4].hex() == keyhash:
            t = int.from_bytes(sig[4:12], "big")
            msg = b"cosignature/v1\ntime %d\n" % t + body.encode()
            return ed25519_verify(key[1:], msg, sig[12:])
    return False

def main(path, vkey, *wkeys):
    text = open(path, encoding="utf-8").read()
    marker = '<script type="application/json" id="pumpledger-packet">'
    if marker in text:
        text = text.split(marker, 1)[1].split("</script>", 1)[0]
    packet = json.loads(text)
    name, keyhash, keyb64 = vkey.strip().split("+", 2)  # the base64 key may hold "+"
    key = base64.b64decode(keyb64)
    assert key[0] == 1 and len(key) == 33, "not an Ed25519 key"
    assert sha(name.encode() + b"\n" + key)[:4].hex() == keyhash, "key hash"
    note = packet["checkpoint"]
    i = note.rindex("\n\n")
    body, sigs = note[: i + 1], note[i + 2 :].rstrip("\n").split("\n")
    signed = False
    for line in sigs:
        dash, who, sig = line.split(" ")
        sig = base64.b64decode(sig)
        if dash == "\u2014" and who == name and sig[:4].hex() == keyhash:
            signed = ed25519_verify(key[1:], body.encode(), sig[4:])
    if not signed:
        print("checkpoint: not signed by the key")
        return 1
    origin, size, root, rest = body.split("\n")
    assert origin == name and rest == ""
    size, root = int(size), base64.b64decode(root)
    prev, proven, voids = -1, [], {}
    for e in packet["entries"]:
        data = e["stored"].encode("utf-8")
        head = json.loads(data)
        ok = head["seq"] == e["index"] and head["id"] == e["id"] and prev < e["index"] < size
        prev = e["index"]
        try:
            proof = [base64.b64decode(h) for h in e["proof"]]
            ok = ok and run_proof(proof, 0, size, e["index"], sha(b"\x00" + data)) == root
        except ValueError:
            ok = False
        proven.append(ok)
        pl = head.get("payload") or {}
        if ok and head.get("kind") == "correction" and pl.get("voids"):
            voids[pl["voids"]] = (head["id"], pl.get("reason", ""))
    bad = 0
    for e, ok in zip(packet["entries"], proven):
        # voided_by and void_reason must be what a proven correction says.
        c = voids.get(e["id"])
        said = (e.get("voided_by", ""), e.get("void_reason", ""))
        ok = ok and (said == c if c else said == ("", ""))
        if not ok:
            bad += 1
            print("entry %s (index %d): not proven" % (e["id"], e["index"]))
    for w in wkeys:
        if cosigned(note, w):
            print("cosigned by %s" % w.split("+")[0])
        else:
            bad += 1
            print("NOT cosigned by %s" % w.split("+")[0])
    if bad:
        return 1
    print("ok %d" % len(packet["entries"]))
    return 0

if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
