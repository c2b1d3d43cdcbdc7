# Chat server: common tasks. See README.md.
SHELL := /bin/bash
CONFIG ?= config/chatserver.json
SCENARIO ?= fanout

.PHONY: run test build publish bench clean

## Start the server in embedded mode (no other service needed) on 127.0.0.1:8080 (HTTP) and :8081 (WebSocket).
run:
	dotnet run -c Release --project ChatServer -- --config $(CONFIG)

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

clean:
	rm -rf */bin */obj publish artifacts
