# Chat server: common tasks. See README.md.
SHELL := /bin/bash
CONFIG ?= config/chatserver.json
DATA ?= data
SCENARIO ?= fanout

.PHONY: run test build publish bench load clean

## Start the server in embedded mode (no other service needed) on 127.0.0.1:8080 (HTTP) and :8081 (WebSocket), data in ./data.
## Paths are made absolute: `dotnet run` starts the server in the project's directory.
run:
	dotnet run -c Release --project ChatServer -- --config $(abspath $(CONFIG)) --data $(abspath $(DATA))

## Run every test: unit, functional, crash, the AOT publish gate and the native-binary smoke test.
test:
	bash scripts/test.sh

build:
	dotnet build -c Release Chat.sln

## Native-AOT publish into ./publish (the .dbg symbols file is not shipped).
publish:
	dotnet publish ChatServer/ChatServer.csproj -c Release -r linux-x64 -o publish
	rm -f publish/*.dbg

## BenchmarkDotNet suite (all benchmarks; pass FILTER='*FrameBuilder*' to narrow).
bench:
	dotnet run -c Release --project ChatServer.Bench -- --filter '$(or $(FILTER),*)'

## Load scenario against the native binary (make publish first): SCENARIO=connect|fanout|large-group|send|history|reconnect-storm|login-storm, ARGS='--duration 60 ...'.
load:
	dotnet build -c Release load/ChatLoad.csproj
	./load/bin/Release/net10.0/chatload --scenario $(SCENARIO) --server ./publish/chatserver $(ARGS)

clean:
	rm -rf */bin */obj publish artifacts
