use kfp::prelude::*;

#[component]
fn options(
    #[kfp(optional)] a: i64,
    #[kfp(default = 1)] b: Option<i64>,
    #[kfp(type = "CSV")] c: String,
    #[kfp(default = "x")] d: InputPath,
    out: OutputPath,
) -> i64 {
    let _ = (b, c, d, out);
    a
}

#[component(image = "alpine:3.20", binary = "/bin/x")]
fn container() -> Container {
    Container::new(["true"])
}

fn main() {}
