//! Synthetic pipelines of a chosen shape and size, for benchmarks of the compiler (and,
//! later, of the engines that run what it produces).
//!
//! Every op is a tiny shell command that writes its first input to its output, so the same
//! pipelines can also be executed (by the local engine's benchmark). Writing all inputs
//! joined would make values grow exponentially along the paths of a random DAG.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::component::{Component, InputSpec, OutputSpec, input_value, output_path};
use crate::dsl::{Pipeline, Task, TaskSpec, Value};

/// How the ops of a synthetic pipeline depend on each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Op i consumes op i-1's output.
    Chain,
    /// Op 0 feeds ops 1..N-2; op N-1 runs after all of them and consumes op 1's output.
    Fan,
    /// Layers of width round(sqrt(N)); each op outside layer 0 consumes one output of each
    /// of 1..=3 distinct ops drawn from the previous two layers (fixed seed).
    Random,
}

impl FromStr for Shape {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "chain" => Ok(Self::Chain),
            "fan" => Ok(Self::Fan),
            "random" => Ok(Self::Random),
            other => Err(format!("unknown shape {other:?}: use chain, fan or random")),
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Chain => "chain",
            Self::Fan => "fan",
            Self::Random => "random",
        })
    }
}

/// An op taking `arity` values and writing the first one to its output `out`.
pub fn op_component(arity: usize) -> Component {
    let mut c = Component::container(format!("op{arity}"), "alpine:3.20")
        .output(OutputSpec::string("out"))
        .command(["sh", "-c", "echo \"$1\" > \"$0\""])
        .arg(output_path("out"));
    for i in 0..arity {
        c = c
            .input(InputSpec::string(format!("in{i}")))
            .arg(input_value(format!("in{i}")));
    }
    c
}

/// A pipeline of `ops` ops in the given shape.
pub fn pipeline(shape: Shape, ops: usize) -> Pipeline {
    let mut p = Pipeline::new(format!("synthetic-{shape}-{ops}"))
        .description(format!("{ops} ops, {shape} shape"));
    // Shared components: tasks of one component then share its leaf template cheaply.
    let components: Vec<Arc<Component>> = (0..=3).map(|a| Arc::new(op_component(a))).collect();
    let seed = p.param_with_default::<String>("seed", "s".to_owned());
    let call = |inputs: Vec<Value>| -> TaskSpec {
        let mut spec = TaskSpec::from(Arc::clone(&components[inputs.len()]));
        for (i, v) in inputs.into_iter().enumerate() {
            spec = spec.arg(format!("in{i}"), v);
        }
        spec
    };
    match shape {
        Shape::Chain => {
            let mut prev: Option<Task> = None;
            for _ in 0..ops {
                let input = prev
                    .as_ref()
                    .map_or_else(|| Value::from(&seed), |t| t.output("out"));
                prev = Some(p.task(call(vec![input])));
            }
        }
        Shape::Fan => {
            if ops == 0 {
                return p;
            }
            let root = p.task(call(vec![Value::from(&seed)]));
            let mut middle = Vec::new();
            for _ in 1..ops.saturating_sub(1) {
                middle.push(p.task(call(vec![root.output("out")])));
            }
            if ops >= 2 {
                let consumed = middle
                    .first()
                    .map_or_else(|| root.output("out"), |t| t.output("out"));
                let mut last = call(vec![consumed]);
                for t in &middle {
                    last = last.after(t);
                }
                p.task(last);
            }
        }
        Shape::Random => {
            let width = ((ops as f64).sqrt().round() as usize).max(1);
            let mut rng = SplitMix64(0x5eed_cafe);
            let mut layers: Vec<Vec<Task>> = Vec::new();
            let mut made = 0;
            while made < ops {
                let n = width.min(ops - made);
                let mut layer = Vec::with_capacity(n);
                for _ in 0..n {
                    let pool: Vec<&Task> = layers.iter().rev().take(2).flatten().collect();
                    let inputs = if pool.is_empty() {
                        vec![Value::from(&seed)]
                    } else {
                        let k = 1 + rng.below(3).min(pool.len() - 1);
                        rng.distinct(k, pool.len())
                            .into_iter()
                            .map(|i| pool[i].output("out"))
                            .collect()
                    };
                    layer.push(p.task(call(inputs)));
                }
                made += n;
                layers.push(layer);
            }
        }
    }
    p
}

/// SplitMix64: a tiny, well-known generator, enough for a reproducible benchmark shape.
/// Written here so the light `kfp` crate needs no random-number dependency.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` for n >= 1.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `k` distinct indices in `0..n`, in drawing order.
    fn distinct(&mut self, k: usize, n: usize) -> Vec<usize> {
        let mut chosen = Vec::with_capacity(k);
        while chosen.len() < k.min(n) {
            let i = self.below(n);
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_have_the_requested_size() {
        for shape in [Shape::Chain, Shape::Fan, Shape::Random] {
            for n in [1, 2, 7, 100] {
                assert_eq!(pipeline(shape, n).tasks.len(), n, "{shape} {n}");
            }
        }
    }
}
