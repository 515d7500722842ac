#!/usr/bin/env python3
"""Signs and encrypts the sample events in this folder the way Feishu does.

Written against Python's `cryptography` package on purpose: it is an implementation
independent of the service's Rust code, so the Rust tests that read these files check
our crypto against someone else's, not against itself.

Outputs (deterministic: fixed IVs, timestamps and nonces, so regenerating changes nothing):
  lambda/<name>.function-url.json   Lambda Function URL events (sam local invoke,
                                    cargo lambda invoke, the ingress tests)
  lambda/<name>.http-api.json       the same as an API Gateway HTTP API event with a
                                    base64-encoded body
  lambda/sqs-batch.json             an SQS event for the processor
  lambda/schedule.json              EventBridge's scheduled event, for the reconciler
  lambda/digest-schedule.json       what the who's-out schedule passes the digest function
  lambda/manifest.json              what each request is and how the ingress must answer

Usage: .venv/bin/python infra/events/generate.py   (make events)
"""

import base64
import hashlib
import json
import pathlib

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "lambda"

# The demo app's settings; README and `make demo` use the same values.
ENCRYPT_KEY = "demo-encrypt-key"
CUSTOM_APPROVAL_CODES = ["CUSTOM-PTO-0001"]
VERIFICATION_TOKEN = "demo-verification-token"
TIMESTAMP = "1796000000"


def encrypt(key: str, plaintext: bytes, iv: bytes) -> str:
    aes_key = hashlib.sha256(key.encode("utf-8")).digest()
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(data) + enc.finalize()).decode("ascii")


def sign(timestamp: str, nonce: str, key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + key).encode("utf-8") + body).hexdigest()


def encrypted_body(name: str, plain: bytes, key: str = ENCRYPT_KEY) -> bytes:
    iv = hashlib.sha256(name.encode()).digest()[:16]
    return json.dumps({"encrypt": encrypt(key, plain, iv)}, separators=(",", ":")).encode()


def signed_headers(name: str, body: bytes, key: str = ENCRYPT_KEY) -> dict:
    nonce = hashlib.sha256(("nonce" + name).encode()).hexdigest()[:16]
    return {
        "x-lark-request-timestamp": TIMESTAMP,
        "x-lark-request-nonce": nonce,
        "x-lark-signature": sign(TIMESTAMP, nonce, key, body),
    }


def function_url_event(name: str, body: bytes, headers: dict) -> dict:
    """Payload format 2.0, as a Lambda Function URL delivers it."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/webhook/event",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json; charset=utf-8",
            "content-length": str(len(body)),
            "host": "abcdefghij0123456789.lambda-url.ap-southeast-1.on.aws",
            "user-agent": "Go-http-client/1.1",
            "x-forwarded-proto": "https",
            **headers,
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghij0123456789",
            "domainName": "abcdefghij0123456789.lambda-url.ap-southeast-1.on.aws",
            "domainPrefix": "abcdefghij0123456789",
            "http": {
                "method": "POST",
                "path": "/webhook/event",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "Go-http-client/1.1",
            },
            "requestId": "req-" + hashlib.sha256(name.encode()).hexdigest()[:12],
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:08:00:00 +0000",
            "timeEpoch": 1795305600000,
        },
        "body": body.decode("utf-8"),
        "isBase64Encoded": False,
    }


def http_api_event(name: str, body: bytes, headers: dict) -> dict:
    """API Gateway HTTP API (payload 2.0) with the body base64-encoded."""
    ev = function_url_event(name, body, headers)
    ev["requestContext"]["domainName"] = "abc123.execute-api.ap-southeast-1.amazonaws.com"
    ev["requestContext"]["apiId"] = "abc123"
    ev["body"] = base64.b64encode(body).decode("ascii")
    ev["isBase64Encoded"] = True
    return ev


def sqs_batch(plains: list) -> dict:
    records = []
    for i, (name, plain) in enumerate(plains):
        doc = json.loads(plain)
        header = doc.get("header") or {}
        event = doc["event"]
        envelope = {
            "v": 1,
            "event_id": header.get("event_id") or doc.get("uuid"),
            "event_type": header.get("event_type") or event.get("type"),
            "schema": "2.0" if doc.get("schema") == "2.0" else "1.0",
            "tenant_key": header.get("tenant_key") or event.get("tenant_key"),
            "app_id": header.get("app_id") or event.get("app_id"),
            "sent_at": header.get("create_time") or doc.get("ts"),
            "received_at": "2026-11-22T08:00:00Z",
            "event": event,
        }
        records.append(
            {
                "messageId": f"00000000-0000-4000-8000-{i:012d}",
                "receiptHandle": f"receipt-{i}",
                "body": json.dumps(envelope, ensure_ascii=False, separators=(",", ":")),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795305600000",
                    "SenderId": "AROAEXAMPLE:ingress",
                    "ApproximateFirstReceiveTimestamp": "1795305600001",
                },
                "messageAttributes": {
                    "event_type": {"stringValue": envelope["event_type"], "dataType": "String"},
                    "event_id": {"stringValue": envelope["event_id"], "dataType": "String"},
                },
                "md5OfBody": hashlib.md5(b"").hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:leave-sync-events",
                "awsRegion": "ap-southeast-1",
            }
        )
    return {"Records": records}


def scheduled_event() -> dict:
    """What an EventBridge schedule (template.yaml's ReconcileSchedule) sends."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-22T08:00:00Z",
        "region": "ap-southeast-1",
        "resources": ["arn:aws:events:ap-southeast-1:123456789012:rule/leave-sync-reconcile"],
        "detail": {},
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    manifest = []

    def emit(name, body, headers, expect_status, expect, plain=None, note=""):
        path = OUT / f"{name}.function-url.json"
        path.write_text(json.dumps(function_url_event(name, body, headers), indent=2, ensure_ascii=False) + "\n")
        manifest.append(
            {
                "file": path.name,
                "expect_status": expect_status,
                "expect": expect,
                "plain": plain,
                "note": note,
            }
        )

    samples = sorted(p for p in HERE.glob("*.json"))
    plains = []
    for p in samples:
        plain = p.read_bytes()
        name = p.stem
        plains.append((name, plain))
        body = encrypted_body(name, plain)
        kind = json.loads(plain)
        if kind.get("type") == "url_verification":
            # Feishu may send the challenge without signature headers.
            emit(name, body, {}, 200, "challenge", p.name, "encrypted challenge, no signature headers")
            continue
        event_type = (kind.get("header") or {}).get("event_type") or kind["event"]["type"]
        # approval.instance.status_changed_v4 needs a per-user subscription (reference
        # 7.8): acknowledged, not queued; approval_instance carries the same statuses.
        # Chat messages go on the queue: the bot answers every direct message.
        handled = event_type.startswith("leave_approval") or event_type in (
            "approval_instance", "im.message.receive_v1", "card.action.trigger")
        emit(name, body, signed_headers(name, body), 200, "enqueue" if handled else "ignore", p.name)

    # The API Gateway shape with a base64 body.
    day = (HERE / "leave_approval.day.json").read_bytes()
    body = encrypted_body("leave_approval.day", day)
    (OUT / "leave_approval.day.http-api.json").write_text(
        json.dumps(http_api_event("leave_approval.day", body, signed_headers("leave_approval.day", body)), indent=2) + "\n"
    )
    manifest.append({"file": "leave_approval.day.http-api.json", "expect_status": 200, "expect": "enqueue",
                     "plain": "leave_approval.day.json", "note": "API Gateway HTTP API, base64 body"})

    # Requests the ingress must refuse, each for one reason.
    headers = signed_headers("leave_approval.day", body)
    tampered = body.replace(b'{"encrypt":"', b'{"encrypt":"A')  # one byte more after signing
    emit("reject.tampered_body", tampered, headers, 401, "reject", note="body changed after signing")
    emit("reject.missing_signature", body, {}, 401, "reject", note="event without signature headers")
    wrong = encrypted_body("wrong", day, key="some-other-key")
    emit("reject.wrong_encrypt_key", wrong, signed_headers("wrong", wrong, key="some-other-key"), 401, "reject",
         note="signed and encrypted with another app's key")
    bad_token = day.replace(VERIFICATION_TOKEN.encode(), b"not-the-token")
    bt_body = encrypted_body("bad_token", bad_token)
    emit("reject.bad_token", bt_body, signed_headers("bad_token", bt_body), 401, "reject", note="wrong verification token")
    # Unsigned requests other than the URL challenge all get the same 401, whatever is
    # wrong with them: no answer may tell a stranger whether a ciphertext's padding was
    # valid (a CBC padding oracle) or what it decrypted to.
    emit("reject.not_json", b"<xml/>", {}, 401, "reject", note="unsigned, not JSON")
    iv = hashlib.sha256(b"bad padding").digest()[:16]
    garbage = hashlib.sha256(b"not a ciphertext").digest()[:16]
    bad_padding = json.dumps({"encrypt": base64.b64encode(iv + garbage).decode()}).encode()
    emit("reject.unsigned_bad_padding", bad_padding, {}, 401, "reject", note="unsigned, padding invalid")
    not_json_inside = encrypted_body("not json inside", b"hello world")
    emit("reject.unsigned_not_json_inside", not_json_inside, {}, 401, "reject",
         note="unsigned, decrypts to something that is not JSON")
    unknown = encrypted_body("unknown", b'{"hello":"world"}')
    emit("reject.unknown_envelope", unknown, signed_headers("unknown", unknown), 400, "reject", note="not a Feishu envelope")
    # Plaintext body, correctly signed: accepted (the signature proves the key).
    emit("plain.signed_leave_approval", day, signed_headers("plain", day), 200, "enqueue", "leave_approval.day.json",
         note="plaintext body with a valid signature")

    (OUT / "sqs-batch.json").write_text(
        json.dumps(sqs_batch([x for x in plains if x[0].startswith("leave_approval")]), indent=2, ensure_ascii=False) + "\n"
    )
    (OUT / "schedule.json").write_text(json.dumps(scheduled_event(), indent=2) + "\n")
    # template.yaml's DigestFunction schedule: Input with <aws.scheduler.scheduled-time>
    # filled in (09:00 Asia/Shanghai on Monday 2026-12-07).
    (OUT / "digest-schedule.json").write_text(
        json.dumps({"scheduled_time": "2026-12-07T01:00:00Z"}, indent=2) + "\n"
    )
    (OUT / "manifest.json").write_text(
        json.dumps({"encrypt_key": ENCRYPT_KEY, "verification_token": VERIFICATION_TOKEN,
                    "custom_approval_codes": CUSTOM_APPROVAL_CODES, "cases": manifest}, indent=2) + "\n"
    )
    print(f"wrote {len(manifest)} requests and sqs-batch.json to {OUT.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
