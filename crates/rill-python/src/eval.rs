//! `eval` and `async_eval`: evaluate the arrays found in any nesting of lists, tuples and dicts.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use rill_core::Array;

/// Collects the arrays of a tree (lists, tuples and dicts, nested); other leaves are skipped.
/// Iterative, and each container is visited once: a tree 10 000 deep does not overflow the stack,
/// and a list that contains itself (`l.append(l)`) ends instead of looping (its arrays are those
/// found the first time through).
pub(crate) fn collect(root: &Bound<'_, PyAny>, out: &mut Vec<Array>) {
    walk_tree(root, out, &mut |_| Ok(()))
        .expect("a leaf that is not an array is skipped, never an error");
}

/// As [`collect`], for a caller that takes only arrays (MLX's `tree_flatten` as `export_to_dot`
/// uses it): a leaf that is not an array is a `ValueError` naming `op`.
pub(crate) fn collect_only_arrays(
    op: &str,
    root: &Bound<'_, PyAny>,
    out: &mut Vec<Array>,
) -> PyResult<()> {
    walk_tree(root, out, &mut |leaf| {
        Err(pyo3::exceptions::PyValueError::new_err(format!(
            "[{op}] the arguments should contain only arrays (and lists, tuples and dicts of \
             them), found {}",
            leaf.get_type().name()?
        )))
    })
}

fn walk_tree(
    root: &Bound<'_, PyAny>,
    out: &mut Vec<Array>,
    other_leaf: &mut dyn FnMut(&Bound<'_, PyAny>) -> PyResult<()>,
) -> PyResult<()> {
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![root.clone()];
    while let Some(obj) = todo.pop() {
        if let Ok(a) = obj.cast::<PyArray>() {
            out.push(a.get().get());
            continue;
        }
        let children: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
            l.iter().collect()
        } else if let Ok(t) = obj.cast::<PyTuple>() {
            t.iter().collect()
        } else if let Ok(d) = obj.cast::<PyDict>() {
            d.values().iter().collect()
        } else {
            other_leaf(&obj)?;
            continue;
        };
        if seen.insert(obj.as_ptr() as usize) {
            // Reversed, so arrays come out in the order a recursive walk would find them.
            todo.extend(children.into_iter().rev());
        }
    }
    Ok(())
}

/// Evaluates every array in the arguments (each a tree of lists, tuples and dicts; other leaves
/// are ignored) and waits for them, with the GIL released. Raises the error of the first array
/// that failed (`MemoryError` past the memory limit, `RuntimeError` for a failure while running).
#[pyfunction]
#[pyo3(signature = (*args))]
pub fn eval(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<()> {
    guard(|| {
        let mut arrays = Vec::new();
        collect(args.as_any(), &mut arrays);
        if arrays.is_empty() {
            return Ok(());
        }
        py.detach(|| {
            let refs: Vec<&Array> = arrays.iter().collect();
            rill_core::eval(&refs)
        })
        .or_raise()
    })
}

/// Starts evaluating every array in the arguments and returns at once. Reading an array later
/// (`item()`, `eval`, NumPy conversion) waits for it; errors surface then.
#[pyfunction]
#[pyo3(signature = (*args))]
pub fn async_eval(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<()> {
    guard(|| {
        let mut arrays = Vec::new();
        collect(args.as_any(), &mut arrays);
        if arrays.is_empty() {
            return Ok(());
        }
        py.detach(|| {
            let refs: Vec<&Array> = arrays.iter().collect();
            // The work goes on without the handle; readers wait on the arrays themselves.
            let _started = rill_core::async_eval(&refs);
        });
        Ok(())
    })
}

/// Which streams run lazy elementwise chains as fused nodes when evaluated (rill's own; MLX fuses
/// only under `compile`): `"all"` (the default), `"cpu"`, `"gpu"` or `"off"`. Returns the previous
/// setting.
#[pyfunction]
pub fn set_auto_fusion(mode: &str) -> PyResult<&'static str> {
    use rill_core::AutoFusion;
    let new = match mode {
        "off" => AutoFusion::Off,
        "cpu" => AutoFusion::Cpu,
        "gpu" => AutoFusion::Gpu,
        "all" => AutoFusion::All,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "[set_auto_fusion] mode must be \"off\", \"cpu\", \"gpu\" or \"all\", not {other:?}"
            )))
        }
    };
    let old = match rill_core::auto_fusion() {
        AutoFusion::Off => "off",
        AutoFusion::Cpu => "cpu",
        AutoFusion::Gpu => "gpu",
        AutoFusion::All => "all",
    };
    rill_core::set_auto_fusion(new);
    Ok(old)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_auto_fusion, m)?)?;
    m.add_function(wrap_pyfunction!(eval, m)?)?;
    m.add_function(wrap_pyfunction!(async_eval, m)?)?;
    Ok(())
}
