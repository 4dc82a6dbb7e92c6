"""Solid Notifications: channels, their authorization and delivery across processes."""
