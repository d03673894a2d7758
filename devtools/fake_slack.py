"""A local stand-in for Slack's Web API (SLACK_API_URL) that records calls and can print them.

It answers the methods Shepherd uses with Slack's response shapes, keeps every message so that
`chat.update` changes it in place, and accepts `response_url` posts under /response/<id>.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

CHANNEL_IDS = {"#ops-alarms": "C0OPSALARM"}
# What an install of slack-app-manifest.yml grants (Slack answers them in auth.test's
# X-OAuth-Scopes header).
MANIFEST_SCOPES = (
    "commands,chat:write,chat:write.public,usergroups:read,channels:history,groups:history,"
    "channels:read,groups:read,files:write,im:write"
)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.time)  # when it arrived (benchmarks time the first post)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    edits: int = 0
    metadata: dict[str, Any] | None = None
    ephemeral: bool = False  # seen only by who asked (chat.postEphemeral, a response_url's default)


@dataclass
class Upload:
    """A file uploaded with files_upload_v2 (getUploadURLExternal, the upload, complete)."""

    id: str
    filename: str
    content: bytes = b""
    title: str = ""
    channel: str | None = None
    thread_ts: str | None = None
    saved_to: str | None = None


@dataclass
class FakeSlack:
    """Records calls; `on_message` is told of each message posted or updated (for printing)."""

    on_message: Callable[[str, Message], None] | None = None
    # Faults, in order: an error code ("http_500", "rate_limited:30" for a 429 with Retry-After,
    # or a Slack error such as "message_not_found") answered instead of doing the call...
    fail_next: list[str] = field(default_factory=list)
    # ...or methods refused every time with this error (e.g. a missing scope)...
    refuse: dict[str, str] = field(default_factory=dict)
    # ...or link buttons whose URL Slack finds invalid (`invalid_blocks`)...
    refused_urls: tuple[str, ...] = ()
    # ...or methods done and recorded, then the connection dropped before the answer.
    drop_after: list[str] = field(default_factory=list)
    # Slack's posting limit: at most one chat.postMessage per channel this often (0: none).
    post_interval_s: float = 0.0
    _last_post: dict[str, float] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)  # user group ID -> member IDs
    # The bot tokens Slack accepts (None: any); another one is answered `invalid_auth`.
    valid_tokens: set[str] | None = None
    calls: list[Call] = field(default_factory=list)
    uploads: dict[str, Upload] = field(default_factory=dict)
    files_dir: str | None = None  # where completed uploads are saved (make run: build/demo/files)
    on_file: Callable[[Upload], None] | None = None
    home_views: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> published view
    on_home: Callable[[str, dict[str, Any]], None] | None = None
    base_url: str = ""  # set by the server: where upload URLs point
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    scopes: str = MANIFEST_SCOPES  # what the token was granted
    outside: set[str] = field(default_factory=set)  # channel ids the bot is not a member of
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: Any = field(default_factory=lambda: itertools.count(1))

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def _refused_url(self, blocks: list[dict[str, Any]]) -> str | None:
        urls = [
            str(e.get("url"))
            for b in blocks
            for e in b.get("elements") or []
            if isinstance(e, dict) and e.get("url")
        ]
        return next((f"invalid url {u}" for u in urls if u in self.refused_urls), None)

    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(method, args, token))
            if self.valid_tokens is not None and token not in self.valid_tokens:
                return 200, {"ok": False, "error": "invalid_auth"}
            if method in self.refuse:
                return 200, {"ok": False, "error": self.refuse[method]}
            if self.fail_next and not method.startswith("conversations."):
                error = self.fail_next.pop(0)
                if error.startswith("http_"):
                    return int(error[5:]), {"ok": False, "error": error}
                if error.startswith("rate_limited:"):
                    return 429, {"ok": False, "error": "ratelimited", "retry_after": error[13:]}
                return 200, {"ok": False, "error": error}
        if method == "auth.test":
            return 200, {
                "ok": True,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "team_id": "T0LOCAL",
                "team": "local",
            }
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update") and (
            too_long := over_limit(_blocks(args)) or self._refused_url(_blocks(args))
        ):
            return 200, {"ok": False, "error": "invalid_blocks", "errors": [too_long]}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            channel = CHANNEL_IDS.get(str(args.get("channel")), str(args.get("channel")))
            if self._rate_limited(channel):
                return 429, {"ok": False, "error": "ratelimited", "retry_after": "1"}
            ts = f"{int(time.time())}.{next(self._seq):06d}"
            message = Message(
                channel,
                ts,
                str(args.get("text", "")),
                _blocks(args),
                args.get("thread_ts"),
                metadata=args.get("metadata"),
            )
            with self._lock:
                self.messages[(channel, ts)] = message
            self._notify(method, message)
            key = "message_ts" if method == "chat.postEphemeral" else "ts"
            return 200, {"ok": True, "channel": channel, key: ts, "message": {"text": message.text}}
        if method == "chat.update":
            channel = CHANNEL_IDS.get(str(args.get("channel")), str(args.get("channel")))
            with self._lock:
                message = self.messages.get((channel, str(args.get("ts"))))
                if message is None:
                    return 200, {"ok": False, "error": "message_not_found"}
                message.text = str(args.get("text", message.text))
                message.blocks = _blocks(args) or message.blocks
                message.edits += 1
            self._notify(method, message)
            return 200, {"ok": True, "channel": channel, "ts": message.ts}
        if method.startswith("response/") and str(args.get("delete_original")).lower() == "true":
            return 200, {"ok": True}  # the ephemeral message it answers is gone
        if method.startswith("response/"):
            message = Message(
                "response_url", f"{time.time():.6f}", str(args.get("text", "")), _blocks(args)
            )
            message.ephemeral = args.get("response_type") != "in_channel"
            self._notify(method, message)
            return 200, {"ok": True}
        if method in ("conversations.history", "conversations.replies"):
            return 200, {"ok": True, "messages": self._history(method, args), "has_more": False}
        if method == "conversations.list":
            channels = [self._channel(n, i) for n, i in CHANNEL_IDS.items()]
            return 200, {"ok": True, "channels": channels, "response_metadata": {}}
        if method == "conversations.info":
            found = [
                self._channel(n, i) for n, i in CHANNEL_IDS.items() if i == args.get("channel")
            ]
            if not found:
                return 200, {"ok": False, "error": "channel_not_found"}
            return 200, {"ok": True, "channel": found[0]}
        if method == "chat.delete":
            channel = CHANNEL_IDS.get(str(args.get("channel")), str(args.get("channel")))
            with self._lock:
                self.messages.pop((channel, str(args.get("ts"))), None)
            return 200, {"ok": True}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._seq):08d}"
            with self._lock:
                self.uploads[file_id] = Upload(file_id, str(args.get("filename", "")))
            url = f"{self.base_url}upload/{file_id}"
            return 200, {"ok": True, "upload_url": url, "file_id": file_id}
        if method == "files.completeUploadExternal":
            return self._complete(args)
        if method == "views.publish":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            user = str(args.get("user_id"))
            with self._lock:
                self.home_views[user] = view
            if self.on_home is not None:
                self.on_home(user, view)
            return 200, {"ok": True, "view": {"id": "VHOME", **view}}
        if method == "usergroups.users.list":
            group = str(args.get("usergroup"))
            if group not in self.groups:
                return 200, {"ok": False, "error": "no_such_subteam"}
            return 200, {"ok": True, "users": list(self.groups[group])}
        return 200, {"ok": False, "error": "unknown_method"}

    def _channel(self, name: str, channel_id: str) -> dict[str, Any]:
        return {
            "id": channel_id,
            "name": name.lstrip("#"),
            "is_private": False,
            "is_member": channel_id not in self.outside,
        }

    def received(self, file_id: str, content: bytes) -> bool:
        """The upload itself (POST to the upload URL)."""
        with self._lock:
            upload = self.uploads.get(file_id)
            if upload is None:
                return False
            upload.content = content
        return True

    def _complete(self, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        done = []
        for f in files:
            with self._lock:
                upload = self.uploads.get(str(f.get("id")))
            if upload is None or not upload.content:
                return 200, {"ok": False, "error": "file_not_found"}
            upload.title = str(f.get("title") or upload.filename)
            upload.channel = CHANNEL_IDS.get(str(args.get("channel_id")), args.get("channel_id"))
            upload.thread_ts = args.get("thread_ts")
            if self.files_dir:
                import pathlib

                path = pathlib.Path(self.files_dir) / upload.filename
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(upload.content)
                upload.saved_to = str(path)
            if self.on_file is not None:
                self.on_file(upload)
            done.append({"id": upload.id, "title": upload.title, "name": upload.filename})
        return 200, {"ok": True, "files": done}

    def _rate_limited(self, channel: str) -> bool:
        if not self.post_interval_s:
            return False
        now = time.monotonic()
        with self._lock:
            if now - self._last_post.get(channel, -1e9) < self.post_interval_s:
                return True
            self._last_post[channel] = now
        return False

    def channel_messages(self, channel: str = "C0OPSALARM") -> list[Message]:
        """Top-level messages of a channel (not thread replies), oldest first."""
        with self._lock:
            found = [m for m in self.messages.values() if m.channel == channel and not m.thread_ts]
        return sorted(found, key=lambda m: m.ts)

    def _history(self, method: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        channel = str(args.get("channel"))
        with self._lock:
            messages = [m for m in self.messages.values() if m.channel == channel]
        if method == "conversations.replies":
            messages = [m for m in messages if args.get("ts") in (m.ts, m.thread_ts)]
        else:
            messages = [
                m
                for m in messages
                if not m.thread_ts and float(m.ts) >= float(args.get("oldest") or 0)
            ]
        out = []
        for m in sorted(messages, key=lambda m: m.ts, reverse=True):
            doc: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text}
            if m.metadata and args.get("include_all_metadata"):
                doc["metadata"] = m.metadata
            out.append(doc)
        return out

    def should_drop(self, method: str) -> bool:
        with self._lock:
            if method in self.drop_after:
                self.drop_after.remove(method)
                return True
        return False

    def _notify(self, method: str, message: Message) -> None:
        if self.on_message is not None:
            self.on_message(method, message)


LIMITS = {"section": 3000, "header": 150, "button": 75, "context": 3000}


def over_limit(blocks: Any, holder: str = "section") -> str | None:
    """What Slack refuses as `invalid_blocks`: a text object longer than its element allows, as
    sent (escaped)."""
    if isinstance(blocks, list):
        return next((f for b in blocks if (f := over_limit(b, holder))), None)
    if not isinstance(blocks, dict):
        return None
    kind = str(blocks.get("type", ""))
    if kind in ("mrkdwn", "plain_text"):
        limit = 2000 if holder == "fields" else LIMITS.get(holder, 3000)
        text = str(blocks.get("text", ""))
        return (
            f"{holder} text of {len(text)} characters (at most {limit})"
            if len(text) > limit
            else None
        )
    for key, value in blocks.items():
        found = over_limit(
            value, "fields" if key == "fields" else kind if kind in LIMITS else holder
        )
        if found:
            return found
    return None


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return list(blocks)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if path.startswith("/upload/"):
            ok = self.server.fake.received(path.removeprefix("/upload/"), body)
            self._send(200 if ok else 404, {"ok": ok})
            return
        raw = body.decode("utf-8")
        if "json" in (self.headers.get("Content-Type") or ""):
            args = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
        args = {**dict(parse_qsl(query)), **args}  # some methods send their params in the URL
        auth = self.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ") or args.get("token")
        method = path.strip("/").removeprefix("api/")
        status, answer = self.server.fake.handle(method, args, token)
        if self.server.fake.should_drop(method):
            self.close_connection = True  # done, but the caller never hears of it
            return
        scopes = self.server.fake.scopes if method == "auth.test" and answer.get("ok") else None
        self._send(status, answer, scopes)

    def _send(self, status: int, body: dict[str, Any], scopes: str | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        if scopes is not None:
            self.send_header("X-OAuth-Scopes", scopes)
        if status == 429:
            self.send_header("Retry-After", str(body.get("retry_after", 1)))
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet by design
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeSlack, port: int) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", port), _Handler)


class FakeSlackServer:
    """The fake on 127.0.0.1 in a background thread: `url` is what SLACK_API_URL should be."""

    def __init__(self, fake: FakeSlack | None = None, port: int = 0) -> None:
        self.fake = fake or FakeSlack()
        self._server = _Server(self.fake, port)
        self.fake.base_url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one interval
            name="fake-slack",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def __enter__(self) -> FakeSlackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def as_text(blocks: list[dict[str, Any]], fallback: str = "") -> str:
    """Blocks as a person would read them in a terminal."""
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            out.append(f"\033[1m{b['text']['text']}\033[0m")
        elif kind == "section":
            if "text" in b:
                accessory = b.get("accessory") or {}
                button = (
                    f"  [{accessory['text']['text']}]" if accessory.get("type") == "button" else ""
                )
                out.append(b["text"]["text"] + button)
            for f in b.get("fields", []):
                out.append("  " + f["text"].replace("\n", ": ", 1))
        elif kind == "context":
            out.append("  " + " ".join(e.get("text", "") for e in b.get("elements", [])))
        elif kind == "divider":
            out.append("─" * 60)
        elif kind == "actions":
            out.append("  " + "  ".join(f"[{e['text']['text']}]" for e in b.get("elements", [])))
    text = "\n".join(out) if out else fallback
    return _slack_dates(text)


def _slack_dates(text: str) -> str:
    import re

    shown = re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", text)
    # As Slack shows escaped text: the entities Shepherd sends for &, < and > read as themselves.
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
