"""The seed's in-code form, as it must be written for ddtrace 3 and later: the agent's host is
found in code (IMDSv2, as the ECS guide's get_aws_ip() does) and handed to ddtrace through
DD_AGENT_HOST before ddtrace is imported. `tracer.configure(hostname=...)`, the guide's form, was
removed in ddtrace 3.0: this script checks that the installed ddtrace refuses it, then sends one
trace and prints {"traceId": ..., "configure_hostname": "TypeError: ..."}."""
import json
import os
import urllib.request

# The SDKs' variable for the IMDS endpoint; on EC2 it is unset and this is the real one.
IMDS = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254").rstrip("/")


def get_aws_ip():
    token_req = urllib.request.Request(f"{IMDS}/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    token = urllib.request.urlopen(token_req, timeout=2).read().decode()
    ip_req = urllib.request.Request(f"{IMDS}/latest/meta-data/local-ipv4", headers={"X-aws-ec2-metadata-token": token})
    return urllib.request.urlopen(ip_req, timeout=2).read().decode()


os.environ["DD_AGENT_HOST"] = get_aws_ip()

from ddtrace.trace import tracer  # noqa: E402  (after DD_AGENT_HOST, which ddtrace reads at import)

try:
    tracer.configure(hostname=os.environ["DD_AGENT_HOST"])
    refused = None
except TypeError as err:
    refused = f"TypeError: {err}"

with tracer.trace("incode.job", service="incode", resource="nightly") as span:
    trace_id = span.trace_id
tracer.flush()
print(json.dumps({"traceId": format(trace_id & ((1 << 64) - 1), "016x"), "configure_hostname": refused}), flush=True)
