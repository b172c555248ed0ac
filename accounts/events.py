"""Domain events of accounts (plain Django signals, sent after the transaction commits)."""

from django.dispatch import Signal

# An account and all its rows are gone: (sender, user_id, role). Higher apps drop what they keep
# about the user outside the database (cached insights: symptoms/insights/receivers.py).
account_deleted = Signal()
