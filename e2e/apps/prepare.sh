#!/usr/bin/env bash
# Builds the other languages' e2e apps with their real tracers, installed as their users install
# them: a venv with ddtrace from PyPI, dd-java-agent and Jetty from Maven Central, a Go module with
# dd-trace-go v2 from the Go module proxy, and an OpenTelemetry Collector (OTLP in, file out) built
# from the Go module proxy as the collector builder would assemble it, and the Datadog Agent's own
# obfuscator (pkg/obfuscate from the Go module proxy) to compare ecs-trace's with. Output in e2e/apps/.build (or $ECS_TRACE_E2E_APPS), which
# the e2e tests read; a step already done is skipped, so a second run costs seconds.
# pytools: cfn-lint and Prometheus's OpenMetrics parser (PyPI), which check what the tests make.
# chdb: ClickHouse's engine in process (npm), which the ClickHouse store's tests run on.
#   bash e2e/apps/prepare.sh [python|python-otel|java|go|otelcol|agent-obfuscate|pytools|chdb ...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${ECS_TRACE_E2E_APPS:-$here/.build}"
mkdir -p "$out"
langs=("$@")
[ ${#langs[@]} -eq 0 ] && langs=(python python-otel java go otelcol agent-obfuscate pytools chdb)

# A venv NAME with the requirements file REQ (under e2e/apps), made again when REQ changed or
# its bin/MARKER is missing.
venv() {
  local name=$1 marker=$2 req=$3
  if [ ! -x "$out/$name/bin/$marker" ] || ! cmp -s "$here/$req" "$out/$name/requirements.txt"; then
    rm -rf "${out:?}/$name"
    python3 -m venv "$out/$name"
    "$out/$name/bin/pip" install --quiet --disable-pip-version-check -r "$here/$req"
    cp "$here/$req" "$out/$name/requirements.txt"
  fi
}

for lang in "${langs[@]}"; do
  start=$(date +%s)
  case "$lang" in
    python)
      venv python ddtrace-run python/requirements.txt
      ;;
    python-otel)
      # The OpenTelemetry SDK in a venv of its own: ddtrace brings an OpenTelemetry API of its own.
      venv python-otel python python/otel-requirements.txt
      ;;
    java)
      if [ ! -f "$out/java/classes/App.class" ] || ! cmp -s "$here/java/pom.xml" "$out/java/pom.xml" || [ "$here/java/App.java" -nt "$out/java/classes/App.class" ]; then
        rm -rf "$out/java"
        plugin=org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies
        mvn --batch-mode --quiet -f "$here/java/pom.xml" "$plugin" -DoutputDirectory="$out/java/lib" -DexcludeArtifactIds=dd-java-agent
        mvn --batch-mode --quiet -f "$here/java/pom.xml" "$plugin" -DoutputDirectory="$out/java/agent" -DincludeArtifactIds=dd-java-agent
        javac -d "$out/java/classes" -cp "$out/java/lib/*" "$here/java/App.java"
        cp "$here/java/pom.xml" "$out/java/pom.xml"
      fi
      ;;
    go)
      # go build decides itself what is up to date.
      mkdir -p "$out/go"
      (cd "$here/go" && go build -o "$out/go/app" . && go build -o "$out/go/otel-app" ./otel)
      ;;
    otelcol)
      mkdir -p "$out/otelcol"
      (cd "$here/otelcol" && go build -o "$out/otelcol/otelcol" .)
      ;;
    agent-obfuscate)
      # The Datadog Agent's obfuscator, and the go-sqllexer fixtures (their inputs are the corpus
      # the obfuscation e2e test compares on) from the module it builds with.
      mkdir -p "$out/agent-obfuscate"
      (cd "$here/agent-obfuscate" && go build -o "$out/agent-obfuscate/agent-obfuscate" . \
        && rm -rf "$out/agent-obfuscate/sqllexer-testdata" \
        && cp -r "$(go list -m -f '{{.Dir}}' github.com/DataDog/go-sqllexer)/testdata" "$out/agent-obfuscate/sqllexer-testdata" \
        && chmod -R u+w "$out/agent-obfuscate/sqllexer-testdata")
      ;;
    chdb)
      # ClickHouse's engine in process (npm chdb: ClickHouse 26.x), which the ClickHouse store's
      # tests run on: half a gigabyte, so beside the e2e apps rather than in npm ci.
      if [ ! -f "$out/chdb/node_modules/chdb/package.json" ]; then
        mkdir -p "$out/chdb"
        echo '{"private": true}' > "$out/chdb/package.json"
        (cd "$out/chdb" && npm install --no-audit --no-fund --loglevel=error chdb@3.4.0)
      fi
      ;;
    pytools)
      # Python tools the tests check output with: AWS's CloudFormation linter (cfn-lint), and the
      # Prometheus project's OpenMetrics parser (prometheus-client), both from PyPI.
      venv pytools cfn-lint pytools-requirements.txt
      ;;
    *) echo "prepare.sh: unknown app $lang (python, python-otel, java, go, otelcol, agent-obfuscate, pytools or chdb)" >&2; exit 2 ;;
  esac
  echo "e2e apps: $lang ready in $(( $(date +%s) - start )) s"
done
