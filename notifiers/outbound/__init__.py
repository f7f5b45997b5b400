"""Sending mail: the sandboxed template environment, message building, SMTP through aiosmtplib, and the
local sink that captures mail in dev mode.

May use: notifiers.errors, notifiers.headers, notifiers.addresses.
"""
