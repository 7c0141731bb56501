# Every target installs what it needs; `make help` lists them.
SHELL := /bin/bash
GO ?= go
TOOLS := $(CURDIR)/.tools
MDATAGEN := $(TOOLS)/mdatagen
COMPONENT := exporter/pagerdutyexporter

.PHONY: help generate test

help: ## List the targets.
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(MDATAGEN): internal/tools/go.mod
	cd internal/tools && $(GO) build -o $(MDATAGEN) go.opentelemetry.io/collector/cmd/mdatagen

generate: $(MDATAGEN) ## Regenerate the mdatagen code from metadata.yaml.
	cd $(COMPONENT) && $(MDATAGEN) metadata.yaml
