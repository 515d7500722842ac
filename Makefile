# The README's commands. Each installs what it needs (.venv with moto, cfn-lint,
# cargo-lambda) on first use.
.PHONY: demo test venv events bench package

## Run the whole pipeline locally with sample events and show what it did.
demo: venv
	infra/scripts/demo.sh

## Every check and test (what CI runs).
test:
	infra/scripts/test.sh

venv:
	infra/scripts/venv.sh

## Regenerate the signed/encrypted sample events in infra/events/lambda/.
events: venv
	.venv/bin/python infra/events/generate.py

bench: venv
	infra/scripts/bench.sh

package: venv
	infra/scripts/package.sh
