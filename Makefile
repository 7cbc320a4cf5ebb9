# The two commands that set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test system-packages lint typecheck pytest bench clean translations screenshots bundle deb

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "SendGuard needs Python 3.11 or newer; this is " + sys.version.split()[0])'
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian/Ubuntu run: sudo apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	@# The desktop app on the embedded default: groups found under the known sync folders, or
	@# two demo group folders in ~/SendGuard/Demo groups when there are none.
	$(BIN)/sendguard app

lint: $(STAMP)
	$(BIN)/ruff check src tests bench resources tools packaging
	$(BIN)/ruff format --check src tests bench resources tools packaging

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

# The system packages the tests need (tools/system-packages.txt) are checked before anything
# else runs, with the system's python3 (.venv may not exist yet): run as root where apt-get is
# (CI), the missing ones are installed; otherwise make stops and names them with the command
# that installs them. `make test SYSTEM_CHECK=0` skips the check, for who knows better.
SYSTEM_CHECK ?= 1
system-packages:
ifneq ($(SYSTEM_CHECK),0)
	@$(PYTHON) tools/system_packages.py
endif

test: system-packages
	@$(MAKE) --no-print-directory lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/scan.py

# Real screenshots under Xvfb into docs/images (README). Needs: apt-get install xvfb xauth.
screenshots: $(STAMP)
	xvfb-run -a -s "-screen 0 1280x900x24" $(BIN)/python tools/screenshots.py

# After changing user-visible strings in src/sendguard/app: refresh the catalogue, translate
# what lupdate marks unfinished (Qt Linguist: .venv/bin/pyside6-linguist), then run this again.
TS := resources/translations/sendguard_zh_CN.ts
translations: $(STAMP)
	$(BIN)/pyside6-lupdate src/sendguard/app/*.py -source-language en -target-language zh_CN \
		-no-obsolete -locations none -ts $(TS)
	$(BIN)/pyside6-lrelease $(TS) -qm src/sendguard/app/translations/sendguard_zh_CN.qm

# The one-folder app (PyInstaller) in build/bundle/sendguard, and the Debian package built from
# it in build/deb (no network needed once the venv is installed). Photo OCR is included, as the
# installers promise; `make deb OCR=0` leaves it out (about 190 MB less). See packaging/README.md.
BUNDLE_STAMP := $(VENV)/.installed-package
$(BUNDLE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[package]'
	@touch $(BUNDLE_STAMP)

bundle: $(BUNDLE_STAMP)
	SENDGUARD_BUNDLE_OCR=$(if $(filter 0,$(OCR)),0,1) $(BIN)/pyinstaller --noconfirm --clean --log-level WARN \
		--workpath build/pyinstaller --distpath build/bundle packaging/sendguard.spec
	@du -sh build/bundle/sendguard

deb: bundle
	$(BIN)/python packaging/linux/build_deb.py build/bundle/sendguard build/deb

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build src/*.egg-info
