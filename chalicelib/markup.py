"""The one rule for text in Slack: outside strings never become markup, only Shepherd's own do.

Alarm names, descriptions and reasons, log lines, message bodies, destination records, what a user
typed: all of it is outside text, and a function that logs ``<!channel>`` must not make Shepherd
ping a channel. So:

- Shepherd's own live tokens (the person acting, a configured `@here`, a date) are made only by
  `user`, `group`, `channel`, `here`, `date` and `link`, which mark them;
- outside text in a code span goes through `code` (one line, no backtick can close the span), in a
  code block through `code_block`, as running text through `prose`; each drops control characters
  (ANSI escapes included) and is capped;
- at the wire (`finish_payload`, called by the Web API client and the response_url reply), every
  `&`, `<` and `>` outside Shepherd's marked tokens is escaped, and each mrkdwn object is sent
  `verbatim`, so Slack does not turn a bare URL, `#channel` or `@here` into a live one either.

Builders work with marked strings; only the wire sees escaped ones, exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

OWN_OPEN, OWN_CLOSE = "\ue000", "\ue001"  # around a token Shepherd made: left live
CODE_OPEN, CODE_CLOSE = "\ue002", "\ue003"  # around a code span of outside text
_MARKS = re.compile("[\ue000-\ue003]")
# Only the tokens Shepherd makes, in their exact shapes: marks forged around anything else (should
# an outside string carry them past `strip_marks`) leave it escaped.
_SHEPHERD_MADE = (
    r"<@[UW][A-Z0-9]{1,31}>|<!here>|<!subteam\^S[A-Z0-9]{1,31}>|<#[CG][A-Z0-9]{1,31}>"
    r"|<!date\^\d{1,12}\^[{}a-z_ :]{1,60}\|[^<>|\ue000-\ue003]{0,60}>"
    r"|<https://[^\s<>|\ue000-\ue003]{1,2000}\|[^<>\ue000-\ue003]{0,400}>"
)
_OWN = re.compile(f"{OWN_OPEN}({_SHEPHERD_MADE}){OWN_CLOSE}")

# ANSI/VT escape sequences (CSI, OSC, two-character), then what is left of the control characters,
# the bidirectional overrides that reorder what a reader sees, and Shepherd's own marks.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}\ue000-\ue003]")  # outside text: Shepherd's marks go too
_ID = re.compile(r"^[A-Z0-9]{2,32}$")
BACKTICK = "ˋ"  # U+02CB: looks like a backtick, closes no code span

CODE_LIMIT = 200
PROSE_LIMIT = 1500


def clean(text: object, limit: int | None = None, lines: bool = True) -> str:
    """Outside text without escape sequences or control characters (newlines kept if `lines`),
    within `limit` characters."""
    s = _ANSI.sub("", str(text)).replace("\r\n", "\n").replace("\t", " ")
    if not lines:
        s = s.replace("\n", " ")
    s = _CONTROL.sub("", s)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def strip_marks(text: str) -> str:
    """Outside text as it enters Shepherd (events, log lines, message bodies, what a user typed):
    without the characters Shepherd marks its own text with."""
    return _MARKS.sub("", text)


def strip_all(value: object) -> object:
    """`strip_marks` through a decoded JSON document (an event, a record)."""
    if isinstance(value, str):
        return strip_marks(value)
    if isinstance(value, list):
        return [strip_all(v) for v in value]
    if isinstance(value, dict):
        return {strip_all(k): strip_all(v) for k, v in value.items()}
    return value


def code(text: object, limit: int = CODE_LIMIT) -> str:
    """Outside text as an inline code span that nothing in it can close."""
    body = clean(text, limit, lines=False).replace("`", BACKTICK) or " "
    return f"{CODE_OPEN}{body}{CODE_CLOSE}"


def code_block(text: object, limit: int = 2900) -> str:
    """Outside lines as a code block that nothing in them can close."""
    body = clean(text, limit).replace("`", BACKTICK)
    return f"```{body}```"


def prose(text: object, limit: int = PROSE_LIMIT) -> str:
    """Outside text as running mrkdwn: kept readable, made inert at the wire."""
    return clean(text, limit)


def _own(token: str) -> str:
    return f"{OWN_OPEN}{token}{OWN_CLOSE}"


def user(user_id: str | None) -> str:
    """A live mention of a Slack user Shepherd names (the person acting, who acknowledged)."""
    return _own(f"<@{user_id}>") if _ID.match(user_id or "") else code(user_id or "someone")


def group(group_id: str | None) -> str:
    return _own(f"<!subteam^{group_id}>") if _ID.match(group_id or "") else code(group_id or "")


def channel(channel_id: str | None) -> str:
    return _own(f"<#{channel_id}>") if _ID.match(channel_id or "") else code(channel_id or "")


def here() -> str:
    """A configured `@here` (reminders a team asked to be loud)."""
    return _own("<!here>")


def date(epoch: float, pattern: str, fallback: str) -> str:
    """A date each reader sees in their own time zone; `fallback` where Slack cannot."""
    return _own(f"<!date^{int(epoch)}^{pattern}|{_escape(fallback)}>")


def when(t: datetime | float, pattern: str = "{date_short_pretty} {time}") -> str:
    at = t if isinstance(t, datetime) else datetime.fromtimestamp(t, UTC)
    return date(at.timestamp(), pattern, at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def link(url: str, label: str) -> str:
    """A link Shepherd makes (to the AWS console, say): the label is outside text."""
    safe_label = clean(label, 200, lines=False).replace("|", "¦")
    return _own(f"<{_escape(url)}|{_escape(safe_label)}>")


_HTTPS_URL = re.compile(r"^https://[^\s<>|]{1,2000}$")


def https_url(value: str) -> str | None:
    """`value` when it is a plain https URL to a host, fit for a link: printable ASCII only (no
    look-alike, zero-width or bidi characters), no `user@` before the host; else None."""
    from urllib.parse import urlsplit

    value = value.strip()
    if not _HTTPS_URL.fullmatch(value) or not all(" " < c <= "~" for c in value):
        return None
    parts = urlsplit(value)
    return value if parts.hostname and "@" not in parts.netloc else None


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_WIRE_CONTROL = re.compile(f"[{_CONTROLS}]")  # marked text: the marks are read after


def _inert(s: str) -> str:
    """Any text for the wire: no escape sequences or control characters, `&<>` escaped."""
    return _escape(_WIRE_CONTROL.sub("", _ANSI.sub("", s)))


def finish(text: str) -> str:
    """mrkdwn for the wire: everything escaped but Shepherd's own tokens; code marks to backticks."""
    out, at = [], 0
    for m in _OWN.finditer(text):
        out.append(_inert(text[at : m.start()]))
        out.append(m.group(1))  # made by the functions above, escaped where it needed to be
        at = m.end()
    out.append(_inert(text[at:]))
    # Code marks become backticks; a mark left unpaired (a cut through a token) goes.
    return _MARKS.sub("", "".join(out).replace(CODE_OPEN, "`").replace(CODE_CLOSE, "`"))


def fit(text: str, limit: int) -> str:
    """`finish(text)` within `limit` characters as sent (escaping lengthens what was clipped
    before it): cut on the marked text, never inside an entity or a token, with an open code span
    closed."""
    sent = finish(text)
    if len(sent) <= limit:
        return sent
    low, high = 0, len(text)
    while low < high:  # the longest cut whose finished form fits
        mid = (low + high + 1) // 2
        if len(finish(_cut(text, mid))) <= limit:
            low = mid
        else:
            high = mid - 1
    return finish(_cut(text, low))


def _cut(text: str, n: int) -> str:
    head = text[:n]
    opened = head.count(CODE_OPEN) - head.count(CODE_CLOSE)
    fences = head.count("```") % 2
    return head + (CODE_CLOSE if opened > 0 else "") + ("```" if fences else "") + "…"


def finish_plain(text: str) -> str:
    """plain_text for the wire (Slack shows it as it is): marks and control characters gone."""
    unmarked = _OWN.sub(lambda m: m.group(1), text).replace(CODE_OPEN, "").replace(CODE_CLOSE, "")
    return clean(unmarked)


TEXT_LIMIT, FIELD_LIMIT = 3000, 2000  # Block Kit's limits on a text object, as sent
LIMITED = {"header": 150, "button": 75, "section": TEXT_LIMIT}  # by the element holding the text
PLAIN_LIMITS = {"header": 150, "button": 75}


def finish_blocks(blocks: Any, limit: int = TEXT_LIMIT) -> Any:
    """Every text object of `blocks` (or a view) made ready for the wire, within Slack's limits
    as sent; the rest untouched."""
    if isinstance(blocks, list):
        return [finish_blocks(b, limit) for b in blocks]
    if not isinstance(blocks, dict):
        return blocks
    kind, body = blocks.get("type"), blocks.get("text")
    if kind == "mrkdwn" and isinstance(body, str):
        return {**blocks, "text": fit(body, limit), "verbatim": True}
    if kind == "plain_text" and isinstance(body, str):
        plain = finish_plain(body)
        short = PLAIN_LIMITS.get(str(blocks.get("_in", "")), limit)
        return {**blocks, "text": plain if len(plain) <= short else plain[: short - 1] + "…"}
    out: dict[str, Any] = {}
    for key, value in blocks.items():
        if key == "fields":
            out[key] = [finish_blocks(f, FIELD_LIMIT) for f in value]
        elif key == "text" and isinstance(value, dict) and blocks.get("type") in LIMITED:
            out[key] = finish_blocks({**value, "_in": blocks["type"]}, LIMITED[blocks["type"]])
            out[key].pop("_in", None)
        else:
            out[key] = finish_blocks(value, limit)
    return out


def finish_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A Web API or response_url payload for the wire: its text, blocks and view. A message of
    text alone is sent as sections too, so that it goes `verbatim` (no bare URL made a link)."""
    out = dict(payload)
    if isinstance(out.get("text"), str):
        if not out.get("blocks") and "view" not in out:
            out["blocks"] = as_sections(out["text"])
        out["text"] = finish(out["text"])
    for key in ("blocks", "view", "attachments"):
        if out.get(key) is not None:
            out[key] = finish_blocks(_as_dict(out[key]))
    for key in ("title", "initial_comment", "alt_text"):
        if isinstance(out.get(key), str):
            out[key] = finish_plain(out[key]) if key != "initial_comment" else finish(out[key])
    return out


def as_sections(text: str, size: int = 2900) -> list[dict[str, Any]]:
    """Marked text as mrkdwn sections of at most `size` characters, cut between lines."""
    pieces: list[str] = []
    for line in text.split("\n"):
        while len(line) > size:  # a line longer than a section is cut in it
            pieces.append(line[:size])
            line = line[size:]
        pieces.append(line)
    sections: list[str] = []
    current: str | None = None
    for piece in pieces:
        if current is None:
            current = piece
        elif len(current) + 1 + len(piece) <= size:
            current += "\n" + piece
        else:
            sections.append(current)
            current = piece
    if current:
        sections.append(current)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections[:50]]


def redacted(text: str, redact: Callable[[str], str]) -> str:
    """`redact` on the text between Shepherd's marks, never across them (a pattern that ran to the
    end of a value would swallow the mark that closes a code span)."""
    parts = re.split("([\ue000-\ue003])", text)
    return "".join(p if _MARKS.fullmatch(p) else redact(p) for p in parts)


def for_client(client: object, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload for a Web API client: finished here unless the client finishes what it sends
    (Shepherd's own client does; the one Bolt makes per request does not)."""
    return payload if getattr(client, "finishes_text", False) else finish_payload(payload)


def _as_dict(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value


_RAW_OWN = re.compile(_SHEPHERD_MADE)


def adopt(value: Any) -> Any:
    """Blocks stored before Shepherd marked its own tokens (alarm messages still open when it was
    deployed): their mentions and dates marked as its own, so an update keeps them live."""
    if isinstance(value, str):
        return _RAW_OWN.sub(lambda m: _own(m.group(0)), value)
    if isinstance(value, list):
        return [adopt(v) for v in value]
    if isinstance(value, dict):
        return {k: adopt(v) for k, v in value.items()}
    return value


def unmarked(text: str) -> str:
    """What a marked string reads as (for logs and the command line, which are not Slack)."""
    plain = _OWN.sub(lambda m: m.group(1), text)
    return _MARKS.sub("", plain.replace(CODE_OPEN, "`").replace(CODE_CLOSE, "`"))
