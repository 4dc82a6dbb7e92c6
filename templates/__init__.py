"""Every HTML page (Jinja2), shipped as package data so an installed server finds them.

``pod.app`` loads them with ``jinja2.PackageLoader("templates")``: from this folder in a
checkout or an editable install, and from the installed package otherwise.
"""
