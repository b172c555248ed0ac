"""A test email backend: locmem, except that some addresses fail like a real SMTP server would."""

import smtplib

from django.core.mail.backends import locmem


class ScriptedBackend(locmem.EmailBackend):
    """``refused…@`` addresses are refused (permanent); ``flaky…@`` ones drop the connection;
    with ``down`` set, the server cannot be reached at all."""

    opened = 0
    down = False

    def open(self):
        ScriptedBackend.opened += 1
        if ScriptedBackend.down:
            raise ConnectionRefusedError(111, "Connection refused")
        return super().open()

    def send_messages(self, messages):
        for message in messages:
            for to in message.to:
                if to.startswith("refused"):
                    raise smtplib.SMTPRecipientsRefused({to: (550, b"No such user")})
                if to.startswith("flaky"):
                    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class SlowBackend(locmem.EmailBackend):
    """Locmem that takes a few milliseconds per message, like a real SMTP round trip, so two
    concurrent sweeps really overlap."""

    def send_messages(self, messages):
        import time

        time.sleep(0.005 * len(messages))
        return super().send_messages(messages)
