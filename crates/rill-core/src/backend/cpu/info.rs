//! What `device_info(cpu)` reports, read from the OS once.

use crate::device::InfoValue;
use std::collections::BTreeMap;

pub fn info() -> BTreeMap<String, InfoValue> {
    let mut m = BTreeMap::new();
    let name = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "cpu".to_string());
    m.insert("device_name".into(), InfoValue::Str(name));
    m.insert(
        "architecture".into(),
        InfoValue::Str(std::env::consts::ARCH.into()),
    );
    m.insert("memory_size".into(), InfoValue::Int(total_memory() as u64));
    m.insert("cores".into(), InfoValue::Int(cores() as u64));
    m
}

pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Physical memory in bytes (from /proc/meminfo; 16 GiB when it cannot be read).
pub fn total_memory() -> usize {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<usize>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(16 << 30)
}
