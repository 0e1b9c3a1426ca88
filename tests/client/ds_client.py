"""Run by the *outside* `delta-sharing` client's own venv (its pins differ from ours): reads what
the test asks (JSON on stdin) through a profile file and prints plain facts as JSON on stdout.

Nothing from this repository is imported here: it is a stranger's client talking HTTP.
"""

import json
import os
import sys
import traceback

import delta_sharing


def facts(df, partition_col=None):
    out = {"rows": int(len(df)), "columns": sorted(map(str, df.columns))}
    if "id" in df.columns and len(df):
        out["id_sum"] = int(df["id"].astype("int64").sum())
        out["ids"] = sorted(int(i) for i in df["id"])
    if partition_col and partition_col in df.columns:
        out["groups"] = {str(k): int(v) for k, v in df.groupby(partition_col).size().items()}
    return out


def run(task):
    kind = task["kind"]
    url = task.get("url")
    if kind == "list":
        client = delta_sharing.SharingClient(task["profile"])
        return {
            "shares": [s.name for s in client.list_shares()],
            "tables": sorted(f"{t.share}.{t.schema}.{t.name}" for t in client.list_all_tables()),
        }
    if kind == "pandas":
        kwargs = {k: task[k] for k in ("limit", "version", "jsonPredicateHints", "use_delta_format") if k in task}
        return facts(delta_sharing.load_as_pandas(url, **kwargs), task.get("partition"))
    if kind == "version":
        return {"version": delta_sharing.get_table_version(url)}
    if kind == "metadata":
        m = delta_sharing.get_table_metadata(url, use_delta_format=task.get("use_delta_format", False))
        return {"partition_columns": list(m.partition_columns), "schema": json.loads(m.schema_string)}
    raise ValueError(kind)


def main():
    results = []
    for task in json.load(sys.stdin):
        try:
            results.append({"ok": True, **run(task)})
        except Exception as exc:  # the test asserts on the message
            results.append({"ok": False, "error": f"{type(exc).__name__}: {exc}",
                            "trace": traceback.format_exc()[-1500:]})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
    # The answers are written; leave without interpreter teardown. delta-sharing's Rust kernel wrapper
    # can abort at exit ("terminate called without an active exception", SIGABRT) while its runtime
    # threads unwind -- seen once in a full run after every table had been read correctly.
    sys.stdout.flush()
    os._exit(0)
