"""Hera workflow: steps with `when` conditions on a previous step's result, parallel
steps in one group, and a suspend template."""
from hera.workflows import Container, Steps, Suspend, Workflow, script


@script(image="python:3.11-alpine")
def flip_coin():
    import random

    print("heads" if random.randint(0, 1) == 0 else "tails")


with Workflow(generate_name="hera-steps-", entrypoint="coin-flip") as w:
    heads = Container(
        name="heads",
        image="alpine:3.20",
        command=["sh", "-c", 'echo "it was heads"'],
    )
    tails = Container(
        name="tails",
        image="alpine:3.20",
        command=["sh", "-c", 'echo "it was tails"'],
    )
    pause = Suspend(name="pause", duration=1)
    with Steps(name="coin-flip") as s:
        f = flip_coin(name="flip")
        with s.parallel():
            heads(name="on-heads", when=f'{f.result} == heads')
            tails(name="on-tails", when=f'{f.result} == tails')
        pause(name="wait")

if __name__ == "__main__":
    with open("steps_when.yaml", "w") as f:
        f.write(w.to_yaml())
