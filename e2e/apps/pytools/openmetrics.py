"""Reads OpenMetrics text on stdin with the Prometheus project's own parser (prometheus-client),
which refuses anything the format does not allow, and prints its samples as JSON lines."""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        print(json.dumps({"family": family.name, "type": family.type, "unit": family.unit, "name": s.name, "labels": s.labels, "value": s.value}))
