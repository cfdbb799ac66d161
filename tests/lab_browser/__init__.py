"""Helpers for tests/test_lab_browser.py: JupyterLab started as `make lab` starts it, driven in headless Chromium.

`server` is imported by the JupyterLab server itself (its pre-save hook), so it must stay free of playwright;
`notebook` drives one notebook in a page.
"""
