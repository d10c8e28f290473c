//! Dtype names, as MLX spells them: 'float32', 'int32', 'bool', 'bfloat16', ...

use crate::errors::type_error;
use rill_core::Dtype;

/// The dtype named `name`, or a `TypeError` listing the names there are.
pub fn parse(op: &str, name: &str) -> napi::Result<Dtype> {
    Dtype::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Dtype::ALL.iter().map(|d| d.name()).collect();
        type_error(format!(
            "[{op}] unknown dtype '{name}'; expected one of {}",
            names.join(", ")
        ))
    })
}

/// An optional dtype argument.
pub fn parse_opt(op: &str, name: Option<String>) -> napi::Result<Option<Dtype>> {
    name.map(|n| parse(op, &n)).transpose()
}
