use std::ops::{BitAnd, BitOr, Not};

use super::{Param, Value};

/// A condition on values, evaluated by Argo when the guarded group is reached.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Compare { lhs: Value, op: CmpOp, rhs: Value },
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

impl Cond {
    /// Compare two untyped values.
    pub fn compare(lhs: impl Into<Value>, op: CmpOp, rhs: impl Into<Value>) -> Self {
        Self::Compare {
            lhs: lhs.into(),
            op,
            rhs: rhs.into(),
        }
    }
    /// Both must hold.
    pub fn and(self, other: Cond) -> Self {
        Self::And(Box::new(self), Box::new(other))
    }
    /// Either must hold.
    pub fn or(self, other: Cond) -> Self {
        Self::Or(Box::new(self), Box::new(other))
    }

    pub(crate) fn values(&self) -> Vec<&Value> {
        match self {
            Self::Compare { lhs, rhs, .. } => vec![lhs, rhs],
            Self::And(a, b) | Self::Or(a, b) => {
                let mut v = a.values();
                v.extend(b.values());
                v
            }
            Self::Not(c) => c.values(),
        }
    }
}

impl Not for Cond {
    type Output = Cond;
    fn not(self) -> Cond {
        Cond::Not(Box::new(self))
    }
}
impl BitAnd for Cond {
    type Output = Cond;
    fn bitand(self, rhs: Cond) -> Cond {
        self.and(rhs)
    }
}
impl BitOr for Cond {
    type Output = Cond;
    fn bitor(self, rhs: Cond) -> Cond {
        self.or(rhs)
    }
}

macro_rules! comparisons {
    ($($method:ident => $op:ident),*) => {
        #[allow(clippy::should_implement_trait)]
        impl<T> Param<T> {
            $(
                #[doc = concat!("A condition: this value `", stringify!($method), "` another.")]
                pub fn $method(&self, other: impl Into<Param<T>>) -> Cond {
                    Cond::compare(self.value.clone(), CmpOp::$op, other.into().value)
                }
            )*
        }
    };
}
comparisons!(eq => Eq, ne => Ne, lt => Lt, le => Le, gt => Gt, ge => Ge);
