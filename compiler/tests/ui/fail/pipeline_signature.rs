use kfp::prelude::*;

#[pipeline]
fn no_builder(who: Param<String>) {
    let _ = who;
}

#[pipeline]
fn plain_param(p: &mut Pipeline, times: i64) -> Pipeline {
    let _ = (p, times);
}

fn main() {}
