//! Which Rust types a Rust-function component can take and return, decided from how the
//! type is written (a macro cannot see trait impls). Types it does not know are taken to
//! be serde types and travel as JSON, which is correct for every serde type; what cannot
//! work (references, slices, `usize`, ...) is refused here with what to write instead.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, Type, TypePath};

use crate::util::type_text;

/// Where a value type appears, for messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Argument,
    Return,
    Field,
}

/// How a value crosses the component's boundary.
pub enum ValueType {
    /// The type implements `FunctionValue` itself (`String`, numbers, `bool`, `Vec<T>`,
    /// `BTreeMap<String, V>`, `serde_json::Value`).
    Plain(Type),
    /// A serde type, read and written through `Json<T>`; `wrapped` when the user wrote
    /// `Json<T>` (and so gets the wrapper).
    Json { inner: Type, wrapped: bool },
}

impl ValueType {
    /// The `FunctionValue` type to read or write it with.
    pub fn codec(&self) -> TokenStream {
        match self {
            Self::Plain(t) => quote!(#t),
            Self::Json { inner, .. } => quote!(::kfp::dsl::Json<#inner>),
        }
    }
    /// Its type in the pipeline (`T` of `Param<T>`).
    pub fn pipeline_type(&self) -> TokenStream {
        match self {
            Self::Plain(t) => quote!(#t),
            Self::Json { inner, .. } => quote!(#inner),
        }
    }
    pub fn span(&self) -> Span {
        match self {
            Self::Plain(t) | Self::Json { inner: t, .. } => t.span(),
        }
    }
    /// From the codec's value to what the function takes.
    pub fn unwrap(&self, codec_value: TokenStream) -> TokenStream {
        match self {
            Self::Json { wrapped: false, .. } => quote!((#codec_value).0),
            _ => codec_value,
        }
    }
    /// From what the function returns to the codec's value.
    pub fn wrap(&self, value: TokenStream) -> TokenStream {
        match self {
            Self::Json { wrapped: false, .. } => quote!(::kfp::dsl::Json(#value)),
            _ => value,
        }
    }
    /// Whether `#[kfp(default = ..)]` can be checked and rendered (the type is `KfpType`).
    pub fn takes_default(&self) -> bool {
        matches!(self, Self::Plain(_))
    }
}

/// The one type argument of `Name<T>`, if written that way.
pub fn one_type_arg(p: &TypePath) -> Option<&Type> {
    let last = p.path.segments.last()?;
    match &last.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first()? {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// The last segment's name of a plain path type, with the path.
pub fn path_of(ty: &Type) -> Option<(&TypePath, String)> {
    match ty {
        Type::Group(g) => path_of(&g.elem),
        Type::Paren(p) => path_of(&p.elem),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            Some((p, last.ident.to_string()))
        }
        _ => None,
    }
}

pub fn unsupported(ty: &Type, place: Place) -> String {
    let t = type_text(ty);
    match place {
        Place::Argument => format!(
            "unsupported argument type `{t}` in a Rust-function component: arguments are \
             `String`, integers (`i64`, `i32`, `u32`, `u64`), floats (`f64`, `f32`), `bool`, \
             serde types (passed as JSON), `InputPath` or `OutputPath` for files, or an \
             `Option` of one of these"
        ),
        Place::Return => format!(
            "unsupported return type `{t}` in a Rust-function component: return a value \
             (`String`, a number, `bool`, `Vec<T>`, or `Json<T>` for any serde type), a tuple \
             of values, a `#[derive(KfpOutputs)]` struct (one output per field), nothing, or \
             a `Result` of one of these"
        ),
        Place::Field => format!(
            "unsupported output type `{t}`: an output field is `String`, an integer, a float, \
             `bool`, or a serde type (written as JSON)"
        ),
    }
}

/// Classify a value type (not `Option`, not a file, not a tuple at the top level).
pub fn classify_value(ty: &Type, place: Place) -> Result<ValueType, String> {
    match ty {
        Type::Group(g) => return classify_value(&g.elem, place),
        Type::Paren(p) => return classify_value(&p.elem, place),
        Type::Reference(r) => {
            let owned = match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
                Type::Slice(s) => format!("Vec<{}>", type_text(&s.elem)),
                other => type_text(other),
            };
            return Err(match place {
                Place::Argument => format!(
                    "a Rust-function component takes its arguments by value (they are read \
                     from its command line): write `{owned}` instead of `{}`",
                    type_text(ty)
                ),
                _ => format!(
                    "return owned values (they are written to files): write `{owned}` instead \
                     of `{}`",
                    type_text(ty)
                ),
            });
        }
        Type::Array(a) => {
            return Err(format!(
                "write `Vec<{}>` instead of `{}`: lists travel as JSON lists of any length",
                type_text(&a.elem),
                type_text(ty)
            ));
        }
        Type::Slice(s) => {
            return Err(format!(
                "write `Vec<{}>` instead of `{}`",
                type_text(&s.elem),
                type_text(ty)
            ));
        }
        Type::Path(p) if p.qself.is_none() => {}
        _ => return Err(unsupported(ty, place)),
    }
    let Some((path, name)) = path_of(ty) else {
        return Err(unsupported(ty, place));
    };
    let no_args = path
        .path
        .segments
        .last()
        .is_some_and(|s| s.arguments.is_none());
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    match name.as_str() {
        "String" | "i64" | "i32" | "u32" | "u64" | "f64" | "f32" | "bool" if no_args => {
            Ok(ValueType::Plain(ty.clone()))
        }
        "i8" | "i16" | "i128" | "u8" | "u16" | "u128" | "isize" | "usize" if no_args => {
            Err(format!(
                "`{name}` is not supported: integers travel as `i64`, `i32`, `u32` or `u64` \
                 (KFP's `Integer`); convert inside the function"
            ))
        }
        "char" | "str" if no_args => Err(format!("write `String` instead of `{name}`")),
        "Vec" | "BTreeMap" => Ok(ValueType::Plain(ty.clone())),
        "Value" if segments.len() >= 2 && segments[segments.len() - 2] == "serde_json" => {
            Ok(ValueType::Plain(ty.clone()))
        }
        "Value" if segments.len() == 1 => Err(
            "`Value` is ambiguous here (`kfp::dsl::Value` is the DSL's untyped value): write \
             `serde_json::Value` for any JSON value"
                .to_owned(),
        ),
        "Json" => match one_type_arg(path) {
            Some(inner) => Ok(ValueType::Json {
                inner: inner.clone(),
                wrapped: true,
            }),
            None => Err("`Json` needs the serde type it carries: write `Json<Config>`".into()),
        },
        "Param" | "Output" => {
            let t = one_type_arg(path).map_or_else(|| "String".to_owned(), type_text);
            Err(match place {
                Place::Argument => format!(
                    "a Rust-function component takes plain values: write `{t}` instead of \
                     `{}` (or, to describe a container instead, return `Container`)",
                    type_text(ty)
                ),
                _ => format!(
                    "a Rust function returns plain values: write `{t}` instead of `{}`",
                    type_text(ty)
                ),
            })
        }
        "InputPath" | "OutputPath" => Err(match place {
            Place::Argument => format!("`{name}` cannot be nested in another type"),
            _ => "a file output is an `OutputPath` argument the function writes to, not a \
                  returned value"
                .to_owned(),
        }),
        "Option" => Err(match place {
            Place::Argument => "an optional input is `Option<T>` of a plain type, once".to_owned(),
            _ => "an output always has a value: return `T` (or `Result<T, String>` to fail) \
                  instead of `Option<T>`"
                .to_owned(),
        }),
        "Result" => Err("only the function's whole return type may be a `Result`".to_owned()),
        _ => Ok(ValueType::Json {
            inner: ty.clone(),
            wrapped: false,
        }),
    }
}
