"""Accepted right answers other than the reference, one module per topic: ALTERNATIVES = [(exercise id, answer)].

A module may also declare UNSUPPORTED = {answer: {backend: why}} for a right answer that a backend cannot judge.
tests/test_alternatives.py reads every module here.
"""
