# Shortcuts; the README's two commands are scripts/demo.sh and scripts/test.sh.
.PHONY: setup demo test bench package
setup:
	bash scripts/setup_env.sh
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
bench: setup
	. scripts/qgis_env.sh && for b in benchmarks/bench_*.py; do .venv/bin/python "$$b"; done
package:
	bash scripts/package_plugin.sh
