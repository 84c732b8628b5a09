use std::marker::PhantomData;
use std::ops::{Range, RangeInclusive};

use super::{Param, Value};
use crate::component::KfpType;

/// What a loop iterates over: a list fixed at build time, or a JSON list known only when
/// the pipeline runs (a parameter or a task's output).
#[derive(Debug, Clone, PartialEq)]
pub enum LoopSource {
    Static(Vec<serde_json::Value>),
    Dynamic(Value),
}

/// The items of a `parallel_for`, with an optional limit on iterations running at once.
#[derive(Debug)]
pub struct Items<T> {
    pub(crate) source: LoopSource,
    pub(crate) parallelism: Option<u32>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Items<T> {
    fn new(source: LoopSource) -> Self {
        Self {
            source,
            parallelism: None,
            _type: PhantomData,
        }
    }
    /// Run at most `n` iterations at the same time.
    pub fn parallelism(mut self, n: u32) -> Self {
        self.parallelism = Some(n);
        self
    }
}

impl Items<serde_json::Value> {
    /// Untyped static items (scalars or maps).
    pub fn json(items: Vec<serde_json::Value>) -> Self {
        Self::new(LoopSource::Static(items))
    }
    /// Untyped items from a JSON list known at run time.
    pub fn dynamic(list: impl Into<Value>) -> Self {
        Self::new(LoopSource::Dynamic(list.into()))
    }
}

/// An element of a static loop list, and the type its items have inside the loop.
pub trait LoopElement {
    type Kfp;
    fn to_json(self) -> serde_json::Value;
}

macro_rules! loop_element {
    ($($ty:ty => $kfp:ty),*) => {$(
        impl LoopElement for $ty {
            type Kfp = $kfp;
            fn to_json(self) -> serde_json::Value {
                serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
            }
        }
    )*};
}
loop_element!(
    &str => String, String => String, i64 => i64, i32 => i64, u32 => i64, f64 => f64,
    bool => bool, serde_json::Value => serde_json::Value
);

fn to_json<E: LoopElement>(items: impl IntoIterator<Item = E>) -> LoopSource {
    LoopSource::Static(items.into_iter().map(LoopElement::to_json).collect())
}

impl<E: LoopElement> From<Vec<E>> for Items<E::Kfp> {
    fn from(items: Vec<E>) -> Self {
        Self::new(to_json(items))
    }
}
impl<E: LoopElement, const N: usize> From<[E; N]> for Items<E::Kfp> {
    fn from(items: [E; N]) -> Self {
        Self::new(to_json(items))
    }
}
impl From<RangeInclusive<i64>> for Items<i64> {
    fn from(r: RangeInclusive<i64>) -> Self {
        Self::new(to_json(r))
    }
}
impl From<Range<i64>> for Items<i64> {
    fn from(r: Range<i64>) -> Self {
        Self::new(to_json(r))
    }
}
impl<T> From<Param<Vec<T>>> for Items<T> {
    fn from(list: Param<Vec<T>>) -> Self {
        Self::new(LoopSource::Dynamic(list.value))
    }
}
impl<T> From<&Param<Vec<T>>> for Items<T> {
    fn from(list: &Param<Vec<T>>) -> Self {
        Self::new(LoopSource::Dynamic(list.value.clone()))
    }
}

/// The current item inside a loop body.
#[derive(Debug)]
pub struct Item<T> {
    pub(crate) value: Value,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Item<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> Item<T> {
    pub(crate) fn new(value: Value) -> Self {
        Self {
            value,
            _type: PhantomData,
        }
    }
    /// One field of a map item (`{{item.<name>}}`), typed as the caller expects.
    pub fn field<U: KfpType>(&self, name: &str) -> Param<U> {
        Param::from_value(self.value.field(name).with_type(Some(U::type_spec())))
    }
    /// One field of a map item, untyped.
    pub fn field_value(&self, name: &str) -> Value {
        self.value.field(name)
    }
}

impl<T: KfpType> Item<T> {
    /// The item itself as a typed value.
    pub fn param(&self) -> Param<T> {
        Param::from_value(self.value.clone().with_type(Some(T::type_spec())))
    }
}

impl<T: KfpType> From<Item<T>> for Param<T> {
    fn from(item: Item<T>) -> Self {
        item.param()
    }
}
impl<T: KfpType> From<&Item<T>> for Param<T> {
    fn from(item: &Item<T>) -> Self {
        item.param()
    }
}
impl<T> From<Item<T>> for Value {
    fn from(item: Item<T>) -> Self {
        item.value
    }
}
impl<T> From<&Item<T>> for Value {
    fn from(item: &Item<T>) -> Self {
        item.value.clone()
    }
}
