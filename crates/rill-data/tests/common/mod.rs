//! Helpers shared by the test files: samples from values, and a small seeded generator for the
//! random data (independent of the crate's own).

#![allow(dead_code)]

use rill_data::{HostArray, Sample};

pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

pub fn sample(pairs: &[(&str, HostArray)]) -> Sample {
    pairs
        .iter()
        .map(|(k, a)| (k.to_string(), a.clone()))
        .collect()
}

pub fn i32s(v: &[i32], shape: &[usize]) -> HostArray {
    HostArray::from_slice(v, shape).unwrap()
}

pub fn scalar(i: i32) -> HostArray {
    i32s(&[i], &[])
}

/// The i32 values at `key`.
pub fn vals(s: &Sample, key: &str) -> Vec<i32> {
    s[key].to_vec::<i32>().unwrap()
}

/// `{"x": i}` for i in 0..n.
pub fn counting(n: i32) -> Vec<Sample> {
    (0..n).map(|i| sample(&[("x", scalar(i))])).collect()
}

pub fn xs(samples: &[Sample]) -> Vec<i32> {
    samples.iter().map(|s| vals(s, "x")[0]).collect()
}
