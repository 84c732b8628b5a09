//! Compile + validate synthetic pipelines of 100, 1,000 and 10,000 ops in three shapes.
//! `cargo bench -p kfp --bench compile`; figures are recorded in the README.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kfp::synthetic::{Shape, pipeline};

fn compile(c: &mut Criterion) {
    // Warm the validator's schema cache so the first sample is not an outlier.
    let _ = kfp::compile(&pipeline(Shape::Chain, 2));
    for shape in [Shape::Chain, Shape::Fan, Shape::Random] {
        let mut group = c.benchmark_group(format!("compile+validate/{shape}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(5))
            .warm_up_time(Duration::from_secs(1));
        for ops in [100, 1_000, 10_000] {
            let p = pipeline(shape, ops);
            group.bench_with_input(BenchmarkId::from_parameter(ops), &p, |b, p| {
                b.iter(|| {
                    kfp::compile(p)
                        .map(|w| w.spec.templates.len())
                        .unwrap_or_default()
                })
            });
        }
        group.finish();
    }
}

/// Validation alone, on workflows of any origin (here: the compiled random shapes).
fn validate(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate/random");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for ops in [1_000, 10_000] {
        let options = kfp::CompileOptions {
            validate: false,
            ..Default::default()
        };
        let Ok(workflow) = kfp::compile_with(&pipeline(Shape::Random, ops), &options) else {
            continue;
        };
        let Ok(value) = serde_json::to_value(&workflow) else {
            continue;
        };
        group.bench_with_input(BenchmarkId::from_parameter(ops), &value, |b, v| {
            b.iter(|| kfp::validate::validate_workflow(v).is_ok())
        });
    }
    group.finish();
}

criterion_group!(benches, compile, validate);
criterion_main!(benches);
