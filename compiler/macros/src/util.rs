//! Small helpers shared by the macros: names, docs, and error wording.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Attribute, Expr, Ident, Lit, Meta};

/// An identifier as text, without a raw prefix (`r#type` -> `type`).
pub fn ident_text(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// `train_model` -> `TrainModel`.
pub fn upper_camel(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// The text of the `///` comments among `attrs`, one line each, common indent removed.
pub fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(lit) = &nv.value
            && let Lit::Str(s) = &lit.lit
        {
            lines.extend(s.value().lines().map(str::to_owned));
        }
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let text = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Source-like text of a type for messages (`Vec<String>` rather than `Vec < String >`).
pub fn type_text(ty: &impl ToTokens) -> String {
    let mut text = ty.to_token_stream().to_string();
    for (from, to) in [
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        (" :: ", "::"),
        (":: ", "::"),
    ] {
        text = text.replace(from, to);
    }
    text
}

/// The closest of `known` to `given`, if it is plausibly a typo of it.
pub fn suggest<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(given, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// "unknown key `imge` ...; did you mean `image`? ..." for a key that is not one of `known`.
pub fn unknown_key(span: Span, key: &str, context: &str, known: &[&str]) -> syn::Error {
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = match suggest(key, known) {
        Some(k) => format!("did you mean `{k}`? "),
        None => String::new(),
    };
    syn::Error::new(
        span,
        format!("unknown key `{key}` in {context}; {hint}the keys are {list}"),
    )
}

/// Collect errors so a user sees all of them at once rather than one per build.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(e) => e.combine(error),
            None => self.0 = Some(error),
        }
    }
    /// An error covering all of `tokens` (not just their first token).
    pub fn at(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }
    pub fn has_any(&self) -> bool {
        self.0.is_some()
    }
    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Attributes that may be copied onto every item a macro generates (conditional
/// compilation and lint levels); anything else is refused rather than silently dropped.
pub fn passthrough_attrs(attrs: &[Attribute], errors: &mut Errors, what: &str) -> Vec<Attribute> {
    let mut kept = Vec::new();
    for attr in attrs {
        let path = attr.path();
        if path.is_ident("doc") {
            continue;
        }
        let ok = [
            "cfg",
            "cfg_attr",
            "allow",
            "expect",
            "warn",
            "deny",
            "forbid",
            "deprecated",
        ]
        .iter()
        .any(|k| path.is_ident(k));
        if ok {
            kept.push(attr.clone());
        } else {
            errors.at(
                attr,
                format!(
                    "this attribute is not supported on a {what} fn: only doc comments, `cfg` \
                     and lint attributes (`allow`, `expect`, ...) are kept on the items it \
                     expands to"
                ),
            );
        }
    }
    kept
}

/// A string literal token for `text`, at `span`.
pub fn lit(text: &str, span: Span) -> TokenStream {
    syn::LitStr::new(text, span).into_token_stream()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(upper_camel("train_model"), "TrainModel");
        assert_eq!(upper_camel("echo"), "Echo");
        assert_eq!(upper_camel("_x__y_"), "XY");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("imge", &["image", "name", "description"]),
            Some("image")
        );
        assert_eq!(
            suggest("descripton", &["image", "name", "description"]),
            Some("description")
        );
        assert_eq!(suggest("zzzzzz", &["image", "name"]), None);
    }
}
