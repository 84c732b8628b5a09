"""KFP v1 pipeline: dsl.Condition on a task output and on a pipeline parameter."""
import kfp
from kfp import dsl


def flip_op():
    return dsl.ContainerOp(
        name="flip",
        image="python:3.11-alpine",
        command=["sh", "-c"],
        arguments=[
            "python -c \"import random; print('heads' if random.random() < 0.5 else 'tails')\""
            " | tee /tmp/output"
        ],
        file_outputs={"output": "/tmp/output"},
    )


def print_op(msg):
    return dsl.ContainerOp(name="print", image="alpine:3.20", command=["echo", msg])


@dsl.pipeline(name="condition", description="Conditional execution")
def condition(threshold: int = 5, mode: str = "full"):
    flip = flip_op()
    with dsl.Condition(flip.output == "heads", name="heads"):
        print_op("it was heads")
        inner = flip_op()
        with dsl.Condition(inner.output == "tails"):
            print_op(f"heads then tails, threshold {threshold}")
    with dsl.Condition(flip.output == "tails"):
        print_op(flip.output)
    with dsl.Condition(mode == "full"):
        print_op("full mode")


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(condition, "condition.yaml")
