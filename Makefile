# Redis with Python: `make lab` to learn, `make test` to check everything.
# Every target runs tasks.py, which needs only Python: on Windows, run `python tasks.py lab` instead.
PYTHON ?= python3

.PHONY: help install lab test test-fast lint check doctor bench strip progress lite clean

help:
	@echo "make lab      set up (first time ~10 s) and open the course in JupyterLab (PORT=8888)"
	@echo "make test     lint, type checks and every test, on fakeredis and on a real redis-server"
	@echo "make doctor   what the course found: Python, packages, Redis"
	@echo "make bench    timings and memory, written to bench/REPORT.md and bench/report.png"
	@echo "make strip    store notebooks without outputs (run before committing a notebook)"
	@echo "make lite     build the in-browser (JupyterLite) site into build/lite"
	@echo "Without make: python tasks.py lab | test | doctor | bench | strip | lite"

install lab test test-fast lint doctor bench strip progress lite clean:
	@$(PYTHON) tasks.py $@

check: test
