//! `a[index]` and `a[index] = value`, as NumPy indexes.
//!
//! Basic indexing (ints, slices with any step, `None`, `...`) is a view: one `slice` and one
//! `reshape`, no copy. Integer arrays (rill or NumPy arrays, lists of ints) index as NumPy's
//! "advanced" indices: the arrays (and the ints beside them) broadcast together, and their shape
//! replaces the dims they index, in place when they are adjacent in the index and first
//! otherwise. It is done by a basic view with whole slices where the arrays are, then a `take`
//! (several arrays are first combined into one linear index over their dims, merged). An index
//! out of range in an array raises IndexError at once, naming it and its axis, as NumPy does
//! (the index array is evaluated for the check).
//!
//! Assignment writes a new array into the same Python object (as MLX does): basic indices
//! through `slice_update`; integer arrays (with ints, whole slices or `...` elsewhere) through
//! one linear index into the dims they index, merged, and `put_along_axis` (where indices repeat,
//! the last write wins); beside slices that are not whole, inside the view those slices take,
//! put back with `slice_update`. A boolean mask, alone in the index, assigns as NumPy's and MLX's
//! `a[mask] = v` do (`set_masked`); reading through one is refused, as MLX refuses it (the
//! result's shape would depend on the mask's values).

use crate::array::PyArray;
use crate::convert::{py_scalar, to_array, weak_scalar};
use crate::errors::OrRaise;
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PyList, PyNone, PySlice, PyTuple};
use rill_core::ops::{self, SliceDim};
use rill_core::shape::as_isize;
use rill_core::{Array, Dtype, StreamOrDevice};

enum Item {
    Int(isize),
    Slice(Option<isize>, Option<isize>, isize),
    NewAxis,
    Ellipsis,
    /// An integer array of indices.
    Array(Array),
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// An array used as an index: it must hold integers.
fn index_array(a: Array) -> PyResult<Item> {
    if a.dtype().is_integer() {
        return Ok(Item::Array(a));
    }
    Err(PyValueError::new_err(format!(
        "Cannot index a rill array with an array of {} (shape {:?}): indices must be integers{}",
        a.dtype(),
        a.shape(),
        if a.dtype().is_bool() {
            " (a boolean mask can only be assigned through, alone in the index: `a[mask] = v`; \
             reading `a[mask]` is not supported, as in MLX)"
        } else {
            ""
        }
    )))
}

fn parse(obj: &Bound<'_, PyAny>) -> PyResult<Item> {
    if obj.is_instance_of::<PyNone>() {
        return Ok(Item::NewAxis);
    }
    if obj.is_instance_of::<PyEllipsis>() {
        return Ok(Item::Ellipsis);
    }
    if let Ok(s) = obj.cast::<PySlice>() {
        let start: Option<isize> = s.getattr("start")?.extract()?;
        let stop: Option<isize> = s.getattr("stop")?.extract()?;
        let step: Option<isize> = s.getattr("step")?.extract()?;
        return Ok(Item::Slice(start, stop, step.unwrap_or(1)));
    }
    if obj.is_instance_of::<PyBool>() {
        return Err(PyValueError::new_err(
            "Cannot index a rill array with a bool.",
        ));
    }
    if let Ok(a) = obj.cast::<PyArray>() {
        let a = a.get().get();
        // A 0-d integer array selects like the integer it holds.
        if a.ndim() == 0 && a.dtype().is_integer() {
            let i = crate::convert::item(obj.py(), &a)?;
            return Ok(Item::Int(i.bind(obj.py()).extract()?));
        }
        return index_array(a);
    }
    if obj.is_instance_of::<PyList>() {
        return index_array(to_array(obj, None)?);
    }
    // Integers, and objects that act as one (NumPy integer scalars).
    if let Ok(i) = obj.extract::<isize>() {
        return Ok(Item::Int(i));
    }
    if obj.hasattr("__array__")? {
        return index_array(to_array(obj, None)?);
    }
    Err(PyValueError::new_err(format!(
        "Cannot index a rill array with an object of type {}.",
        type_name(obj)
    )))
}

fn parse_index(index: &Bound<'_, PyAny>) -> PyResult<Vec<Item>> {
    match index.cast::<PyTuple>() {
        Ok(t) => t.iter().map(|x| parse(&x)).collect(),
        Err(_) => Ok(vec![parse(index)?]),
    }
}

/// The basic part of an index: what to slice from each dim of the array, the shape of the result,
/// and for each item the dim of `a` it consumes and the dim of the result it becomes.
struct Plan {
    dims: Vec<SliceDim>,
    out_shape: Vec<isize>,
    /// Per item: (dim of `a`, dim of the result) where it has them.
    places: Vec<(Option<usize>, Option<usize>)>,
}

/// Plans `items` on `shape`, with every array item taken as a whole slice.
fn plan(shape: &[usize], items: &[Item]) -> PyResult<Plan> {
    let ndim = shape.len();
    let consumed = items
        .iter()
        .filter(|i| matches!(i, Item::Int(_) | Item::Slice(..) | Item::Array(_)))
        .count();
    let ellipses = items.iter().filter(|i| matches!(i, Item::Ellipsis)).count();
    if ellipses > 1 {
        return Err(PyValueError::new_err(
            "An index can only have a single ellipsis (...).",
        ));
    }
    if consumed > ndim {
        return Err(PyValueError::new_err(format!(
            "Too many indices for array with {ndim} dimensions (shape {shape:?})."
        )));
    }
    let whole = |d: usize| SliceDim::whole(shape[d]);
    let mut p = Plan {
        dims: Vec::with_capacity(ndim),
        out_shape: Vec::with_capacity(ndim + items.len()),
        places: Vec::with_capacity(items.len()),
    };
    let mut d = 0usize;
    for item in items {
        match *item {
            Item::Int(i) => {
                let n = shape[d];
                let j = if i < 0 { i + n as isize } else { i };
                if j < 0 || j >= n as isize {
                    return Err(PyIndexError::new_err(format!(
                        "index {i} is out of bounds for axis {d} with size {n}"
                    )));
                }
                p.dims.push(SliceDim {
                    start: j as usize,
                    step: 1,
                    len: 1,
                });
                p.places.push((Some(d), None));
                d += 1;
            }
            Item::Slice(start, stop, step) => {
                let sd = SliceDim::normalize("slice", start, stop, step, shape[d]).or_raise()?;
                p.places.push((Some(d), Some(p.out_shape.len())));
                p.out_shape.push(sd.len as isize);
                p.dims.push(sd);
                d += 1;
            }
            Item::Array(_) => {
                p.places.push((Some(d), Some(p.out_shape.len())));
                p.out_shape.push(shape[d] as isize);
                p.dims.push(whole(d));
                d += 1;
            }
            Item::NewAxis => {
                p.places.push((None, Some(p.out_shape.len())));
                p.out_shape.push(1);
            }
            Item::Ellipsis => {
                p.places.push((None, None));
                for _ in 0..ndim - consumed {
                    p.dims.push(whole(d));
                    p.out_shape.push(shape[d] as isize);
                    d += 1;
                }
            }
        }
    }
    while d < ndim {
        p.dims.push(whole(d));
        p.out_shape.push(shape[d] as isize);
        d += 1;
    }
    Ok(p)
}

/// Whether NumPy keeps the advanced indices' dims in place: the arrays and ints of the index
/// form one run, with nothing else between them.
fn advanced_adjacent(items: &[Item]) -> bool {
    let advanced: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| matches!(i, Item::Int(_) | Item::Array(_)))
        .map(|(k, _)| k)
        .collect();
    advanced.windows(2).all(|w| w[1] == w[0] + 1)
}

/// Every integer array of the index checked against the dim of `a` it indexes, before anything
/// is built: NumPy's `IndexError` at once, naming the index the user wrote and its axis.
/// Otherwise a bad index would surface only when the result is evaluated, with the combined
/// index's value and axis, and an assignment would leave `a` holding that error instead of its
/// contents. The cost: a lazy index array is evaluated here (without the GIL).
fn check_array_indices(py: Python<'_>, a: &Array, items: &[Item], p: &Plan) -> PyResult<()> {
    for (item, place) in items.iter().zip(&p.places) {
        if let (Item::Array(x), Some(dim)) = (item, place.0) {
            let size = a.shape()[dim];
            py.detach(|| ops::check_index_values(x, dim, size))
                .or_raise()?;
        }
    }
    Ok(())
}

/// `a[index]`.
pub fn getitem(a: &Array, index: &Bound<'_, PyAny>) -> PyResult<Array> {
    let items = parse_index(index)?;
    let p = plan(a.shape(), &items)?;
    check_array_indices(index.py(), a, &items, &p)?;
    let view = ops::slice_dims(a, &p.dims, ()).or_raise()?;
    let view = ops::reshape(&view, &p.out_shape, ()).or_raise()?;
    // The arrays and the dims of `view` they index.
    let arrays: Vec<(&Array, usize)> = items
        .iter()
        .zip(&p.places)
        .filter_map(|(item, place)| match item {
            Item::Array(x) => Some((x, place.1.expect("an array index has a result dim"))),
            _ => None,
        })
        .collect();
    if arrays.is_empty() {
        return Ok(view);
    }
    let s = StreamOrDevice::Default;
    let first = arrays[0].1;
    let (source, index) = match arrays.as_slice() {
        [(idx, _)] => (view, Array::clone(idx)),
        _ => combine(&view, &arrays, s)?,
    };
    let r = ops::take(&source, &index, Some(first as isize), s).or_raise()?;
    if advanced_adjacent(&items) || first == 0 {
        return Ok(r);
    }
    // NumPy puts the dims of separated advanced indices first.
    let k = index.ndim();
    let perm: Vec<isize> = (first..first + k)
        .chain(0..first)
        .chain(first + k..r.ndim())
        .map(|d| d as isize)
        .collect();
    ops::transpose(&r, Some(&perm), s).or_raise()
}

/// `x` with `dims` (sorted) moved together, at the first one's place, and merged into one dim.
struct Merged {
    array: Array,
    /// The other dims, before and after the merged one.
    before: Vec<usize>,
    after: Vec<usize>,
    /// The sizes of the merged dims.
    sizes: Vec<usize>,
    /// The transpose that moved them.
    perm: Vec<isize>,
}

fn merge_dims(x: &Array, dims: &[usize], s: StreamOrDevice) -> PyResult<Merged> {
    let first = dims[0];
    let rest: Vec<usize> = (0..x.ndim()).filter(|d| !dims.contains(d)).collect();
    let before: Vec<usize> = rest.iter().copied().filter(|&d| d < first).collect();
    let after: Vec<usize> = rest.iter().copied().filter(|&d| d > first).collect();
    let perm: Vec<isize> = before
        .iter()
        .chain(dims)
        .chain(&after)
        .map(|&d| d as isize)
        .collect();
    let moved = ops::transpose(x, Some(&perm), s).or_raise()?;
    let sizes: Vec<usize> = dims.iter().map(|&d| x.shape()[d]).collect();
    let mut merged: Vec<isize> = before.iter().map(|&d| x.shape()[d] as isize).collect();
    merged.push(sizes.iter().product::<usize>() as isize);
    merged.extend(after.iter().map(|&d| x.shape()[d] as isize));
    Ok(Merged {
        array: ops::reshape(&moved, &merged, s).or_raise()?,
        before,
        after,
        sizes,
        perm,
    })
}

/// The index arrays (any integer dtype), broadcast together, as one linear (row-major) index
/// into dims of `sizes` merged. Negatives count from the end of their dim; an index out of range
/// in any array makes the linear index out of range too (`prod(sizes)`), so the gather or
/// scatter fails rather than touching another element.
fn linear_index(arrays: &[Array], sizes: &[usize], s: StreamOrDevice) -> PyResult<Array> {
    let int64 = |v: i64| ops::full(&[], v, Some(Dtype::Int64), s).or_raise();
    let idx: Vec<Array> = arrays
        .iter()
        .map(|x| ops::astype(x, Dtype::Int64, s).or_raise())
        .collect::<PyResult<_>>()?;
    let idx = ops::broadcast_arrays(&idx, s).or_raise()?;
    let total: usize = sizes.iter().product();
    let zero = int64(0)?;
    let mut linear = zero.clone();
    let mut invalid: Option<Array> = None;
    let mut stride = total as i64;
    for (x, &n) in idx.iter().zip(sizes) {
        let n_arr = int64(n as i64)?;
        let negative = ops::less(x, &zero, s).or_raise()?;
        let x = ops::where_(&negative, &ops::add(x, &n_arr, s).or_raise()?, x, s).or_raise()?;
        let out_of_range = ops::logical_or(
            &ops::less(&x, &zero, s).or_raise()?,
            &ops::greater_equal(&x, &n_arr, s).or_raise()?,
            s,
        )
        .or_raise()?;
        invalid = Some(match invalid {
            None => out_of_range,
            Some(b) => ops::logical_or(&b, &out_of_range, s).or_raise()?,
        });
        stride /= n.max(1) as i64;
        let term = ops::multiply(&x, &int64(stride)?, s).or_raise()?;
        linear = ops::add(&linear, &term, s).or_raise()?;
    }
    let invalid = invalid.expect("at least one index array");
    let linear = ops::broadcast_to(&linear, invalid.shape(), s).or_raise()?;
    ops::where_(&invalid, &int64(total as i64)?, &linear, s).or_raise()
}

/// Several index arrays as one: the dims they index merged (see [`merge_dims`]) and one linear
/// index into the merged dim (see [`linear_index`]).
fn combine(
    view: &Array,
    arrays: &[(&Array, usize)],
    s: StreamOrDevice,
) -> PyResult<(Array, Array)> {
    let dims: Vec<usize> = arrays.iter().map(|&(_, d)| d).collect();
    let m = merge_dims(view, &dims, s)?;
    let idx: Vec<Array> = arrays.iter().map(|&(x, _)| x.clone()).collect();
    let linear = linear_index(&idx, &m.sizes, s)?;
    Ok((m.array, linear))
}

/// `value` as an array for an assignment into `a`: a Python scalar takes `a`'s dtype.
fn value_array(a: &Array, value: &Bound<'_, PyAny>) -> PyResult<Array> {
    match py_scalar(value)? {
        Some(v) => weak_scalar(a, v, StreamOrDevice::Default),
        None => to_array(value, None),
    }
}

/// `v` broadcast to `shape` for an assignment, leading size-1 dims beyond `shape`'s dropped
/// (NumPy allows `a[0] = ones((1, 3))` for a row of 3).
fn fit_value(v: &Array, shape: &[usize]) -> PyResult<Array> {
    let mut v = v.clone();
    while v.ndim() > shape.len() && v.shape()[0] == 1 {
        let rest: Vec<isize> = v.shape()[1..].iter().map(|&d| d as isize).collect();
        v = ops::reshape(&v, &rest, ()).or_raise()?;
    }
    match rill_core::shape::broadcast_shapes("setitem", v.shape(), shape) {
        Ok(b) if b == shape => ops::broadcast_to(&v, shape, ()).or_raise(),
        _ => Err(PyValueError::new_err(format!(
            "[setitem] cannot assign a value of shape {:?} to an index of shape {shape:?}",
            v.shape()
        ))),
    }
}

/// `index` as a boolean mask when it is one (a bool array, NumPy array or list, alone or the
/// only item of a tuple).
fn bool_mask(index: &Bound<'_, PyAny>) -> PyResult<Option<Array>> {
    let one = match index.cast::<PyTuple>() {
        Ok(t) if t.len() == 1 => t.get_item(0)?,
        Ok(_) => return Ok(None),
        Err(_) => index.clone(),
    };
    if let Ok(a) = one.cast::<PyArray>() {
        let a = a.get().get();
        return Ok(a.dtype().is_bool().then_some(a));
    }
    if one.is_instance_of::<PyList>()
        || (!one.is_instance_of::<PyBool>() && one.hasattr("__array__")?)
    {
        let a = to_array(&one, None)?;
        return Ok(a.dtype().is_bool().then_some(a));
    }
    Ok(None)
}

/// `a[mask] = v` as NumPy assigns it: `mask` covers `a`'s leading dims, and `v` broadcasts either
/// to one selected element (`a.shape[mask.ndim:]`, lazily: a `where`) or to all of them in order
/// (a leading dim as long as the mask's count of trues, which is evaluated to check it).
fn set_masked(py: Python<'_>, a: &Array, mask: &Array, v: &Array) -> PyResult<Array> {
    let s = StreamOrDevice::Default;
    let k = mask.ndim();
    if k > a.ndim() || mask.shape() != &a.shape()[..k] {
        return Err(PyIndexError::new_err(format!(
            "[setitem] a boolean mask of shape {:?} does not match the dims it indexes of an array of shape {:?}",
            mask.shape(),
            a.shape()
        )));
    }
    let rest = &a.shape()[k..];
    let v = ops::astype(v, a.dtype(), s).or_raise()?;
    let mask_dims = as_isize(mask.shape());
    let mut expanded = mask_dims.clone();
    expanded.extend(std::iter::repeat_n(1, rest.len()));
    let where_mask = ops::reshape(mask, &expanded, s).or_raise()?;
    let mut lead = v.clone();
    while lead.ndim() > rest.len() + 1 && lead.shape()[0] == 1 {
        lead = ops::reshape(&lead, &as_isize(&lead.shape()[1..]), s).or_raise()?;
    }
    if lead.ndim() <= rest.len() || lead.shape()[0] == 1 {
        // One value for every selected element.
        let one = fit_value(&v, rest)?;
        return ops::where_(&where_mask, &one, a, s).or_raise();
    }
    // One row of `v` per true element, in order.
    let trues = ops::sum(
        &ops::astype(mask, Dtype::Int64, s).or_raise()?,
        None,
        false,
        s,
    )
    .or_raise()?;
    let count: i64 = crate::convert::item(py, &trues)?.bind(py).extract()?;
    let m = lead.shape()[0];
    if count != m as i64 || lead.ndim() != rest.len() + 1 {
        return Err(PyValueError::new_err(format!(
            "[setitem] cannot assign a value of shape {:?} through a boolean mask with {count} true elements of an array of shape {:?}",
            v.shape(),
            a.shape()
        )));
    }
    if m == 0 {
        return Ok(a.clone());
    }
    let rows = fit_value(&lead, &[&[m], rest].concat())?;
    // Each element's row: the count of trues before it (exclusive running sum), kept in range
    // where the mask is false.
    let flat = ops::reshape(mask, &[-1], s).or_raise()?;
    let before = ops::cumsum(&flat, Some(0), false, false, s).or_raise()?;
    let last = ops::full(&[], m as i64 - 1, Some(Dtype::Int64), s).or_raise()?;
    let before =
        ops::minimum(&ops::astype(&before, Dtype::Int64, s).or_raise()?, &last, s).or_raise()?;
    let before = ops::reshape(&before, &mask_dims, s).or_raise()?;
    let picked = ops::take(&rows, &before, Some(0), s).or_raise()?;
    ops::where_(&where_mask, &picked, a, s).or_raise()
}

/// The array `a[index] = value` makes.
pub fn setitem(a: &Array, index: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<Array> {
    if let Some(mask) = bool_mask(index)? {
        let v = value_array(a, value)?;
        return set_masked(index.py(), a, &mask, &v);
    }
    let items = parse_index(index)?;
    let v = value_array(a, value)?;
    let p = plan(a.shape(), &items)?;
    check_array_indices(index.py(), a, &items, &p)?;
    let arrays = items.iter().filter(|i| matches!(i, Item::Array(_))).count();
    match arrays {
        0 => {
            let out_shape: Vec<usize> = p.out_shape.iter().map(|&d| d as usize).collect();
            let v = fit_value(&v, &out_shape)?;
            let slice_shape: Vec<isize> = p.dims.iter().map(|d| d.len as isize).collect();
            let v = ops::reshape(&v, &slice_shape, ()).or_raise()?;
            update_dims(a, &v, &p.dims)
        }
        _ if items
            .iter()
            .any(|i| matches!(i, Item::Slice(..)) && !matches!(i, Item::Slice(None, None, 1))) =>
        {
            set_advanced_in_slices(a, &items, &p, &v)
        }
        _ => set_advanced(a, &items, &p, &v),
    }
}

/// `a` with the elements `dims` select (one per dim of `a`) replaced by `v`, of their shape.
fn update_dims(a: &Array, v: &Array, dims: &[SliceDim]) -> PyResult<Array> {
    let (mut start, mut stop, mut step) = (vec![], vec![], vec![]);
    for (sd, &n) in dims.iter().zip(a.shape()) {
        let end = sd.start as isize + sd.step * sd.len as isize;
        start.push(sd.start as isize);
        // A stop before the first element, written so that Python's rules read it so.
        stop.push(if end < 0 { -(n as isize) - 1 } else { end });
        step.push(sd.step);
    }
    ops::slice_update(a, v, &start, &stop, &step, ()).or_raise()
}

/// `a[index] = v` with integer arrays beside slices that are not whole (`a[2:, idx] = v`): the
/// slices taken first (a view of `a` whose dims they become whole), the assignment made there,
/// and the view's new values put back where the slices were.
fn set_advanced_in_slices(a: &Array, items: &[Item], p: &Plan, v: &Array) -> PyResult<Array> {
    let mut dims: Vec<SliceDim> = SliceDim::whole_of(a.shape());
    let mut inner = Vec::with_capacity(items.len());
    for (item, place) in items.iter().zip(&p.places) {
        inner.push(match item {
            Item::Slice(..) => {
                let d = place.0.expect("a slice consumes a dim");
                dims[d] = p.dims[d];
                Item::Slice(None, None, 1)
            }
            Item::Int(i) => Item::Int(*i),
            Item::Array(x) => Item::Array(x.clone()),
            Item::NewAxis => Item::NewAxis,
            Item::Ellipsis => Item::Ellipsis,
        });
    }
    let view = ops::slice_dims(a, &dims, ()).or_raise()?;
    let inner_plan = plan(view.shape(), &inner)?;
    let updated = set_advanced(&view, &inner, &inner_plan, v)?;
    update_dims(a, &updated, &dims)
}

/// `a[index] = v` with integer arrays in the index (and ints, whole slices or `...` elsewhere):
/// the indexed dims merged, one linear index into them, and a `put_along_axis` there.
fn set_advanced(a: &Array, items: &[Item], p: &Plan, v: &Array) -> PyResult<Array> {
    let s = StreamOrDevice::Default;
    let mut idx = Vec::new();
    let mut dims = Vec::new();
    for (item, place) in items.iter().zip(&p.places) {
        match item {
            Item::Int(i) => {
                idx.push(ops::full(&[], *i as i64, Some(Dtype::Int64), s).or_raise()?);
                dims.push(place.0.expect("an int consumes a dim"));
            }
            Item::Array(x) => {
                idx.push(x.clone());
                dims.push(place.0.expect("an array index consumes a dim"));
            }
            Item::Ellipsis | Item::Slice(None, None, 1) => {}
            _ => {
                return Err(PyValueError::new_err(
                    "[setitem] with integer arrays in the index, the other indices must be ints, slices or `...` (not `None`)",
                ))
            }
        }
    }
    let m = merge_dims(a, &dims, s)?;
    let linear = linear_index(&idx, &m.sizes, s)?;
    let shape_of = |ds: &[usize]| -> Vec<usize> { ds.iter().map(|&d| a.shape()[d]).collect() };
    let (before, after) = (shape_of(&m.before), shape_of(&m.after));
    let b = linear.shape().to_vec();
    // The value fits what `a[index]` reads, in NumPy's order of dims...
    let read: Vec<usize> = if advanced_adjacent(items) {
        [&before[..], &b[..], &after[..]].concat()
    } else {
        [&b[..], &before[..], &after[..]].concat()
    };
    let mut v = fit_value(v, &read)?;
    if !advanced_adjacent(items) {
        // ... and is put in the merged array's order: `before + b + after`.
        let (nb, nf) = (b.len(), before.len());
        let perm: Vec<isize> = (nb..nb + nf)
            .chain(0..nb)
            .chain(nb + nf..read.len())
            .map(|d| d as isize)
            .collect();
        v = ops::transpose(&v, Some(&perm), s).or_raise()?;
    }
    let k: usize = b.iter().product();
    let as_isize = |v: Vec<usize>| -> Vec<isize> { v.into_iter().map(|d| d as isize).collect() };
    let v = ops::reshape(&v, &as_isize([&before[..], &[k], &after[..]].concat()), s).or_raise()?;
    let mut ishape = vec![1isize; before.len() + 1 + after.len()];
    ishape[before.len()] = k as isize;
    let indices = ops::reshape(&linear, &ishape, s).or_raise()?;
    let out =
        ops::put_along_axis(&m.array, &indices, &v, Some(before.len() as isize), s).or_raise()?;
    let unmerged = ops::reshape(
        &out,
        &as_isize([&before[..], &m.sizes[..], &after[..]].concat()),
        s,
    )
    .or_raise()?;
    let mut inverse = vec![0isize; m.perm.len()];
    for (j, &d) in m.perm.iter().enumerate() {
        inverse[d as usize] = j as isize;
    }
    ops::transpose(&unmerged, Some(&inverse), s).or_raise()
}
