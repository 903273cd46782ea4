#!/usr/bin/env python3
"""Opens a logdir with the real TensorBoard and reports what its dashboards serve.

Usage: python3 scripts/tensorboard-check.py <logdir> [--load-fast true|false] [--out report.json]

TensorBoard cannot be installed on the project's own machine, so the test suite checks our
event files against golden files written by TensorBoard's writer. Where TensorBoard is
installed (`pip install tensorboard`), this script starts `tensorboard --logdir <logdir>`,
asks its HTTP API for every run's scalars, text, images, histograms and the HParams
experiment and session groups, prints a summary and exits non-zero when a dashboard is
empty or the server logged an error about a file.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(base, route, **query):
    url = base + route + ("?" + urllib.parse.urlencode(query) if query else "")
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
        return json.loads(body) if response.headers.get_content_type() == "application/json" else body


def post(base, route, payload):
    request = urllib.request.Request(
        base + route,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "X-XSRF-Protected": "1"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def wait_until_loaded(base, server, deadline_s=120):
    """The server answers before it has read every file: wait until the run list stops growing."""
    started = time.time()
    last, stable_since = None, None
    while time.time() - started < deadline_s:
        if server.poll() is not None:
            raise SystemExit(f"tensorboard exited with {server.returncode}")
        try:
            runs = get(base, "/data/runs")
            tags = get(base, "/data/plugin/scalars/tags")
            snapshot = json.dumps([runs, tags], sort_keys=True)
            if snapshot == last and runs:
                if time.time() - stable_since > 5:
                    return
            else:
                last, stable_since = snapshot, time.time()
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"tensorboard did not finish loading within {deadline_s} s")


def check(logdir, load_fast):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--port", str(port),
         "--host", "127.0.0.1", "--load_fast", load_fast, "--reload_interval", "1"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_until_loaded(base, server)
        report = {"load_fast": load_fast, "runs": get(base, "/data/runs")}
        report["plugins_active"] = sorted(name for name, info in get(base, "/data/plugins_listing").items() if info.get("enabled"))
        scalar_tags = get(base, "/data/plugin/scalars/tags")
        report["scalars"] = {}
        for run, tags in sorted(scalar_tags.items()):
            report["scalars"][run] = {}
            for tag in sorted(tags):
                points = get(base, "/data/plugin/scalars/scalars", run=run, tag=tag)
                steps = [point[1] for point in points]
                report["scalars"][run][tag] = {"points": len(points), "first_step": steps[0], "last_step": steps[-1],
                                               "last_value": points[-1][2], "steps_unique": len(set(steps)) == len(steps)}
        text_tags = get(base, "/data/plugin/text/tags")
        report["text"] = {}
        for run, tags in sorted(text_tags.items()):
            for tag in tags:
                entries = get(base, "/data/plugin/text/text", run=run, tag=tag)
                report["text"].setdefault(run, {})[tag] = {"entries": len(entries), "first_chars": entries[0]["text"][:80] if entries else ""}
        image_tags = get(base, "/data/plugin/images/tags")
        report["images"] = {}
        for run, tags in sorted(image_tags.items()):
            for tag in tags:
                entries = get(base, "/data/plugin/images/images", run=run, tag=tag)
                first = get(base, "/data/plugin/images/individualImage?" + entries[0]["query"]) if entries else b""
                report["images"].setdefault(run, {})[tag] = {"entries": len(entries), "steps": [entry["step"] for entry in entries],
                                                             "first_bytes": len(first), "is_gif": bytes(first[:6]) in (b"GIF87a", b"GIF89a")}
        histogram_tags = get(base, "/data/plugin/histograms/tags")
        report["histograms"] = {}
        for run, tags in sorted(histogram_tags.items()):
            for tag in sorted(tags):
                entries = get(base, "/data/plugin/histograms/histograms", run=run, tag=tag)
                report["histograms"].setdefault(run, {})[tag] = {"entries": len(entries), "buckets_last": len(entries[-1][2]) if entries else 0}
        experiment = post(base, "/data/plugin/hparams/experiment", {"experimentName": ""})
        report["hparams_experiment"] = {
            "hparams": [info["name"] for info in experiment.get("hparamInfos", [])],
            "metrics": [info["name"]["tag"] for info in experiment.get("metricInfos", [])],
        }
        groups = post(base, "/data/plugin/hparams/session_groups", {
            "experimentName": "",
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
            "colParams": [], "startIndex": 0, "sliceSize": 1000,
        })
        report["hparams_session_groups"] = [
            {"name": group["name"], "sessions": [session.get("name") for session in group.get("sessions", [])],
             "hparams": group.get("hparams", {}), "metrics": {m["name"]["tag"]: m.get("value") for m in group.get("metricValues", [])},
             "statuses": sorted({session.get("status", "STATUS_UNKNOWN") for session in group.get("sessions", [])})}
            for group in groups.get("sessionGroups", [])
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    log.seek(0)
    server_log = log.read()
    report["server_errors"] = [line for line in server_log.splitlines() if "error" in line.lower() or "traceback" in line.lower()]
    return report


def problems_of(report):
    problems = []
    if not report["runs"]:
        problems.append("no runs")
    for name in ("scalars", "text", "images", "histograms"):
        if not report[name]:
            problems.append(f"no {name}")
    if not report["hparams_experiment"]["hparams"]:
        problems.append("the HParams experiment has no hyperparameters")
    if not report["hparams_session_groups"]:
        problems.append("the HParams dashboard has no session groups")
    for run, tags in report["scalars"].items():
        for tag, info in tags.items():
            if not info["steps_unique"]:
                problems.append(f"{run} {tag}: a step appears twice")
    problems += [f"server log: {line}" for line in report["server_errors"]]
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--load-fast", default="false", choices=["true", "false"])
    parser.add_argument("--out")
    args = parser.parse_args()
    if not os.path.isdir(args.logdir):
        raise SystemExit(f"{args.logdir}: no such folder (pass the logdir you give tensorboard --logdir)")
    import tensorboard  # noqa: F401  fail early with Python's own message when it is missing
    report = check(args.logdir, args.load_fast)
    report["tensorboard_version"] = tensorboard.__version__
    report["problems"] = problems_of(report)
    if args.out:
        with open(args.out, "w") as out:
            json.dump(report, out, indent=1, sort_keys=True)
    print(f"TensorBoard {tensorboard.__version__} (load_fast={args.load_fast}) on {args.logdir}: {len(report['runs'])} runs")
    print(f"  plugins active: {', '.join(report['plugins_active'])}")
    for name in ("scalars", "text", "images", "histograms"):
        tags = sorted({tag for run_tags in report[name].values() for tag in run_tags})
        print(f"  {name}: {len(report[name])} runs, tags: {', '.join(tags)}")
    print(f"  hparams: {', '.join(report['hparams_experiment']['hparams'])}; metrics: {', '.join(report['hparams_experiment']['metrics'])}")
    print(f"  session groups: {len(report['hparams_session_groups'])}, sessions: {sum(len(g['sessions']) for g in report['hparams_session_groups'])}")
    for problem in report["problems"]:
        print(f"  PROBLEM: {problem}")
    sys.exit(1 if report["problems"] else 0)


if __name__ == "__main__":
    main()
