PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INDEX ?= .policybot
EVAL_REPORT ?= eval/report

.PHONY: install run index test lint eval clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/policybot ingest data/policies --index $(INDEX) --quiet

run: index
	$(BIN)/policybot serve --index $(INDEX)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The sample corpus's evaluation index is built first so the test session can reuse its embedding
# cache; `policybot eval` then runs every question set of eval/sets/sets.toml against its own corpus
# (indexes under $(INDEX)-eval/<corpus>) and fails below the gates the manifest sets.
test: install lint
	$(BIN)/policybot ingest data/policies --index $(INDEX)-eval/policies --quiet
	POLICYBOT_TEST_VECTOR_CACHE=$(INDEX)-eval/policies/vectors.sqlite $(BIN)/python -m pytest -q
	$(BIN)/policybot eval --index $(INDEX)-eval --report $(INDEX)-eval/report

eval: install
	$(BIN)/policybot eval --index $(INDEX)-eval --report $(EVAL_REPORT)

clean:
	rm -rf $(VENV) $(INDEX) $(INDEX)-eval .pytest_cache
