//! Replacement of `{{...}}` tags in template fields (ARGO-SEMANTICS §3.1).
//!
//! Substitution is textual: the tag is replaced by the variable's exact text. A simple tag's
//! name is trimmed (`{{ inputs.parameters.x }}`). A tag the lookup does not know is left in
//! place literally, as Argo does at run time, and reported in [`Substituted::missing`] so the
//! caller can fail the node when the root is one Argo checks (`inputs.`, `tasks.`, ...).
//!
//! Expression tags (`{{= expr }}`) go to an evaluator given by the caller
//! ([`substitute_with`]); those it declines (or all of them, with [`substitute`]) are left
//! untouched and listed in [`Substituted::expressions`].

/// Result of [`substitute`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Substituted {
    /// The text with every known simple tag replaced.
    pub text: String,
    /// Trimmed names of simple tags the lookup did not resolve (left literally), in order,
    /// without duplicates.
    pub missing: Vec<String>,
    /// Expression tags (`{{= ...}}`) not evaluated, trimmed, without the leading `=`; left
    /// literally.
    pub expressions: Vec<String>,
}

/// A template string that cannot be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstituteError {
    /// `{{` without a matching `}}` (Argo's template parser rejects these too).
    #[error("cannot find end tag '}}}}' for the tag starting at byte {offset} in '{text}'")]
    Unclosed { text: String, offset: usize },
}

/// Roots that Argo validates besides `item`: a tag under one of them that cannot resolve is
/// an error, not literal text.
pub const CHECKED_ROOTS: [&str; 6] = [
    "inputs.",
    "outputs.",
    "workflow.",
    "tasks.",
    "steps.",
    "pod.",
];

/// Whether an unresolved tag name belongs to a root Argo checks (`item`, `item.*` and
/// [`CHECKED_ROOTS`]).
pub fn is_checked_root(name: &str) -> bool {
    name == "item" || name.starts_with("item.") || CHECKED_ROOTS.iter().any(|r| name.starts_with(r))
}

/// Replace every `{{name}}` in `text` by `lookup(name)` (with `name` trimmed), leaving
/// expression tags alone.
pub fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Substituted, SubstituteError> {
    substitute_with(text, lookup, &|_| None)
}

/// [`substitute`], also replacing each expression tag `{{= expr}}` by `eval(expr)` when
/// that gives a value (`None` leaves the tag literally).
pub fn substitute_with(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    eval: &dyn Fn(&str) -> Option<String>,
) -> Result<Substituted, SubstituteError> {
    let mut out = Substituted {
        text: String::with_capacity(text.len()),
        ..Substituted::default()
    };
    let mut rest = text;
    let mut consumed = 0;
    while let Some(start) = rest.find("{{") {
        out.text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(SubstituteError::Unclosed {
                text: text.to_owned(),
                offset: consumed + start,
            });
        };
        let raw = &after[..end];
        let literal = &rest[start..start + 2 + end + 2];
        let tag = raw.trim();
        if let Some(expr) = tag.strip_prefix('=') {
            let expr = expr.trim();
            match eval(expr) {
                Some(value) => out.text.push_str(&value),
                None => {
                    out.expressions.push(expr.to_owned());
                    out.text.push_str(literal);
                }
            }
        } else if let Some(value) = lookup(tag) {
            out.text.push_str(&value);
        } else {
            if !out.missing.iter().any(|m| m == tag) {
                out.missing.push(tag.to_owned());
            }
            out.text.push_str(literal);
        }
        let advance = start + 2 + end + 2;
        consumed += advance;
        rest = &rest[advance..];
    }
    out.text.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "inputs.parameters.x" => Some("42".into()),
            "workflow.name" => Some("wf-abc".into()),
            "quote" => Some("say \"hi\"\n{{inputs.parameters.x}}".into()),
            _ => None,
        }
    }

    fn sub(text: &str) -> Substituted {
        match substitute(text, &lookup) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn replaces_trimmed_tags() {
        let s = sub("x={{inputs.parameters.x}} wf={{ workflow.name }}!");
        assert_eq!(s.text, "x=42 wf=wf-abc!");
        assert!(s.missing.is_empty() && s.expressions.is_empty());
    }

    #[test]
    fn values_are_not_rescanned() {
        assert_eq!(sub("{{quote}}").text, "say \"hi\"\n{{inputs.parameters.x}}");
    }

    #[test]
    fn unknown_tags_left_literally() {
        let s = sub("{{foo}} {{ input.x }} {{foo}} {{tasks.a.outputs.result}}");
        assert_eq!(
            s.text,
            "{{foo}} {{ input.x }} {{foo}} {{tasks.a.outputs.result}}"
        );
        assert_eq!(s.missing, ["foo", "input.x", "tasks.a.outputs.result"]);
        let checked: Vec<_> = s.missing.iter().filter(|m| is_checked_root(m)).collect();
        assert_eq!(checked, ["tasks.a.outputs.result"]);
        assert!(is_checked_root("item") && is_checked_root("item.a") && !is_checked_root("items"));
    }

    #[test]
    fn expression_tags_untouched() {
        let s = sub("a{{= tasks['x'].outputs.result }}b");
        assert_eq!(s.text, "a{{= tasks['x'].outputs.result }}b");
        assert_eq!(s.expressions, ["tasks['x'].outputs.result"]);
    }

    #[test]
    fn expression_tags_evaluated_when_asked() {
        let eval = |e: &str| (e == "1 + 1").then(|| "2".to_owned());
        let s = substitute_with(
            "{{=1 + 1}} {{= nope }} {{inputs.parameters.x}}",
            &lookup,
            &eval,
        )
        .expect("substitutes");
        assert_eq!(s.text, "2 {{= nope }} 42");
        assert_eq!(s.expressions, ["nope"]);
    }

    #[test]
    fn plain_text_and_errors() {
        assert_eq!(sub("no tags } {").text, "no tags } {");
        assert_eq!(sub("").text, "");
        assert!(matches!(
            substitute("ok {{x", &lookup),
            Err(SubstituteError::Unclosed { offset: 3, .. })
        ));
    }
}
