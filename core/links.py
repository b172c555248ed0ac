"""Signed, scanner-safe email links: one machinery for every link MediTrack emails.

A link names one object for one purpose (confirm a dose, snooze it, accept a caregiver
invitation, unsubscribe) with a token signed by ``django.core.signing`` under a purpose-specific
salt, so a token for one purpose is worthless for another. Mail scanners follow links, so a GET
only shows a small page with a button; the button POSTs to the same URL, and only the POST acts.
A bad, damaged or expired token, an object that is gone, and an action the service refuses each
get a friendly HTML page with a 4xx status, never a 500.

Tokens are ``payload:timestamp:signature`` values, which ``core.logsafe.redact`` masks in logs.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from core.middleware import allow_html


class BadLinkToken(Exception):
    """The token is forged, damaged or for another purpose."""


class ExpiredLinkToken(BadLinkToken):
    """The token is genuine but older than its signer's ``max_age``."""


@dataclass(frozen=True)
class LinkSigner:
    """Tokens naming one object id for one purpose. ``max_age`` None: the link never expires."""

    salt: str
    max_age: datetime.timedelta | None
    key: str = "id"

    def token(self, object_id: int) -> str:
        return signing.dumps({self.key: object_id}, salt=self.salt)

    def object_id(self, token: str) -> int:
        try:
            payload = signing.loads(token, salt=self.salt, max_age=self.max_age)
        except signing.SignatureExpired:
            raise ExpiredLinkToken("expired") from None
        except signing.BadSignature as exc:
            raise BadLinkToken(type(exc).__name__) from None
        value = payload.get(self.key) if isinstance(payload, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadLinkToken("payload")
        return value


@method_decorator(csrf_exempt, name="dispatch")  # the signed token is the credential, not a session
class SignedLinkView(View):
    """GET: the object and a button (changes nothing). POST: ``act`` and show the result.

    Every outcome is a page: asked (200), done or already done (200, no button), refused by the
    service (GET 200 without a button when ``refusal`` says why; POST 409 with the service's
    ``ValidationError`` messages), a forged or damaged link (400), an expired one (403), an
    object that no longer exists (404). Only ``act`` changes anything.

    Subclasses set ``signer`` and the texts, and implement ``get_object`` (None when gone),
    ``describe`` (title and lines), ``is_done``, ``act``; optionally ``refusal`` and
    ``ask_lines``. Plain HTML, outside the JSON API's schema. RFC 8058 one-click unsubscribe
    (a POST with ``List-Unsubscribe=One-Click``) is just a POST.
    """

    signer: LinkSigner
    template_name = "core/link_page.html"
    http_method_names = ["get", "post"]
    page_title = "MediTrack"
    button = "Confirm"
    done_title = "Done."
    invalid_text = "It may have been copied incompletely."
    expired_text = "Links like this one work for a limited time."
    gone_title = "This no longer exists"
    gone_text = "Nothing was changed."
    refused_text = "Nothing was changed."

    def get_object(self, object_id: int) -> Any | None:
        raise NotImplementedError

    def describe(self, obj: Any) -> tuple[str, list[str]]:
        raise NotImplementedError

    def is_done(self, obj: Any) -> bool:
        return False

    def already_text(self, obj: Any) -> str:
        return "This was already done. Nothing changed."

    def refusal(self, obj: Any) -> str | None:
        """Why ``act`` would be refused now (shown on the GET page instead of the button)."""
        return None

    def ask_lines(self, obj: Any) -> list[str]:
        return []

    def act(self, obj: Any) -> Any:
        raise NotImplementedError

    # --- plumbing ---

    def _page(self, request: HttpRequest, state: str, title: str, *, lines=(), notes=(), after=(), status: int = 200):
        context = {
            "page_title": self.page_title,
            "state": state,
            "title": title,
            "lines": list(lines),
            "notes": list(notes),
            "after": list(after),
            "button": self.button,
        }
        response = render(request, self.template_name, context, status=status)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
        return allow_html(response)

    def _load(self, request: HttpRequest, token: str) -> Any:
        """The object the link names, or the page that says why there is none."""
        try:
            object_id = self.signer.object_id(token)
        except ExpiredLinkToken:
            return self._page(request, "expired", "This link has expired", lines=[self.expired_text], status=403)
        except BadLinkToken:
            return self._page(request, "invalid", "This link is not valid", lines=[self.invalid_text], status=400)
        obj = self.get_object(object_id)
        if obj is None:
            return self._page(request, "gone", self.gone_title, lines=[self.gone_text], status=404)
        return obj

    def _about(self, request: HttpRequest, obj: Any, state: str, *, notes=(), extra=(), status: int = 200):
        title, lines = self.describe(obj)
        return self._page(request, state, title, lines=lines, notes=notes, after=extra, status=status)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        obj = self._load(request, token)
        if isinstance(obj, HttpResponse):
            return obj
        if self.is_done(obj):
            return self._about(request, obj, "already", notes=[self.already_text(obj)])
        refusal = self.refusal(obj)
        if refusal:
            return self._about(request, obj, "refused", notes=[refusal], extra=[self.refused_text])
        return self._about(request, obj, "ask", extra=self.ask_lines(obj))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        obj = self._load(request, token)
        if isinstance(obj, HttpResponse):
            return obj
        if self.is_done(obj):
            return self._about(request, obj, "already", notes=[self.already_text(obj)])
        try:
            obj = self.act(obj)
        except ValidationError as exc:
            return self._about(request, obj, "refused", notes=exc.messages, extra=[self.refused_text], status=409)
        return self._about(request, obj, "done", notes=[self.done_title])
