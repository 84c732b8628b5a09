"""KFP v1 pipeline: dsl.ExitHandler with a cleanup op."""
import kfp
from kfp import dsl


def echo_op(text):
    return dsl.ContainerOp(name="echo", image="alpine:3.20", command=["echo", text])


def write_op():
    return dsl.ContainerOp(
        name="write",
        image="alpine:3.20",
        command=["sh", "-c", "echo -n done > /tmp/status"],
        file_outputs={"status": "/tmp/status"},
    )


@dsl.pipeline(name="exit-handler", description="Exit handler")
def exit_handler(url: str = "gs://bucket/path"):
    cleanup = echo_op("exit: {{workflow.status}}")
    with dsl.ExitHandler(cleanup):
        w = write_op()
        echo_op(w.output)
        echo_op(url)


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(exit_handler, "exit_handler.yaml")
