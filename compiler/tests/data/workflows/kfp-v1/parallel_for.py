"""KFP v1 pipeline: dsl.ParallelFor over a static list and over a task output."""
import kfp
from kfp import dsl
from kfp.components import create_component_from_func


def produce_items() -> list:
    """Emits a JSON list."""
    return [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


produce_op = create_component_from_func(produce_items, base_image="python:3.11-alpine")


def show(value: str) -> str:
    print(value)
    return value


show_op = create_component_from_func(show, base_image="python:3.11-alpine")


@dsl.pipeline(name="parallel-for", description="Loops")
def parallel_for(greeting: str = "hi"):
    with dsl.ParallelFor([1, 2, 3]) as n:
        show_op(n)
    with dsl.ParallelFor([{"lr": 0.1, "opt": "adam"}, {"lr": 0.01, "opt": "sgd"}]) as cfg:
        show_op(cfg.lr)
        show_op(cfg.opt)
    produced = produce_op()
    with dsl.ParallelFor(produced.output, parallelism=2) as item:
        first = show_op(item.b)
        show_op(first.output)
        show_op(greeting)


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(parallel_for, "parallel_for.yaml")
