//! Rust operators on arrays (`&a + &b`, `-&a`, `&a * 2.0`), on the default stream.
//!
//! Operators cannot return `Result`, so a shape or dtype error here panics with the op's message,
//! as `ndarray` does; use the functions (`ops::add`, ...) to handle errors. Bindings never use
//! these operators.

use crate::{ops, Array, Element};
use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Mul, Neg, Not, Rem, Sub};

fn expect(r: crate::Result<Array>) -> Array {
    r.unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! binary_operator {
    ($($tr:ident $m:ident => $f:ident),* $(,)?) => {$(
        impl $tr<&Array> for &Array {
            type Output = Array;
            fn $m(self, rhs: &Array) -> Array { expect(ops::$f(self, rhs, ())) }
        }
        impl $tr<Array> for Array {
            type Output = Array;
            fn $m(self, rhs: Array) -> Array { expect(ops::$f(&self, &rhs, ())) }
        }
        impl<T: Element> $tr<T> for &Array {
            type Output = Array;
            fn $m(self, rhs: T) -> Array {
                let rhs = expect(ops::weak_operand(self, rhs.to_scalar(), ()));
                expect(ops::$f(self, &rhs, ()))
            }
        }
        impl<T: Element> $tr<T> for Array {
            type Output = Array;
            fn $m(self, rhs: T) -> Array { (&self).$m(rhs) }
        }
    )*};
}

binary_operator!(
    Add add => add, Sub sub => subtract, Mul mul => multiply, Div div => divide,
    Rem rem => remainder, BitAnd bitand => bitwise_and, BitOr bitor => bitwise_or,
    BitXor bitxor => bitwise_xor,
);

impl Neg for &Array {
    type Output = Array;
    fn neg(self) -> Array {
        expect(ops::negative(self, ()))
    }
}
impl Neg for Array {
    type Output = Array;
    fn neg(self) -> Array {
        -&self
    }
}
impl Not for &Array {
    type Output = Array;
    fn not(self) -> Array {
        if self.dtype().is_bool() {
            expect(ops::logical_not(self, ()))
        } else {
            expect(ops::bitwise_invert(self, ()))
        }
    }
}
