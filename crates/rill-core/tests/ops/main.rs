//! Every op against references computed here, one test binary for all of them: each file of
//! `tests/` is its own binary, and one binary per op family made CI link (and store) a copy of
//! rill-core per family. Tests that change process-wide state (memory limits, default streams,
//! capture) stay in binaries of their own, so they cannot disturb these.

#[macro_use]
mod layouts;
mod common;
mod reduce_support;

mod astype;
mod attention;
mod binary;
mod compare;
mod conv_einsum;
mod creation_and_views;
mod depends_graph;
mod dtype_promotion;
mod indexing;
mod matmul;
mod movement;
mod random;
mod reduce;
mod scalars;
mod scan;
mod shape_overflow;
mod softmax;
mod sort;
mod spectral_factor;
mod unary;
