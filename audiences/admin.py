"""Ops UI for audiences and CSV lists (filled in below)."""
