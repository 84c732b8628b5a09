"""Hera workflow: a diamond DAG with `>>` dependencies, parameters passed between
tasks, a looped task, a retry strategy and an exit handler."""
from hera.workflows import (
    DAG,
    Container,
    Parameter,
    RetryStrategy,
    Workflow,
    script,
)


@script(image="python:3.11-alpine")
def fan_out():
    import json
    import sys

    json.dump([1, 2, 3], sys.stdout)


@script(image="python:3.11-alpine", retry_strategy=RetryStrategy(limit="2"))
def square(n: int):
    print(n * n)


with Workflow(
    generate_name="hera-dag-",
    entrypoint="diamond",
    arguments={"message": "hello"},
    on_exit="bye",
) as w:
    echo = Container(
        name="echo",
        image="alpine:3.20",
        command=["echo", "{{inputs.parameters.message}}"],
        inputs=[Parameter(name="message")],
    )
    bye = Container(
        name="bye",
        image="alpine:3.20",
        command=["sh", "-c", "echo {{workflow.name}} ended {{workflow.status}}"],
    )
    with DAG(name="diamond"):
        a = echo(name="A", arguments={"message": "{{workflow.parameters.message}}"})
        b = echo(name="B", arguments={"message": "B"})
        c = fan_out(name="C")
        d = square(name="D", with_param=c.result, arguments={"n": "{{item}}"})
        e = echo(name="E", arguments={"message": "{{tasks.D.outputs.result}}"})
        a >> [b, c]
        c >> d
        [b, d] >> e

if __name__ == "__main__":
    with open("dag_dependencies.yaml", "w") as f:
        f.write(w.to_yaml())
