//! `#[component]`: a function whose parameters are a component's inputs and outputs and
//! whose body returns the container to run.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, FnArg, GenericArgument, Ident, ItemFn, LitStr, Pat, PathArguments, ReturnType,
    Type, Visibility,
};

use crate::options::{Options, Shape};
use crate::util::{Errors, doc_text, ident_text, lit, passthrough_attrs, type_text, upper_camel};

const ARGS: &[(&str, Shape)] = &[
    ("image", Shape::Expr),
    ("name", Shape::Str),
    ("description", Shape::Str),
];
const PARAM_OPTIONS: &[(&str, Shape)] = &[
    ("name", Shape::Str),
    ("description", Shape::Str),
    ("default", Shape::Expr),
    ("optional", Shape::Flag),
    ("type", Shape::Str),
];

/// Methods of the generated `<Name>Task` (its own and `Configure`'s): an optional input
/// with one of these names would shadow it.
const TASK_METHODS: &[&str] = &[
    "after",
    "name",
    "display_name",
    "map",
    "into_typed",
    "into_task",
    "config_mut",
    "env",
    "env_from_secret",
    "env_from_config_map",
    "cpu_request",
    "cpu_limit",
    "memory_request",
    "memory_limit",
    "gpu_limit",
    "gpu_limit_of",
    "node_selector",
    "toleration",
    "affinity",
    "volume",
    "image_pull_policy",
    "retries",
    "retry",
    "timeout",
    "caching",
    "pod_label",
    "pod_annotation",
    "sidecar",
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
    let mut func: ItemFn = syn::parse2(item)?;
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
    check_signature(&func, "#[component]", &mut errors);
    if let ReturnType::Default = func.sig.output {
        errors.at(
            &func.sig.ident,
            "a #[component] fn returns the program to run: add `-> Container` and return \
             `Container::new([...])`",
        );
    }
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

fn ports(func: &mut ItemFn, errors: &mut Errors) -> Vec<Port> {
    let mut ports: Vec<Port> = Vec::new();
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
        if let Some(port) = port(ident, arg.ty.span(), kind, &opts, errors) {
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

fn reject_other_attrs(attrs: &[Attribute], errors: &mut Errors) {
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
    if (optional || default.is_some()) && TASK_METHODS.contains(&ident_text(&ident).as_str()) {
        let method = ident_text(&ident);
        errors.at(
            &ident,
            format!(
                "an optional input is set with a method of the same name, and `{method}` is \
                 already a method of the task (e.g. `Configure::{method}`): rename the \
                 parameter (e.g. `{method}_value`) and keep the input's name with \
                 `#[kfp(name = \"{name}\")]`"
            ),
        );
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
    let camel = upper_camel(&base);
    let span = fn_ident.span();
    let outputs_ty = format_ident!("{}Outputs", camel, span = span);
    let task_ty = format_ident!("{}Task", camel, span = span);
    let component_fn = format_ident!("{}_component", base, span = span);
    let name = opts
        .str("name")
        .map_or_else(|| lit(&base.replace('_', "-"), span), |l| quote!(#l));
    let description = opts
        .str("description")
        .map(|l| l.value())
        .or_else(|| doc_text(&func.attrs))
        .map(|d| quote!(.description(#d)));
    let docs: Vec<&Attribute> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();

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
        let mut spec = match &p.kind {
            Kind::Value(t) => quote!(.input(::kfp::component::InputSpec::of::<#t>(#n))),
            Kind::InputFile => {
                quote!(.input(::kfp::component::InputSpec::artifact(#n, #file_type)))
            }
            Kind::OutputFile => {
                quote!(.output(::kfp::component::OutputSpec::artifact(#n, #file_type)))
            }
            Kind::OutputValue(t) => quote!(.output(::kfp::component::OutputSpec::of::<#t>(#n))),
        };
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
        if !inner.is_empty() {
            spec = match &p.kind {
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
            };
        }
        spec
    });

    // The task function: required inputs positional, the rest set on the task.
    let required: Vec<&Port> = ports.iter().filter(|p| p.is_required_input()).collect();
    let params = required.iter().map(|p| {
        let (ident, ty) = (&p.ident, p.value_type());
        quote_spanned!(p.ty_span=> #ident: impl ::kfp::dsl::IntoParam<#ty>)
    });
    let spec_var = Ident::new("spec", Span::mixed_site());
    let shared = Ident::new("component", Span::mixed_site());
    let args = required.iter().map(|p| {
        let (ident, ty, n) = (&p.ident, p.value_type(), &p.name);
        quote_spanned!(ident.span()=> .arg(#n, ::kfp::dsl::IntoParam::<#ty>::into_param(#ident)))
    });
    let setters = ports
        .iter()
        .filter(|p| p.kind.is_input() && !p.is_required_input())
        .map(|p| {
            let (ident, ty, n) = (&p.ident, p.value_type(), &p.name);
            let doc = match &p.default {
                Some(d) => format!("Sets the input `{n}` (default: `{}`).", type_text(d)),
                None => format!(
                    "Sets the optional input `{n}` (left out of the command line if never set)."
                ),
            };
            let value = Ident::new("value", Span::mixed_site());
            let bound = quote_spanned!(p.ty_span=> impl ::kfp::dsl::IntoParam<#ty>);
            quote! {
                #[doc = #doc]
                pub fn #ident(self, #value: #bound) -> Self {
                    self.map(|s| s.arg(#n, ::kfp::dsl::IntoParam::<#ty>::into_param(#value)))
                }
            }
        });
    let outputs = Ident::new("outputs", Span::mixed_site());
    let fields = ports.iter().filter(|p| !p.kind.is_input()).map(|p| {
        let (ident, ty) = (&p.ident, p.value_type());
        let doc = match &p.description {
            Some(d) => d.value(),
            None => format!("The output `{}`.", p.name),
        };
        quote!(#[doc = #doc] pub #ident: ::kfp::dsl::Param<#ty>)
    });
    let field_values = ports.iter().filter(|p| !p.kind.is_input()).map(|p| {
        let (ident, ty, n) = (&p.ident, p.value_type(), &p.name);
        quote!(#ident: #outputs.param::<#ty>(#n))
    });

    let task_doc = format!(
        "A `{base}` task of [`{component_fn}`]: required inputs are the arguments, optional \
         ones are set on the returned [`{task_ty}`], outputs are in [`{outputs_ty}`]."
    );
    let component_doc = format!(
        "The `{base}` component (inputs, outputs and command line), as [`{fn_ident}`] uses it; \
         for the builder API, or to export as `component.yaml`."
    );
    let outputs_doc = format!("The outputs of a `{base}` task: values to pass to other tasks.");
    let wrapper_doc = format!(
        "A `{base}` task before it is added to a pipeline: set optional inputs and settings, \
         then `p.task(..)`."
    );
    let must_use = "a task does nothing until it is added to a pipeline with `p.task(..)`";

    quote! {
        #(#docs)*
        #[doc = ""]
        #[doc = #task_doc]
        #(#attrs)*
        #[allow(clippy::too_many_arguments)]
        #vis fn #fn_ident(#(#params),*) -> #task_ty {
            // Built once: every task of this component shares it.
            static __KFP_COMPONENT: ::std::sync::OnceLock<::std::sync::Arc<::kfp::component::Component>> =
                ::std::sync::OnceLock::new();
            let #shared = __KFP_COMPONENT.get_or_init(|| ::std::sync::Arc::new(#component_fn()));
            let #spec_var = ::kfp::dsl::TaskSpec::from(::std::sync::Arc::clone(#shared)) #(#args)*;
            #task_ty {
                task: ::kfp::dsl::TypedTaskSpec::new(#spec_var, |#outputs| #outputs_ty {
                    #(#field_values,)*
                }),
            }
        }

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

        #[doc = #outputs_doc]
        #(#attrs)*
        #[allow(dead_code)]
        #[derive(Debug, Clone)]
        #vis struct #outputs_ty {
            #(#fields,)*
        }

        #[doc = #wrapper_doc]
        #(#attrs)*
        #[must_use = #must_use]
        #[derive(Debug)]
        #vis struct #task_ty {
            task: ::kfp::dsl::TypedTaskSpec<#outputs_ty>,
        }

        #(#attrs)*
        #[allow(dead_code)]
        impl #task_ty {
            #(#setters)*

            /// Run only after `task` has finished (beyond the order data passing implies).
            pub fn after<P>(self, task: &::kfp::dsl::Task<P>) -> Self {
                Self { task: self.task.after(task) }
            }
            /// The task's name in the workflow.
            pub fn name(self, name: impl ::std::convert::Into<::std::string::String>) -> Self {
                Self { task: self.task.name(name) }
            }
            /// A human-friendly name for UIs.
            pub fn display_name(self, name: impl ::std::convert::Into<::std::string::String>) -> Self {
                Self { task: self.task.display_name(name) }
            }
            /// Adjust the untyped spec (any builder call of `TaskSpec`).
            pub fn map(self, f: impl ::std::ops::FnOnce(::kfp::dsl::TaskSpec) -> ::kfp::dsl::TaskSpec) -> Self {
                Self { task: self.task.map(f) }
            }
            /// The typed builder form of this task.
            pub fn into_typed(self) -> ::kfp::dsl::TypedTaskSpec<#outputs_ty> {
                self.task
            }
        }

        #(#attrs)*
        impl ::kfp::dsl::IntoTask for #task_ty {
            type Outputs = #outputs_ty;
            fn into_task(self) -> (::kfp::dsl::TaskSpec, fn(&::kfp::dsl::OutputSource) -> #outputs_ty) {
                ::kfp::dsl::IntoTask::into_task(self.task)
            }
        }

        #(#attrs)*
        impl ::kfp::component::Configure for #task_ty {
            fn config_mut(&mut self) -> &mut ::kfp::component::TaskConfig {
                ::kfp::component::Configure::config_mut(&mut self.task)
            }
        }

        #(#attrs)*
        impl ::std::convert::From<#task_ty> for ::kfp::dsl::TypedTaskSpec<#outputs_ty> {
            fn from(task: #task_ty) -> Self {
                task.task
            }
        }
    }
}
