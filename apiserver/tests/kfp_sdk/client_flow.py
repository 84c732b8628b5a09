"""The core flows of the KFP 1.8 Python SDK's kfp.Client against our server.

Usage: client_flow.py HOST PIPELINE_YAML. Exits non-zero (with a traceback) on the first
difference; prints one line per step so a failure shows how far it got.
"""
import sys

import kfp

host, pipeline_path = sys.argv[1], sys.argv[2]

client = kfp.Client(host=host)  # calls healthz in its constructor
print("healthz", client.get_kfp_healthz())

pipeline = client.upload_pipeline(pipeline_path, pipeline_name="sdk-hello", description="from the SDK")
assert pipeline.id and pipeline.name == "sdk-hello", pipeline
assert [p.name for p in pipeline.parameters or []] == ["who"], pipeline.parameters
assert client.get_pipeline_id("sdk-hello") == pipeline.id
assert any(p.id == pipeline.id for p in client.list_pipelines(page_size=10).pipelines)
print("uploaded", pipeline.id)

experiment = client.create_experiment("sdk-experiment", description="from the SDK")
assert client.get_experiment(experiment_name="sdk-experiment").id == experiment.id
assert client.get_experiment(experiment_id=experiment.id).name == "sdk-experiment"
print("experiment", experiment.id)

run = client.run_pipeline(experiment.id, "sdk-run", pipeline_id=pipeline.id, params={"who": "sdk"})
detail = client.wait_for_run_completion(run.id, timeout=120)
assert detail.run.status == "Succeeded", detail.run
assert client.get_run(run.id).run.name == "sdk-run"
print("run", run.id, detail.run.status)

package_run = client.run_pipeline(
    experiment.id, "sdk-package-run", pipeline_package_path=pipeline_path, params={"who": "again"}
)
assert client.wait_for_run_completion(package_run.id, timeout=120).run.status == "Succeeded"
runs = client.list_runs(experiment_id=experiment.id, page_size=10, sort_by="created_at desc")
assert [r.id for r in runs.runs] == [package_run.id, run.id], runs
print("listed", runs.total_size)

client.archive_experiment(experiment.id)
archived = client.get_run(run.id).run
assert archived.storage_state == "STORAGESTATE_ARCHIVED", archived.storage_state
client.delete_pipeline(pipeline.id)
print("done")
