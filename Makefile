# The two set-up commands (README): `make demo` and `make test`. Each creates .venv,
# installs the project into it, and runs. Nothing here relies on a hand install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
WORKERS ?= 2

.PHONY: install system-deps demo test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests use (Chromium, PostgreSQL, bubblewrap); installs only
# what is missing, and only as root. Tests needing a missing one skip and say why.
system-deps:
	bash scripts/system-deps.sh

demo: install
	$(BIN)/grader lint
	$(BIN)/grader build
	$(BIN)/grader release
	$(BIN)/grader autograde --all
	$(BIN)/grader status
	$(BIN)/grader report
	@echo
	@echo "Dashboard: $(CURDIR)/reports/index.html"
	@echo "Feedback:  $(CURDIR)/feedback/STUDENT/MODULE/*.html"
	@echo "Results:   $(CURDIR)/autograded/STUDENT/MODULE/result.json"

test: install system-deps
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile -q
	$(BIN)/grader validate --junit build/validate-junit.xml

# byte-compiled as a wheel install would be (an editable install is not): the bench
# times grading, not Python compiling grader's changed modules in every process
bench: install
	$(BIN)/python -m compileall -q grader bench
	$(BIN)/python -m bench.run

clean:
	rm -rf build autograded feedback reports grader.db grader.db-wal grader.db-shm bench/work
