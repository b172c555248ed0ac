"""Receivers of the lower apps' domain events (medications/events.py, symptoms/insights/events.py)."""
