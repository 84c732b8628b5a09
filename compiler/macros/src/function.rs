//! `#[component]` on a plain Rust function (one that does not return `Container`): the
//! function becomes a component run by the pipeline binary (`<binary> component NAME
//! --ARG VALUE ...`), expanded to `kfp::dsl::FunctionComponent`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, ItemFn, LitStr, ReturnType, Type};

use crate::component::{ARGS, check_signature, typed_args};
use crate::options::Options;
use crate::task::{
    OutputsShape, TaskInput, TaskItems, TaskOutput, check_setter_name, outputs_ident,
};
use crate::types::{Place, ValueType, classify_value, one_type_arg, path_of};
use crate::util::{Errors, doc_text, ident_text, lit, passthrough_attrs, type_text};

/// What an argument of the function is to the component.
enum ArgKind {
    Value(ValueType),
    OptionalValue(ValueType),
    File,
    OptionalFile,
    OutputFile,
}

impl ArgKind {
    fn is_input(&self) -> bool {
        !matches!(self, ArgKind::OutputFile)
    }
}

struct Arg {
    ident: Ident,
    ty_span: Span,
    name: String,
    name_span: Span,
    kind: ArgKind,
    description: Option<LitStr>,
    default: Option<Expr>,
    type_name: Option<LitStr>,
}

/// What the function returns, inside `Result` if it is one.
enum Returns {
    Nothing,
    /// One output, `output`.
    One(ValueType),
    /// `output_0`, `output_1`, ...
    Tuple(Vec<ValueType>),
    /// A `#[derive(KfpOutputs)]` struct: one output per field.
    Struct(Type),
}

pub fn expand(args: TokenStream, mut func: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let opts = Options::from_args(args, ARGS, "#[component(...)]", &mut errors);
    check_signature(&func, "#[component]", &mut errors);
    let attrs = passthrough_attrs(&func.attrs, &mut errors, "#[component]");
    let arguments = arguments(&mut func, &mut errors);
    let (returns, fallible) = returns(&func.sig.output, &mut errors);
    if let Some(returns) = &returns {
        check_output_names(&arguments, returns, &mut errors);
    }
    errors.finish()?;
    let Some(returns) = returns else {
        return Err(syn::Error::new(
            func.sig.output.span(),
            "unsupported return type",
        ));
    };
    Ok(generate(
        &func, &opts, &attrs, &arguments, &returns, fallible,
    ))
}

fn arguments(func: &mut ItemFn, errors: &mut Errors) -> Vec<Arg> {
    let mut out: Vec<Arg> = Vec::new();
    for (ident, ty, kind, opts) in typed_args(func, errors, classify_arg) {
        let Some(new) = argument(ident, &ty, kind, &opts, errors) else {
            continue;
        };
        let clash = out
            .iter()
            .any(|a| a.name == new.name && a.kind.is_input() == new.kind.is_input());
        if clash {
            errors.push(syn::Error::new(
                new.name_span,
                format!(
                    "two arguments are named `{}`: give one another name with \
                     `#[kfp(name = \"...\")]`",
                    new.name
                ),
            ));
        }
        out.push(new);
    }
    out
}

fn classify_arg(ty: &Type) -> Result<ArgKind, String> {
    if let Some((path, name)) = path_of(ty) {
        let no_args = path
            .path
            .segments
            .last()
            .is_some_and(|s| s.arguments.is_none());
        match name.as_str() {
            "InputPath" | "OutputPath" if !no_args => {
                return Err(format!(
                    "`{name}` takes no type arguments: set the file's KFP type with \
                     `#[kfp(type = \"CSV\")]`"
                ));
            }
            "InputPath" => return Ok(ArgKind::File),
            "OutputPath" => return Ok(ArgKind::OutputFile),
            "Option" => {
                let Some(inner) = one_type_arg(path) else {
                    return Err("`Option` needs the value's type: write `Option<String>`".into());
                };
                return match path_of(inner).map(|(_, n)| n).as_deref() {
                    Some("InputPath") => Ok(ArgKind::OptionalFile),
                    Some("OutputPath") => Err(
                        "a file output is always given a path: write `OutputPath` instead of \
                         `Option<OutputPath>`"
                            .into(),
                    ),
                    _ => classify_value(inner, Place::Argument).map(ArgKind::OptionalValue),
                };
            }
            _ => {}
        }
    }
    classify_value(ty, Place::Argument).map(ArgKind::Value)
}

fn argument(
    ident: Ident,
    ty: &Type,
    kind: ArgKind,
    opts: &Options,
    errors: &mut Errors,
) -> Option<Arg> {
    let name_lit = opts.str("name");
    let name = name_lit
        .as_ref()
        .map_or_else(|| ident_text(&ident), LitStr::value);
    let name_span = name_lit.as_ref().map_or(ident.span(), LitStr::span);
    if name.trim().is_empty() {
        errors.push(syn::Error::new(name_span, "a name cannot be empty"));
        return None;
    }
    let mut ok = true;
    let mut refuse = |key: &str, message: String| {
        if let Some(written) = opts.written(key) {
            errors.at(written, message);
            ok = false;
        }
    };
    let t = type_text(ty);
    match &kind {
        ArgKind::Value(v) => {
            refuse(
                "optional",
                format!("an optional input of a Rust function is an `Option`: write `Option<{t}>`"),
            );
            if !v.takes_default() {
                refuse(
                    "default",
                    format!(
                        "a default is supported on plain values (strings, numbers, `bool`, \
                         `Vec`, `BTreeMap`): take `Option<{t}>` and use `unwrap_or_default()` \
                         in the function"
                    ),
                );
            }
        }
        ArgKind::OptionalValue(_) | ArgKind::OptionalFile => {
            refuse(
                "optional",
                "`Option` already makes the input optional: remove `optional`".into(),
            );
            refuse(
                "default",
                "an `Option` input has no default: take the plain type with \
                 `#[kfp(default = ...)]` instead"
                    .into(),
            );
        }
        ArgKind::File => {
            refuse(
                "optional",
                "an optional file input is an `Option`: write `Option<InputPath>`".into(),
            );
            refuse(
                "default",
                "a file input has no default value: take `Option<InputPath>` instead".into(),
            );
        }
        ArgKind::OutputFile => {
            for key in ["default", "optional"] {
                refuse(
                    key,
                    format!(
                        "an output cannot be `{key}`: the function always writes its outputs \
                         (only inputs take `default` and `optional`)"
                    ),
                );
            }
        }
    }
    if matches!(kind, ArgKind::Value(_) | ArgKind::OptionalValue(_)) {
        refuse(
            "type",
            format!(
                "`type` is for files (`InputPath`, `OutputPath`); the KFP type of a `{t}` comes \
                 from the Rust type"
            ),
        );
    }
    let default = opts.expr("default").cloned();
    let optional = matches!(kind, ArgKind::OptionalValue(_) | ArgKind::OptionalFile);
    if (optional || default.is_some()) && !check_setter_name(&ident, &name, errors) {
        ok = false;
    }
    ok.then(|| Arg {
        description: opts.str("description"),
        type_name: opts.str("type"),
        default,
        ty_span: ty.span(),
        ident,
        name,
        name_span,
        kind,
    })
}

/// `(what is returned, whether it is a Result)`; `None` when it cannot be used.
fn returns(output: &ReturnType, errors: &mut Errors) -> (Option<Returns>, bool) {
    let ReturnType::Type(_, ty) = output else {
        return (Some(Returns::Nothing), false);
    };
    let (inner, fallible) = match path_of(ty) {
        Some((path, name)) if name == "Result" => {
            let ok = path.path.segments.last().and_then(|s| match &s.arguments {
                syn::PathArguments::AngleBracketed(a) if (1..=2).contains(&a.args.len()) => {
                    match a.args.first() {
                        Some(syn::GenericArgument::Type(t)) => Some(t),
                        _ => None,
                    }
                }
                _ => None,
            });
            match ok {
                Some(t) => (t, true),
                None => {
                    errors.at(
                        ty,
                        "write the result as `Result<T, E>` (`E` displays the error)",
                    );
                    return (None, true);
                }
            }
        }
        _ => (&**ty, false),
    };
    match returned(inner) {
        Ok(r) => (Some(r), fallible),
        Err(message) => {
            errors.at(inner, message);
            (None, fallible)
        }
    }
}

fn returned(ty: &Type) -> Result<Returns, String> {
    match ty {
        Type::Group(g) => returned(&g.elem),
        Type::Paren(p) => returned(&p.elem),
        Type::Tuple(t) if t.elems.is_empty() => Ok(Returns::Nothing),
        Type::Tuple(t) => t
            .elems
            .iter()
            .map(|e| classify_value(e, Place::Return))
            .collect::<Result<Vec<_>, _>>()
            .map(Returns::Tuple),
        Type::Path(_) => {
            if path_of(ty).is_some_and(|(_, n)| n == "Container") {
                return Err(
                    "a container component returns `Container` itself, not inside another type"
                        .into(),
                );
            }
            match classify_value(ty, Place::Return)? {
                // A type the macro does not know is taken to list outputs (it must derive
                // `KfpOutputs`; rustc says so otherwise, and how to return one JSON value).
                ValueType::Json { wrapped: false, .. } => Ok(Returns::Struct(ty.clone())),
                other => Ok(Returns::One(other)),
            }
        }
        other => classify_value(other, Place::Return).map(Returns::One),
    }
}

/// Names the returned outputs take (`output`, `output_0`, ...) against file outputs.
fn check_output_names(args: &[Arg], returns: &Returns, errors: &mut Errors) {
    let taken: Vec<String> = match returns {
        Returns::Nothing => Vec::new(),
        Returns::One(_) => vec!["output".into()],
        Returns::Tuple(v) => (0..v.len()).map(|i| format!("output_{i}")).collect(),
        Returns::Struct(_) => vec!["results".into()],
    };
    for arg in args.iter().filter(|a| !a.kind.is_input()) {
        if taken.contains(&arg.name) || taken.contains(&ident_text(&arg.ident)) {
            errors.push(syn::Error::new(
                arg.name_span,
                format!(
                    "`{}` is the name of the returned output: name the file output otherwise \
                     (with `#[kfp(name = \"...\")]` or another parameter name)",
                    arg.name
                ),
            ));
        }
    }
}

fn generate(
    func: &ItemFn,
    opts: &Options,
    attrs: &[Attribute],
    args: &[Arg],
    returns: &Returns,
    fallible: bool,
) -> TokenStream {
    let vis = &func.vis;
    let fn_ident = &func.sig.ident;
    let base = ident_text(fn_ident);
    let span = fn_ident.span();
    let impl_fn = format_ident!("{}_impl", base, span = span);
    let function_fn = format_ident!("{}_function", base, span = span);
    let name = opts
        .str("name")
        .map_or_else(|| lit(&base.replace('_', "-"), span), |l| quote!(#l));
    let description = opts
        .str("description")
        .map(|l| l.value())
        .or_else(|| doc_text(&func.attrs))
        .map(|d| quote!(.description(#d)));
    let image = opts.expr("image").map(|e| quote!(.image(#e)));
    let binary = opts.expr("binary").map(|e| quote!(.binary(#e)));

    // The declarations, for the builder.
    let inputs = args.iter().filter(|a| a.kind.is_input()).map(|a| {
        let n = &a.name;
        let mut spec = match &a.kind {
            ArgKind::Value(v) | ArgKind::OptionalValue(v) => {
                let codec = v.codec();
                quote_spanned!(v.span()=> ::kfp::dsl::FunctionInput::value::<#codec>(#n))
            }
            _ => {
                let t = file_type(a);
                quote!(::kfp::dsl::FunctionInput::file(#n, #t))
            }
        };
        if let (Some(d), ArgKind::Value(v)) = (&a.default, &a.kind) {
            let t = v.pipeline_type();
            spec.extend(quote_spanned!(d.span()=> .default(::kfp::dsl::default_text::<#t>(#d))));
        }
        if matches!(a.kind, ArgKind::OptionalValue(_) | ArgKind::OptionalFile) {
            spec.extend(quote!(.optional()));
        }
        if let Some(d) = &a.description {
            spec.extend(quote!(.description(#d)));
        }
        quote!(.input(#spec))
    });
    let file_outputs = args.iter().filter(|a| !a.kind.is_input()).map(|a| {
        let (n, t) = (&a.name, file_type(a));
        let d = a.description.as_ref().map(|d| quote!(.description(#d)));
        quote!(.output(::kfp::dsl::FunctionOutput::file(#n, #t) #d))
    });
    let returned_outputs = match returns {
        Returns::Nothing => quote!(),
        Returns::One(v) => {
            let codec = v.codec();
            quote_spanned!(v.span()=> .output(::kfp::dsl::FunctionOutput::value::<#codec>("output")))
        }
        Returns::Tuple(vs) => vs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let (codec, n) = (v.codec(), format!("output_{i}"));
                quote_spanned!(v.span()=> .output(::kfp::dsl::FunctionOutput::value::<#codec>(#n)))
            })
            .collect(),
        Returns::Struct(t) => quote_spanned!(t.span()=> .outputs_of::<#t>()),
    };

    // The runner: read each argument, call the function, record what it returns.
    let args_var = Ident::new("args", Span::mixed_site());
    let outs_var = Ident::new("outputs", Span::mixed_site());
    let result_var = Ident::new("result", Span::mixed_site());
    let mut reads = Vec::new();
    let mut call_args = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let var = Ident::new(&format!("arg{i}"), Span::mixed_site());
        let n = &a.name;
        let read = match &a.kind {
            ArgKind::Value(v) => {
                let codec = v.codec();
                v.unwrap(quote!(#args_var.value::<#codec>(#n)?))
            }
            ArgKind::OptionalValue(v) => {
                let codec = v.codec();
                let value = Ident::new("value", Span::mixed_site());
                let unwrapped = v.unwrap(quote!(#value));
                quote!(#args_var.optional::<#codec>(#n)?.map(|#value| #unwrapped))
            }
            ArgKind::File => quote!(#args_var.input_path(#n)?),
            ArgKind::OptionalFile => quote!(#args_var.optional_input_path(#n)?),
            ArgKind::OutputFile => quote!(#args_var.output_path(#n)?),
        };
        reads.push(quote!(let #var = #read;));
        call_args.push(var);
    }
    let unwrap_result = fallible.then(|| {
        let error = Ident::new("error", Span::mixed_site());
        let value = Ident::new("value", Span::mixed_site());
        let error_span = match &func.sig.output {
            ReturnType::Type(_, t) => t.span(),
            ReturnType::Default => span,
        };
        let text = quote_spanned!(error_span=> ::std::format!("{:#}", #error));
        quote! {
            let #result_var = match #result_var {
                ::std::result::Result::Ok(#value) => #value,
                ::std::result::Result::Err(#error) => return ::std::result::Result::Err(#text),
            };
        }
    });
    let record = match returns {
        Returns::Nothing => quote!(let () = #result_var;),
        Returns::One(v) => {
            let codec = v.codec();
            let value = v.wrap(quote!(#result_var));
            quote!(#outs_var.set::<#codec>("output", &#value)?;)
        }
        Returns::Tuple(vs) => {
            let parts: Vec<Ident> = (0..vs.len())
                .map(|i| Ident::new(&format!("part{i}"), Span::mixed_site()))
                .collect();
            let sets = vs.iter().zip(&parts).enumerate().map(|(i, (v, part))| {
                let (codec, n) = (v.codec(), format!("output_{i}"));
                let value = v.wrap(quote!(#part));
                quote!(#outs_var.set::<#codec>(#n, &#value)?;)
            });
            quote!(let (#(#parts,)*) = #result_var; #(#sets)*)
        }
        Returns::Struct(t) => quote_spanned!(t.span()=>
            <#t as ::kfp::dsl::KfpOutputs>::write(#result_var, &mut #outs_var)?;
        ),
    };

    // The function itself, renamed, without the `#[kfp]` options.
    let mut impl_item = func.clone();
    impl_item.sig.ident = impl_fn.clone();
    let impl_doc = format!(
        "The Rust function behind the `{base}` component, unchanged: what its tasks run \
         (call it directly, e.g. in tests)."
    );

    let items = TaskItems {
        func,
        attrs,
        inputs: task_inputs(args),
        outputs: outputs_shape(args, returns),
        kind_doc: format!(
            " The task runs [`{impl_fn}`] inside the pipeline binary (`<binary> component \
             {} ...`, see [`{function_fn}`]).",
            base.replace('_', "-")
        ),
    };
    let component_fn = items.component_fn();
    let task_items = items.generate();
    let function_doc = format!(
        "The `{base}` Rust-function component in builder form: its inputs, outputs and \
         runner (what `<binary> component` runs)."
    );
    let component_doc = format!(
        "The `{base}` component as [`{fn_ident}`] uses it (a container running the pipeline \
         binary); for the builder API, or to export as `component.yaml`."
    );
    let fn_name = ident_text(fn_ident);
    quote! {
        #task_items

        #[doc = #impl_doc]
        #[allow(dead_code, clippy::too_many_arguments)]
        #impl_item

        #[doc = #function_doc]
        #(#attrs)*
        #[allow(dead_code)]
        #vis fn #function_fn() -> ::kfp::dsl::FunctionComponent {
            ::kfp::dsl::FunctionComponent::new(
                #name,
                |#args_var: &::kfp::dsl::Args| -> ::std::result::Result<::kfp::dsl::Outputs, ::std::string::String> {
                    #(#reads)*
                    let #result_var = #impl_fn(#(#call_args),*);
                    #unwrap_result
                    #[allow(unused_mut)]
                    let mut #outs_var = ::kfp::dsl::Outputs::new();
                    #record
                    ::std::result::Result::Ok(#outs_var)
                },
            )
            .defined_in(
                ::core::env!("CARGO_PKG_NAME"),
                ::core::option_env!("CARGO_BIN_NAME"),
            )
            .rust_path(::core::concat!(::core::module_path!(), "::", #fn_name))
            #description
            #(#inputs)*
            #(#file_outputs)*
            #returned_outputs
            #image
            #binary
        }

        #[doc = #component_doc]
        #(#attrs)*
        #[allow(dead_code)]
        #vis fn #component_fn() -> ::kfp::component::Component {
            #function_fn().component()
        }
    }
}

fn file_type(a: &Arg) -> TokenStream {
    a.type_name
        .as_ref()
        .map_or_else(|| quote!(::kfp::dsl::ARTIFACT_TYPE), |t| quote!(#t))
}

fn task_inputs(args: &[Arg]) -> Vec<TaskInput> {
    args.iter()
        .filter(|a| a.kind.is_input())
        .map(|a| {
            let value_ty = match &a.kind {
                ArgKind::Value(v) | ArgKind::OptionalValue(v) => v.pipeline_type(),
                _ => quote!(::kfp::dsl::Artifact),
            };
            TaskInput {
                ident: a.ident.clone(),
                ty_span: a.ty_span,
                name: a.name.clone(),
                value_ty,
                required: matches!(a.kind, ArgKind::Value(_) | ArgKind::File)
                    && a.default.is_none(),
                default_text: a.default.as_ref().map(type_text),
            }
        })
        .collect()
}

fn outputs_shape(args: &[Arg], returns: &Returns) -> OutputsShape {
    let outputs = outputs_ident();
    let field = |ident: Ident, name: &str, ty: TokenStream, doc: String| TaskOutput {
        ident,
        ty: quote!(::kfp::dsl::Param<#ty>),
        doc,
        make: quote!(::kfp::dsl::Param::from_value(#outputs.value(#name))),
    };
    let mut fields: Vec<TaskOutput> = args
        .iter()
        .filter(|a| !a.kind.is_input())
        .map(|a| {
            let doc = a
                .description
                .as_ref()
                .map_or_else(|| format!("The file output `{}`.", a.name), LitStr::value);
            field(a.ident.clone(), &a.name, quote!(::kfp::dsl::Artifact), doc)
        })
        .collect();
    match returns {
        Returns::Nothing => {}
        Returns::One(v) => fields.push(field(
            Ident::new("output", Span::call_site()),
            "output",
            v.pipeline_type(),
            "The value the function returns.".into(),
        )),
        Returns::Tuple(vs) => {
            for (i, v) in vs.iter().enumerate() {
                let n = format!("output_{i}");
                fields.push(field(
                    Ident::new(&n, Span::call_site()),
                    &n,
                    v.pipeline_type(),
                    format!("Element {i} of the tuple the function returns."),
                ));
            }
        }
        Returns::Struct(t) => {
            let params = quote_spanned!(t.span()=> <#t as ::kfp::dsl::KfpOutputs>::Params);
            let make = quote_spanned!(t.span()=> <#t as ::kfp::dsl::KfpOutputs>::params(#outputs));
            if fields.is_empty() {
                return OutputsShape::Alias { ty: params, make };
            }
            fields.push(TaskOutput {
                ident: Ident::new("results", Span::call_site()),
                ty: params,
                doc: format!("The fields of the `{}` the function returns.", type_text(t)),
                make,
            });
        }
    }
    OutputsShape::Struct(fields)
}
