# HIIT PI: `make run` installs and starts the app; `make test` installs and runs the tests.
# Any Python >= 3.11: make run PYTHON=python3.13 (a .venv made by another Python: make clean first)
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
# Optional extras for `make run`, e.g. EXTRAS=picamera
EXTRAS ?=

.PHONY: run install models mediapipe dev test lint typecheck clean

run: install
	$(if $(EXTRAS),$(PIP) install --quiet -e '.[$(EXTRAS)]' -c $(CONSTRAINTS))
	$(BIN)/hiitpi serve $(ARGS)

# The app, then the default models (BlazePose, from the npm package @mediapipe/pose, each file
# checked against the sha256 pinned in hiitpi.pose.models) into the models folder if missing.
# The app itself never downloads anything.
install: $(VENV)/.installed-app models

models: $(VENV)/.installed-app
	$(BIN)/hiitpi models fetch --quiet

$(VENV)/.installed-app: pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "HIIT PI needs Python >= 3.11 (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV_FLAGS) $(VENV) || { echo "python3 -m venv failed: on Debian/Raspberry Pi OS run: sudo apt install python3-venv"; exit 1; }
	@want=$$($(PYTHON) -c 'import sys; print(sys.version_info[:2])'); have=$$($(BIN)/python -c 'import sys; print(sys.version_info[:2])'); [ "$$want" = "$$have" ] || { echo "$(VENV) was made with Python $$have, not $$want: run make clean first"; exit 1; }
	$(PIP) install --quiet --upgrade "pip>=24"
	$(PIP) install --quiet -e . -c $(CONSTRAINTS)
	@touch $@
	@echo "installed: $$(du -sh $(VENV) | cut -f1) in $(VENV)"

# The legacy mediapipe 0.10.14 backend (`--backend mediapipe`), for comparisons only: Python
# 3.9-3.12 (it has no newer wheels). It puts numpy<2 and protobuf<5 into this environment, so
# run it after `make dev`; an install step that runs again afterwards restores numpy 2 (then
# run `make mediapipe` again).
mediapipe: install
	@$(BIN)/python -c 'import sys; sys.exit(0 if sys.version_info < (3, 13) else "mediapipe 0.10.14 has wheels for Python 3.9-3.12 only")'
	$(PIP) install --quiet --no-deps -r requirements/mediapipe.txt

dev: $(VENV)/.installed-dev models

$(VENV)/.installed-dev: $(VENV)/.installed-app
	$(PIP) install --quiet -e '.[dev]' -c $(CONSTRAINTS)
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
