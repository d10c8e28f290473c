//! Element casts in the CPU kernels, as NumPy does them on x86.

use rill_core::half::f16;
use rill_core::internals::cast;
use rill_core::num_complex::Complex32;

#[test]
fn casts_follow_numpy() {
    assert_eq!(cast::<f32, i32>(-2.7), -2);
    assert_eq!(cast::<i32, u8>(300), 44);
    assert!(cast::<f64, bool>(0.5));
    assert!(!cast::<f64, bool>(0.0));
    assert_eq!(cast::<bool, f32>(true), 1.0);
    assert_eq!(cast::<u64, f64>(u64::MAX), u64::MAX as f64);
    assert_eq!(cast::<i64, i8>(-129), 127);
    assert_eq!(cast::<f32, i32>(f32::INFINITY), i32::MIN);
    assert_eq!(cast::<f32, i32>(3e9), i32::MIN);
    assert_eq!(cast::<f32, i32>(f32::NAN), i32::MIN);
    assert_eq!(cast::<f64, u8>(300.0), 44);
    assert_eq!(cast::<f64, u32>(-1.0), u32::MAX);
    assert_eq!(cast::<f64, u32>(3e9), 3_000_000_000);
    assert_eq!(cast::<f64, u32>(f64::NAN), 1 << 31);
    assert_eq!(cast::<f16, u32>(f16::NAN), 0);
    assert_eq!(cast::<f64, u64>(1e19), 10_000_000_000_000_000_000);
    assert_eq!(cast::<f64, u64>(f64::INFINITY), 0);
    assert_eq!(cast::<f32, f16>(1.5), f16::from_f32(1.5));
    assert_eq!(cast::<Complex32, f32>(Complex32::new(2.0, 3.0)), 2.0);
    assert_eq!(cast::<i32, Complex32>(-4), Complex32::new(-4.0, 0.0));
}
