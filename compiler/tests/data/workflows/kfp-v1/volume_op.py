"""KFP v1 pipeline: VolumeOp (a resource template), pvolumes, a sidecar, set_timeout,
caching options, pod labels/annotations and pipeline-level parallelism/TTL."""
import kfp
from kfp import dsl

@dsl.pipeline(name="volumeop", description="VolumeOp, sidecar, timeout, caching")
def volume_pipeline(size: str = "1Gi", run: str = dsl.RUN_ID_PLACEHOLDER):
    vop = dsl.VolumeOp(name="create-pvc", resource_name="my-pvc", size=size, modes=dsl.VOLUME_MODE_RWO)
    step1 = dsl.ContainerOp(
        name="step1", image="library/bash:4.4.23", command=["sh", "-c"],
        arguments=["echo %s > /mnt/file1; echo {{pod.name}}" % run],
        pvolumes={"/mnt": vop.volume},
    )
    step1.add_sidecar(dsl.Sidecar(name="side", image="alpine", command=["sleep", "5"]))
    step1.set_timeout(30)
    step1.execution_options.caching_strategy.max_cache_staleness = "P0D"
    step2 = dsl.ContainerOp(
        name="step2", image="library/bash:4.4.23", command=["cat", "/mnt/file1"],
        pvolumes={"/mnt": step1.pvolume},
    )
    step2.add_pod_annotation("a", "b").add_pod_label("c", "d")
    step2.set_image_pull_policy("Always")
    dsl.get_pipeline_conf().set_parallelism(3)
    dsl.get_pipeline_conf().set_ttl_seconds_after_finished(60)

if __name__ == "__main__":
    kfp.compiler.Compiler().compile(volume_pipeline, "volume_op.yaml")
