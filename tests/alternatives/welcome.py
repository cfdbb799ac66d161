"""Other right answers to the 00-welcome exercise pass too."""

from __future__ import annotations


# -- welcome.save_greeting --------------------------------------------------------------------------------
def save_greeting_with_format(r, name):
    r.set("greeting:{}".format(name), "Hello, {}!".format(name))  # noqa: UP032 - the older spelling is right too


def save_greeting_with_mset(r, name):
    r.mset({f"greeting:{name}": f"Hello, {name}!"})


ALTERNATIVES = [
    ("welcome.save_greeting", save_greeting_with_format),
    ("welcome.save_greeting", save_greeting_with_mset),
]
