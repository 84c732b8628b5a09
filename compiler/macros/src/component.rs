//! `#[component]`: a function whose parameters are a component's inputs and outputs and
//! whose body returns the container to run; or, when it does not return `Container`, a
//! Rust function run by the pipeline binary (see [`crate::function`]).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, FnArg, GenericArgument, Ident, ItemFn, LitStr, Pat, PathArguments, ReturnType,
    Type, Visibility,
};

use crate::options::{Options, Shape};
use crate::task::{
    OutputsShape, TaskInput, TaskItems, TaskOutput, check_setter_name, outputs_ident,
};
use crate::util::{Errors, doc_text, ident_text, lit, passthrough_attrs, type_text};

/// The keys of `#[component(..)]`, for both kinds (`binary` is refused on containers).
pub const ARGS: &[(&str, Shape)] = &[
    ("image", Shape::Expr),
    ("name", Shape::Str),
    ("description", Shape::Str),
    ("binary", Shape::Expr),
];
const PARAM_OPTIONS: &[(&str, Shape)] = &[
    ("name", Shape::Str),
    ("description", Shape::Str),
    ("default", Shape::Expr),
    ("optional", Shape::Flag),
    ("type", Shape::Str),
];

/// What a parameter of the function is to the component.
enum Kind {
    /// `Param<T>`: an input value.
    Value(Type),
    /// `InputPath`: an input file.
    InputFile,
    /// `OutputPath`: an output file.
    OutputFile,
    /// `Output<T>`: an output value, written to a file.
    OutputValue(Type),
}

impl Kind {
    fn is_input(&self) -> bool {
        matches!(self, Kind::Value(_) | Kind::InputFile)
    }
}

struct Port {
    ident: Ident,
    /// Where the parameter's type is written, for errors about values passed to it.
    ty_span: Span,
    name: String,
    name_span: Span,
    kind: Kind,
    description: Option<LitStr>,
    default: Option<Expr>,
    optional: bool,
    type_name: Option<LitStr>,
}

impl Port {
    /// The value type this port carries in the pipeline (`Artifact` for files).
    fn value_type(&self) -> TokenStream {
        match &self.kind {
            Kind::Value(t) | Kind::OutputValue(t) => quote!(#t),
            Kind::InputFile | Kind::OutputFile => quote!(::kfp::dsl::Artifact),
        }
    }
    fn is_required_input(&self) -> bool {
        self.kind.is_input() && !self.optional && self.default.is_none()
    }
}

pub fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let func: ItemFn = syn::parse2(item)?;
    if returns_container(&func.sig.output) {
        expand_container(args, func)
    } else {
        crate::function::expand(args, func)
    }
}

/// `-> Container` (or `-> kfp::dsl::Container`): the fn describes a container to run.
fn returns_container(output: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    let mut ty: &Type = ty;
    while let Type::Group(g) = ty {
        ty = &g.elem;
    }
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Container" && s.arguments.is_none()))
}

fn expand_container(args: TokenStream, mut func: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let opts = Options::from_args(args, ARGS, "#[component(...)]", &mut errors);
    let image = opts.expr("image").cloned();
    // A misspelled key is reported as such; "missing image" would only repeat it.
    if image.is_none() && !opts.has("image") && !errors.has_any() {
        errors.push(syn::Error::new(
            Span::call_site(),
            "#[component] needs the container image the component runs in: write \
             `#[component(image = \"python:3.12\")]`",
        ));
    }
    if let Some(written) = opts.written("binary") {
        errors.at(
            written,
            "`binary` is for Rust-function components: a fn returning `Container` names its \
             program in `Container::new([...])`",
        );
    }
    check_signature(&func, "#[component]", &mut errors);
    let attrs = passthrough_attrs(&func.attrs, &mut errors, "#[component]");
    let ports = ports(&mut func, &mut errors);
    errors.finish()?;
    let image = image.map_or_else(|| quote!(""), |e| quote!(#e));
    Ok(generate(&func, &opts, &attrs, &ports, image))
}

/// What neither macro supports: generics, `async`, `self`, ...
pub fn check_signature(func: &ItemFn, what: &str, errors: &mut Errors) {
    let sig = &func.sig;
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.at(
            &sig.generics,
            format!("a {what} fn cannot be generic: use concrete types"),
        );
    }
    if let Some(t) = &sig.asyncness {
        errors.at(
            t,
            format!("a {what} fn cannot be `async`: it only describes what runs"),
        );
    }
    if let Some(t) = &sig.constness {
        errors.at(t, format!("a {what} fn cannot be `const`"));
    }
    if !matches!(sig.safety, syn::Safety::Default) {
        errors.at(
            sig.fn_token,
            format!("a {what} fn cannot be `unsafe` or `safe`"),
        );
    }
    if let Some(abi) = &sig.abi {
        errors.at(abi, format!("a {what} fn cannot have an ABI"));
    }
    if let Some(v) = &sig.variadic {
        errors.at(v, format!("a {what} fn cannot be variadic"));
    }
}

/// The binding of a parameter: a plain name (`x` or `mut x`).
pub fn binding(pat: &Pat, what: &str, errors: &mut Errors) -> Option<Ident> {
    match pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(p.ident.clone()),
        _ => {
            errors.at(
                pat,
                format!("a {what} parameter must be a plain name such as `data`"),
            );
            None
        }
    }
}

/// Each argument of a `#[component]` fn: its binding, type, kind (as `classify` reads the
/// type) and `#[kfp(..)]` options. Problems are reported and the argument skipped. Shared
/// by container and Rust-function components, which differ only in the kinds they accept.
pub fn typed_args<K>(
    func: &mut ItemFn,
    errors: &mut Errors,
    classify: impl Fn(&Type) -> Result<K, String>,
) -> Vec<(Ident, Type, K, Options)> {
    let mut out = Vec::new();
    for arg in &mut func.sig.inputs {
        let arg = match arg {
            FnArg::Receiver(r) => {
                errors.at(
                    r,
                    "a #[component] fn takes no `self`: make it a free function",
                );
                continue;
            }
            FnArg::Typed(arg) => arg,
        };
        let opts = Options::take_kfp(&mut arg.attrs, PARAM_OPTIONS, "#[kfp(...)]", errors);
        reject_other_attrs(&arg.attrs, errors);
        let kind = match classify(&arg.ty) {
            Ok(kind) => kind,
            Err(message) => {
                errors.at(&arg.ty, message);
                continue;
            }
        };
        let Some(ident) = binding(&arg.pat, "#[component]", errors) else {
            continue;
        };
        out.push((ident, (*arg.ty).clone(), kind, opts));
    }
    out
}

fn ports(func: &mut ItemFn, errors: &mut Errors) -> Vec<Port> {
    let mut ports: Vec<Port> = Vec::new();
    for (ident, ty, kind, opts) in typed_args(func, errors, classify) {
        if let Some(port) = port(ident, ty.span(), kind, &opts, errors) {
            let clash = ports
                .iter()
                .any(|p| p.name == port.name && p.kind.is_input() == port.kind.is_input());
            if clash {
                let side = if port.kind.is_input() {
                    "input"
                } else {
                    "output"
                };
                errors.push(syn::Error::new(
                    port.name_span,
                    format!(
                        "two {side}s are named `{}`: give one another name with \
                         `#[kfp(name = \"...\")]`",
                        port.name
                    ),
                ));
            }
            ports.push(port);
        }
    }
    ports
}

pub fn reject_other_attrs(attrs: &[Attribute], errors: &mut Errors) {
    for attr in attrs {
        if attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr") {
            errors.at(
                attr,
                "a component's inputs and outputs cannot be conditional",
            );
        }
    }
}

fn port(
    ident: Ident,
    ty_span: Span,
    kind: Kind,
    opts: &Options,
    errors: &mut Errors,
) -> Option<Port> {
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
    match &kind {
        Kind::Value(t) => refuse(
            "type",
            format!(
                "`type` is for files (`InputPath`, `OutputPath`); the KFP type of a \
                 `Param<{}>` comes from `{}`",
                type_text(t),
                type_text(t)
            ),
        ),
        Kind::InputFile => refuse(
            "default",
            format!(
                "a file input has no default value: mark it `#[kfp(optional)]` and guard its \
                 arguments with `{0}.if_present(cmd![\"--{0}\", &{0}])`",
                ident_text(&ident)
            ),
        ),
        Kind::OutputFile | Kind::OutputValue(_) => {
            for key in ["default", "optional"] {
                refuse(
                    key,
                    format!(
                        "an output cannot be `{key}`: a component always writes its outputs \
                         (only inputs take `default` and `optional`)"
                    ),
                );
            }
            if let Kind::OutputValue(t) = &kind {
                refuse(
                    "type",
                    format!(
                        "`type` is for files (`OutputPath`); the KFP type of an `Output<{}>` \
                         comes from `{}`",
                        type_text(t),
                        type_text(t)
                    ),
                );
            }
        }
    }
    if opts.has("default") && opts.has("optional") {
        refuse(
            "optional",
            "`default` already makes the input optional: remove `optional`".into(),
        );
    }
    let optional = opts.has("optional");
    let default = opts.expr("default").cloned();
    if (optional || default.is_some()) && !check_setter_name(&ident, &name, errors) {
        ok = false;
    }
    ok.then(|| Port {
        description: opts.str("description"),
        type_name: opts.str("type"),
        default,
        optional,
        ident,
        ty_span,
        name,
        name_span,
        kind,
    })
}

fn classify(ty: &Type) -> Result<Kind, String> {
    let unsupported = || {
        let t = type_text(ty);
        format!(
            "unsupported parameter type `{t}` in a #[component] fn: write `Param<{t}>` for an \
             input value, `InputPath` for an input file, `OutputPath` for an output file, or \
             `Output<{t}>` for a value the program writes to a file"
        )
    };
    match ty {
        Type::Group(g) => classify(&g.elem),
        Type::Paren(p) => classify(&p.elem),
        Type::Reference(r) => match classify(&r.elem) {
            Ok(_) => Err(format!(
                "take the parameter by value: write `{}` instead of `{}`",
                type_text(&r.elem),
                type_text(ty)
            )),
            Err(e) => Err(e),
        },
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Err(unsupported());
            };
            let one_type = match &last.arguments {
                PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first() {
                    Some(GenericArgument::Type(t)) => Some(t.clone()),
                    _ => None,
                },
                _ => None,
            };
            let no_args = matches!(last.arguments, PathArguments::None);
            match (last.ident.to_string().as_str(), one_type, no_args) {
                ("Param", Some(t), _) => Ok(Kind::Value(t)),
                ("Output", Some(t), _) => Ok(Kind::OutputValue(t)),
                ("InputPath", _, true) => Ok(Kind::InputFile),
                ("OutputPath", _, true) => Ok(Kind::OutputFile),
                (name @ ("Param" | "Output"), None, _) => Err(format!(
                    "`{name}` needs the value's type: write `{name}<String>`, `{name}<i64>`, \
                     `{name}<f64>`, ..."
                )),
                (name @ ("InputPath" | "OutputPath"), _, false) => Err(format!(
                    "`{name}` takes no type arguments: set the file's KFP type with \
                     `#[kfp(type = \"CSV\")]`"
                )),
                _ => Err(unsupported()),
            }
        }
        _ => Err(unsupported()),
    }
}

fn generate(
    func: &ItemFn,
    opts: &Options,
    attrs: &[Attribute],
    ports: &[Port],
    image: TokenStream,
) -> TokenStream {
    let vis: &Visibility = &func.vis;
    let fn_ident = &func.sig.ident;
    let base = ident_text(fn_ident);
    let span = fn_ident.span();
    let name = opts
        .str("name")
        .map_or_else(|| lit(&base.replace('_', "-"), span), |l| quote!(#l));
    let description = opts
        .str("description")
        .map(|l| l.value())
        .or_else(|| doc_text(&func.attrs))
        .map(|d| quote!(.description(#d)));

    // The user's body, as an inner function taking the placeholders.
    let body_ident = Ident::new("body", Span::mixed_site());
    let container = Ident::new("container", Span::mixed_site());
    let mut body_sig = func.sig.clone();
    body_sig.ident = body_ident.clone();
    let body_block = &func.block;
    let placeholders = ports.iter().map(|p| {
        let n = &p.name;
        match &p.kind {
            Kind::Value(t) => quote_spanned!(t.span()=> ::kfp::dsl::Param::<#t>::placeholder(#n)),
            Kind::InputFile => quote!(::kfp::dsl::InputPath(::std::string::String::from(#n))),
            Kind::OutputFile => quote!(::kfp::dsl::OutputPath(::std::string::String::from(#n))),
            Kind::OutputValue(t) => quote_spanned!(t.span()=> ::kfp::dsl::Output::<#t>::new(#n)),
        }
    });
    let specs = ports.iter().map(|p| {
        let n = &p.name;
        let file_type = p
            .type_name
            .as_ref()
            .map_or_else(|| quote!(::kfp::dsl::ARTIFACT_TYPE), |t| quote!(#t));
        // Trailing calls go on the spec inside the `.input(..)`/`.output(..)` call.
        let mut inner = TokenStream::new();
        if let (Some(d), Kind::Value(t)) = (&p.default, &p.kind) {
            inner.extend(quote_spanned!(d.span()=> .default(::kfp::dsl::default_text::<#t>(#d))));
        }
        if p.optional {
            inner.extend(quote!(.optional()));
        }
        if let Some(d) = &p.description {
            inner.extend(quote!(.description(#d)));
        }
        match &p.kind {
            Kind::Value(t) => quote!(.input(::kfp::component::InputSpec::of::<#t>(#n) #inner)),
            Kind::InputFile => {
                quote!(.input(::kfp::component::InputSpec::artifact(#n, #file_type) #inner))
            }
            Kind::OutputFile => {
                quote!(.output(::kfp::component::OutputSpec::artifact(#n, #file_type) #inner))
            }
            Kind::OutputValue(t) => {
                quote!(.output(::kfp::component::OutputSpec::of::<#t>(#n) #inner))
            }
        }
    });

    let outputs = outputs_ident();
    let items = TaskItems {
        func,
        attrs,
        inputs: ports
            .iter()
            .filter(|p| p.kind.is_input())
            .map(|p| TaskInput {
                ident: p.ident.clone(),
                ty_span: p.ty_span,
                name: p.name.clone(),
                value_ty: p.value_type(),
                required: p.is_required_input(),
                default_text: p.default.as_ref().map(type_text),
            })
            .collect(),
        outputs: OutputsShape::Struct(
            ports
                .iter()
                .filter(|p| !p.kind.is_input())
                .map(|p| {
                    let (ty, n) = (p.value_type(), &p.name);
                    TaskOutput {
                        ident: p.ident.clone(),
                        ty: quote!(::kfp::dsl::Param<#ty>),
                        doc: p
                            .description
                            .as_ref()
                            .map_or_else(|| format!("The output `{n}`."), LitStr::value),
                        make: quote!(#outputs.param::<#ty>(#n)),
                    }
                })
                .collect(),
        ),
        kind_doc: String::new(),
    };
    let component_fn = items.component_fn();
    let component_doc = format!(
        "The `{base}` component (inputs, outputs and command line), as [`{fn_ident}`] uses it; \
         for the builder API, or to export as `component.yaml`."
    );
    let task_items = items.generate();
    quote! {
        #task_items

        #[doc = #component_doc]
        #(#attrs)*
        #[allow(dead_code)]
        #vis fn #component_fn() -> ::kfp::component::Component {
            #[allow(clippy::too_many_arguments)]
            #body_sig #body_block
            let #container = #body_ident(#(#placeholders),*);
            ::kfp::component::Component::container(#name, #image)
                #description
                #(#specs)*
                .with_container(#container)
        }
    }
}
