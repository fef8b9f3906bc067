"""Checks that a file is Chrome trace-event JSON of the form trn-run writes."""

import json
import sys

with open(sys.argv[1]) as f:
    trace = json.load(f)
events = trace["traceEvents"]
slices = [e for e in events if e["ph"] == "X"]
tracks = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
flows = [e for e in events if e["ph"] in ("s", "f")]
assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in slices), "negative time"
assert all("loc" in e["args"] for e in slices), "slice without a source location"
print(f"slices {len(slices)}")
print("tracks " + " ".join(sorted(tracks)))
print(f"flows {len(flows) // 2}")
print("names " + " ".join(sorted({e["name"] for e in slices})))
