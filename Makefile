# HIIT PI: `make run` installs and starts the app; `make test` installs and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
CONSTRAINTS := requirements/constraints.txt
# Extra arguments for `hiitpi serve`, e.g. make run ARGS="--source ~/workout.mp4"
ARGS ?=
PYTEST_ARGS ?=
# --system-site-packages on a Raspberry Pi, to see the apt-installed picamera2/libcamera
VENV_FLAGS ?=
# Optional extras for `make run`, e.g. EXTRAS=litert for MoveNet and the Coral Edge TPU
EXTRAS ?=

.PHONY: run install dev test lint typecheck clean

run: install
	$(if $(EXTRAS),$(PIP) install --quiet -e '.[$(EXTRAS)]' -c $(CONSTRAINTS))
	$(BIN)/hiitpi serve $(ARGS)

install: $(VENV)/.installed-app

$(VENV)/.installed-app: pyproject.toml requirements/mediapipe.txt $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "HIIT PI needs Python >= 3.11 (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV_FLAGS) $(VENV) || { echo "python3 -m venv failed: on Debian/Raspberry Pi OS run: sudo apt install python3-venv"; exit 1; }
	$(PIP) install --quiet --upgrade "pip>=24"
	# mediapipe without its unused declared dependencies (jax, jaxlib, opencv-contrib, sounddevice)
	$(PIP) install --quiet --no-deps -r requirements/mediapipe.txt -c $(CONSTRAINTS)
	$(PIP) install --quiet -e . -c $(CONSTRAINTS)
	@touch $@
	@echo "installed: $$(du -sh $(VENV) | cut -f1) in $(VENV)"

dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed-app
	$(PIP) install --quiet -e '.[dev,litert]' -c $(CONSTRAINTS)
	# the browser test drives Debian's chromium (Playwright downloads no browser)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -q && apt-get install -y -q chromium; } || echo "chromium is missing: the browser tests will skip (sudo apt-get install chromium)"
	@touch $@

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: dev
	$(BIN)/mypy src/hiitpi/core src/hiitpi/referee src/hiitpi/engine src/hiitpi/plans

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
