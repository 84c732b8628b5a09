"""Hera workflow: script templates with typed inputs, output parameters and
artifacts written to files, passed along a DAG."""
from hera.workflows import DAG, Artifact, Parameter, Workflow, script


@script(
    image="python:3.11-alpine",
    outputs=[
        Parameter(name="total", value_from={"path": "/tmp/total"}),
        Artifact(name="report", path="/tmp/report.txt"),
    ],
)
def summarize(a: int, b: int = 2):
    with open("/tmp/total", "w") as f:
        f.write(str(a + b))
    with open("/tmp/report.txt", "w") as f:
        f.write(f"{a} + {b}\n")


@script(
    image="python:3.11-alpine",
    inputs=[Artifact(name="report", path="/tmp/in/report.txt")],
)
def show(total: str):
    print(total, open("/tmp/in/report.txt").read())


with Workflow(
    generate_name="hera-script-",
    entrypoint="main",
    arguments=Parameter(name="a", value="40"),
) as w:
    with DAG(name="main", inputs=[Parameter(name="a")]):
        s = summarize(arguments={"a": "{{inputs.parameters.a}}"})
        t = show(
            arguments=[
                s.get_parameter("total").with_name("total"),
                s.get_artifact("report").with_name("report"),
            ]
        )
        s >> t

if __name__ == "__main__":
    with open("script_outputs.yaml", "w") as f:
        f.write(w.to_yaml())
