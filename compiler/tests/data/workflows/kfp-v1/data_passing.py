"""KFP v1 pipeline: a chain of container ops passing parameters and files.

Covers ContainerOp with file_outputs, a lightweight Python component, and a component
loaded from component.yaml text with inputPath/outputPath placeholders.
"""
import kfp
from kfp import dsl
from kfp.components import create_component_from_func, load_component_from_text

COUNT_LINES_YAML = """
name: Count lines
description: Counts the lines of a text file.
inputs:
- {name: text, type: String, description: The file to count}
- {name: label, type: String, default: lines}
outputs:
- {name: count, type: Integer}
- {name: report, type: String}
implementation:
  container:
    image: alpine:3.20
    command:
    - sh
    - -ec
    - |
      mkdir -p "$(dirname "$2")" "$(dirname "$3")"
      wc -l < "$0" > "$2"
      echo "$1: $(cat "$2")" > "$3"
    - {inputPath: text}
    - {inputValue: label}
    - {outputPath: count}
    - {outputPath: report}
"""

count_lines_op = load_component_from_text(COUNT_LINES_YAML)


def add(a: int, b: float) -> float:
    """Adds two numbers."""
    return a + b


add_op = create_component_from_func(add, base_image="python:3.11-alpine")


def make_text_op(words: str):
    return dsl.ContainerOp(
        name="make-text",
        image="alpine:3.20",
        command=["sh", "-c"],
        arguments=[
            'mkdir -p /tmp/out && for w in %s; do echo "$w"; done > /tmp/out/text.txt'
            " && echo -n 3 > /tmp/out/n.txt" % words
        ],
        file_outputs={"text": "/tmp/out/text.txt", "n": "/tmp/out/n.txt"},
    )


@dsl.pipeline(name="data-passing", description="Container ops passing data")
def data_passing(words: str = "a b c", offset: float = 1.5):
    text = make_text_op(words)
    counted = count_lines_op(text=text.outputs["text"], label="words")
    total = add_op(counted.outputs["count"], offset)
    echo = dsl.ContainerOp(
        name="echo",
        image="alpine:3.20",
        command=["echo", total.output, text.outputs["n"]],
    )
    echo.after(counted)
    echo.set_cpu_limit("500m").set_memory_limit("256Mi")
    echo.set_retry(2)


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(data_passing, "data_passing.yaml")
