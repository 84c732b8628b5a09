//! Compile-time behaviour of the macros: what compiles, and the errors users see when
//! something is wrong (the `.stderr` files are the messages, checked word for word).
//!
//! Regenerate after an intended change with `TRYBUILD=overwrite cargo test -p kfp --test
//! trybuild`, then read the new `.stderr` files: each must say what to write instead.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
