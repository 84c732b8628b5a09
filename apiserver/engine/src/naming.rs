//! Names and IDs of nodes and pods, and the values of loop items (ARGO-SEMANTICS §5.2,
//! §11.4, §12.2, §12.3).
//!
//! The UI and `tasks.T.id` rely on Argo's exact IDs, so they are computed the way Argo does:
//! FNV-1a 32-bit over the node's full name, in decimal. Loop items are named
//! `<name>(<index>:<desc>)` and substituted into `{{item}}` / `{{item.key}}` following Argo's
//! `processItem` (Go formatting of `wfv1.Item`, JSON with sorted keys for nested values).

use kfp::argo::Sequence;
use serde_json::Value;

/// Errors from expanding loop inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    #[error("withSequence {field} '{value}' is not an integer")]
    NotAnInteger { field: &'static str, value: String },
    #[error("neither end nor count was specified in withSequence")]
    NoEnd,
    #[error("withSequence has both end and count")]
    EndAndCount,
    #[error("withSequence is too long ({0} items)")]
    TooLong(u128),
}

/// Longest `withSequence` expansion accepted (protects the engine from `count: 1e12`).
pub const MAX_SEQUENCE_LEN: u128 = 1_000_000;

/// FNV-1a 32-bit (offset basis `0x811c9dc5`, prime `0x01000193`) over the UTF-8 bytes.
pub fn fnv32a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Node ID: the workflow name for the root node, else `<wf>-<fnv32a(node name)>`.
pub fn node_id(workflow: &str, node_name: &str) -> String {
    if node_name == workflow {
        workflow.to_owned()
    } else {
        format!("{workflow}-{}", fnv32a(node_name))
    }
}

/// Kubernetes name limit (253) minus the room for `-<hash>` (10), as in Argo.
const MAX_POD_PREFIX: usize = 243;

/// Pod name `<wf>-<template>-<fnv32a(node name)>`; the root's pod is `<wf>`. An empty
/// `template` (inline templates) gives `<wf>-<fnv>`. As Argo's `ensurePodNamePrefixLength`
/// does, a prefix longer than 242 bytes (`maxPrefixLength - 1`) is cut to 242 (on a
/// character boundary).
pub fn pod_name(workflow: &str, template: &str, node_name: &str) -> String {
    if node_name == workflow {
        return workflow.to_owned();
    }
    let mut prefix = if template.is_empty() {
        workflow.to_owned()
    } else {
        format!("{workflow}-{template}")
    };
    if prefix.len() > MAX_POD_PREFIX - 1 {
        let mut cut = MAX_POD_PREFIX - 1;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix.truncate(cut);
    }
    format!("{prefix}-{}", fnv32a(node_name))
}

/// Name of the `index`-th expansion of a looped step/task: `<name>(<index>:<desc>)`.
pub fn loop_node_name(name: &str, index: usize, item: &Value) -> String {
    format!("{name}({index}:{})", item_desc(item))
}

/// The `desc` part of a loop node name: scalars as text, maps as sorted `key:value` joined
/// with `,`, lists as Go prints them (`[a b]`); parentheses removed.
pub fn item_desc(item: &Value) -> String {
    let desc = match item {
        Value::Object(map) => {
            let mut vals: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", item_text(v)))
                .collect();
            vals.sort();
            vals.join(",")
        }
        Value::Array(list) => {
            let parts: Vec<String> = list.iter().map(item_text).collect();
            format!("[{}]", parts.join(" "))
        }
        scalar => item_text(scalar),
    };
    desc.replace(['(', ')'], "")
}

/// The value of `{{item}}` (or of `{{item.key}}` for a map entry): strings, numbers and
/// booleans as text, `null` as `null`, maps and lists as compact JSON with sorted keys.
pub fn item_text(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => go_json(other),
    }
}

/// Every variable a loop item defines: `("item", ..)` then `("item.<key>", ..)` for maps,
/// keys sorted.
pub fn item_variables(item: &Value) -> Vec<(String, String)> {
    let mut vars = vec![("item".to_owned(), item_text(item))];
    if let Value::Object(map) = item {
        let mut entries: Vec<_> = map.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        vars.extend(
            entries
                .into_iter()
                .map(|(k, v)| (format!("item.{k}"), item_text(v))),
        );
    }
    vars
}

/// Compact JSON as Go's `encoding/json` writes it: map keys sorted, `<`, `>`, `&`, U+2028 and
/// U+2029 escaped.
fn go_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, val)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    write(val, out);
                }
                out.push('}');
            }
            Value::Array(list) => {
                out.push('[');
                for (i, val) in list.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(val, out);
                }
                out.push(']');
            }
            Value::String(s) => write_str(s, out),
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    fn write_str(s: &str, out: &mut String) {
        let quoted = Value::String(s.to_owned()).to_string();
        for c in quoted.chars() {
            match c {
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                c => out.push(c),
            }
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// Expand a (substituted) `withSequence` into its items, as Argo's `expandSequence`: `start`
/// defaults to 0; `end` is **inclusive**; `count: N` means `end = start + N - 1` and
/// `count: 0` gives no items; `start > end` counts down; each number is formatted with the
/// printf `format` (default `%d`).
pub fn expand_sequence(seq: &Sequence) -> Result<Vec<String>, NamingError> {
    let int = |field: &'static str, v: &str| {
        v.parse::<i64>().map_err(|_| NamingError::NotAnInteger {
            field,
            value: v.to_owned(),
        })
    };
    let start = match &seq.start {
        Some(s) => int("start", s)?,
        None => 0,
    };
    let end = match (&seq.end, &seq.count) {
        (Some(_), Some(_)) => return Err(NamingError::EndAndCount),
        (Some(e), None) => int("end", e)?,
        (None, Some(c)) => {
            let count = int("count", c)?;
            if count == 0 {
                return Ok(Vec::new());
            }
            start.saturating_add(count).saturating_sub(1)
        }
        (None, None) => return Err(NamingError::NoEnd),
    };
    let len = u128::from(start.abs_diff(end)) + 1;
    if len > MAX_SEQUENCE_LEN {
        return Err(NamingError::TooLong(len));
    }
    let format = seq
        .format
        .as_deref()
        .filter(|f| !f.is_empty())
        .unwrap_or("%d");
    let numbers: Vec<i64> = if start <= end {
        (start..=end).collect()
    } else {
        (end..=start).rev().collect()
    };
    Ok(numbers
        .into_iter()
        .map(|n| go_sprintf_int(format, n))
        .collect())
}

/// Go's `fmt.Sprintf(format, n)` for one integer argument: verbs `d v x X o b` with flags
/// `- + 0 space` and a width; `%%`; other verbs and extra/missing arguments are rendered the
/// way Go renders them (`%!s(int=5)`, `%!d(MISSING)`, `%!(EXTRA int=5)`).
fn go_sprintf_int(format: &str, n: i64) -> String {
    let mut out = String::new();
    let mut used = false;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut minus, mut plus, mut zero, mut space) = (false, false, false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => minus = true,
                '+' => plus = true,
                '0' => zero = true,
                ' ' => space = true,
                _ => break,
            }
            chars.next();
        }
        let mut width = 0usize;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = width.saturating_mul(10).saturating_add(d as usize);
            chars.next();
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        if used {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        }
        used = true;
        let magnitude = n.unsigned_abs();
        let digits = match verb {
            'd' | 'v' => magnitude.to_string(),
            'x' => format!("{magnitude:x}"),
            'X' => format!("{magnitude:X}"),
            'o' => format!("{magnitude:o}"),
            'b' => format!("{magnitude:b}"),
            other => {
                out.push_str(&format!("%!{other}(int={n})"));
                continue;
            }
        };
        let sign = if n < 0 {
            "-"
        } else if plus {
            "+"
        } else if space {
            " "
        } else {
            ""
        };
        let body_len = sign.len() + digits.len();
        let pad = width.saturating_sub(body_len);
        if minus {
            out.push_str(sign);
            out.push_str(&digits);
            out.push_str(&" ".repeat(pad));
        } else if zero {
            out.push_str(sign);
            out.push_str(&"0".repeat(pad));
            out.push_str(&digits);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(sign);
            out.push_str(&digits);
        }
    }
    if !used {
        out.push_str(&format!("%!(EXTRA int={n})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fnv_known_values() {
        assert_eq!(fnv32a(""), 0x811c_9dc5);
        assert_eq!(fnv32a("a"), 0xe40c_292c);
        assert_eq!(fnv32a("foobar"), 0xbf9c_f968);
    }

    /// ARGO-SEMANTICS §12.5.
    #[test]
    fn worked_example_ids() {
        let wf = "diamond-x7k2p";
        assert_eq!(node_id(wf, wf), "diamond-x7k2p");
        assert_eq!(node_id(wf, "diamond-x7k2p.A"), "diamond-x7k2p-3240103891");
        assert_eq!(node_id(wf, "diamond-x7k2p.B"), "diamond-x7k2p-3256881510");
        assert_eq!(
            node_id(wf, "diamond-x7k2p.B(0)"),
            "diamond-x7k2p-4111054565"
        );
        assert_eq!(
            node_id(wf, "diamond-x7k2p.B(1)"),
            "diamond-x7k2p-3909870232"
        );
        assert_eq!(
            pod_name(wf, "flaky", "diamond-x7k2p.B(1)"),
            "diamond-x7k2p-flaky-3909870232"
        );
        assert_eq!(pod_name(wf, "main", wf), wf);
    }

    #[test]
    fn pod_name_prefix_cut() {
        let wf = "w".repeat(200);
        let tmpl = "t".repeat(100);
        let name = pod_name(&wf, &tmpl, "x");
        let hash = fnv32a("x").to_string();
        assert_eq!(name.len(), 242 + 1 + hash.len());
        assert!(name.ends_with(&format!("t-{hash}")));
        assert_eq!(pod_name("wf", "", "wf.a"), format!("wf-{}", fnv32a("wf.a")));
    }

    #[test]
    fn loop_names() {
        assert_eq!(loop_node_name("train", 0, &json!("abc")), "train(0:abc)");
        assert_eq!(loop_node_name("t", 2, &json!(2.5)), "t(2:2.5)");
        assert_eq!(loop_node_name("t", 3, &json!(true)), "t(3:true)");
        assert_eq!(
            loop_node_name("train", 1, &json!({"opt": "adam", "lr": 0.1})),
            "train(1:lr:0.1,opt:adam)"
        );
        assert_eq!(loop_node_name("t", 0, &json!("f(x)")), "t(0:fx)");
        assert_eq!(loop_node_name("t", 0, &json!([1, "a"])), "t(0:[1 a])");
        assert_eq!(
            loop_node_name("t", 0, &json!({"m": {"b": 1, "a": [2]}})),
            "t(0:m:{\"a\":[2],\"b\":1})"
        );
    }

    #[test]
    fn item_values() {
        assert_eq!(item_text(&json!(1)), "1");
        assert_eq!(item_text(&json!("a b")), "a b");
        assert_eq!(
            item_text(&json!({"z": 1, "a": "<x>"})),
            r#"{"a":"\u003cx\u003e","z":1}"#
        );
        assert_eq!(item_text(&json!([1, [2]])), "[1,[2]]");
        let vars = item_variables(&json!({"os": "linux", "cfg": {"k": "v"}}));
        assert_eq!(
            vars,
            [
                (
                    "item".to_owned(),
                    r#"{"cfg":{"k":"v"},"os":"linux"}"#.to_owned()
                ),
                ("item.cfg".to_owned(), r#"{"k":"v"}"#.to_owned()),
                ("item.os".to_owned(), "linux".to_owned()),
            ]
        );
    }

    fn seq(
        start: Option<&str>,
        end: Option<&str>,
        count: Option<&str>,
        format: Option<&str>,
    ) -> Sequence {
        Sequence {
            start: start.map(Into::into),
            end: end.map(Into::into),
            count: count.map(Into::into),
            format: format.map(Into::into),
        }
    }

    #[test]
    fn sequences() {
        assert_eq!(
            expand_sequence(&seq(None, None, Some("3"), None)),
            Ok(vec!["0".into(), "1".into(), "2".into()])
        );
        assert_eq!(
            expand_sequence(&seq(Some("1"), None, Some("2"), Some("w%02d"))),
            Ok(vec!["w01".into(), "w02".into()])
        );
        assert_eq!(
            expand_sequence(&seq(Some("5"), Some("3"), None, None)),
            Ok(vec!["5".into(), "4".into(), "3".into()])
        );
        assert_eq!(
            expand_sequence(&seq(Some("100"), Some("105"), None, None)).map(|v| v.len()),
            Ok(6)
        );
        assert_eq!(
            expand_sequence(&seq(Some("7"), None, Some("0"), None)),
            Ok(vec![])
        );
        assert_eq!(
            expand_sequence(&seq(Some("-1"), Some("-1"), None, Some("%+d|%x|%%"))),
            Ok(vec!["-1|%!x(MISSING)|%".into()])
        );
        assert_eq!(
            expand_sequence(&seq(None, Some("0"), None, Some("n"))),
            Ok(vec!["n%!(EXTRA int=0)".into()])
        );
        assert_eq!(
            expand_sequence(&seq(None, Some("10"), None, Some("%-3x|%s"))),
            Ok((0..=10).map(|i| format!("{i:<3x}|%!s(MISSING)")).collect())
        );
        assert!(matches!(
            expand_sequence(&seq(Some("a"), Some("1"), None, None)),
            Err(NamingError::NotAnInteger { field: "start", .. })
        ));
        assert_eq!(
            expand_sequence(&seq(None, None, None, None)),
            Err(NamingError::NoEnd)
        );
        assert!(matches!(
            expand_sequence(&seq(None, Some("99999999999"), None, None)),
            Err(NamingError::TooLong(_))
        ));
    }
}
