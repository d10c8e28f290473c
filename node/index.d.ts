// Types of the `rill` package (node/index.js).

export type Dtype =
  | 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64'
  | 'float16' | 'bfloat16' | 'float32' | 'float64' | 'complex64';
export type DeviceType = 'cpu' | 'gpu';
/** Where an op runs: a Stream, or a device (its default stream). */
export type StreamOrDevice = Stream | Device | DeviceType;
type Nested<T> = T | Nested<T>[];
export type ArrayLike =
  | Array | number | boolean | Nested<number | boolean>
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array
  | Uint8ClampedArray | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;
type TypedArray =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array
  | Uint32Array | BigInt64Array | BigUint64Array;

export declare class Device {
  private constructor();
  readonly type: DeviceType;
  readonly index: number;
  equals(other: Device): boolean;
  /** `Device(cpu, 0)`. */
  describe(): string;
  /** 'cpu' or 'gpu'. */
  toString(): string;
}

export declare class Stream {
  private constructor();
  readonly device: Device;
  readonly index: number;
  equals(other: Stream): boolean;
  /** `Stream(Device(cpu, 0), 1)`. */
  toString(): string;
}

/** A complex64 element, as `item()` and `tolist()` give it. */
export interface Complex { re: number; im: number }

export declare class Array {
  private constructor();
  readonly shape: number[];
  readonly dtype: Dtype;
  readonly ndim: number;
  readonly size: number;
  readonly itemsize: number;
  readonly nbytes: number;
  readonly stream: Stream;
  readonly isAvailable: boolean;
  readonly hostDtype: Dtype;
  /** With `{ bigint: true }`, int64/uint64 elements come as BigInts (exact past 2**53). */
  item(options?: { bigint?: boolean }): number | boolean | bigint | Complex;
  tolist(options?: { bigint?: boolean }): Nested<number | boolean | bigint | Complex>;
  toTypedArray(): TypedArray;
  toFloat64Array(): Float64Array;
  toBytes(): Buffer;
  /** complex64 only: `[re0, im0, re1, im1, ...]`. */
  toComplexParts(): Float64Array;
  /**
   * Releases this object's hold on its data now, not when V8 collects it. The object keeps its
   * shape and dtype; any later use of it (reading, eval, an op on it) throws a `[dispose]` error.
   */
  dispose(): void;
  readonly isDisposed: boolean;
  toString(): string;
  astype(dtype: Dtype, stream?: StreamOrDevice): Array;
  reshape(shape: number[], stream?: StreamOrDevice): Array;
  transpose(axes?: number[], stream?: StreamOrDevice): Array;
  sum(axis?: number | number[], keepdims?: boolean, stream?: StreamOrDevice): Array;
  mean(axis?: number | number[], keepdims?: boolean, stream?: StreamOrDevice): Array;
}

export declare function array(data: ArrayLike, shape?: number[], dtype?: Dtype, stream?: StreamOrDevice): Array;
export declare function array(data: ArrayLike, dtype: Dtype, stream?: StreamOrDevice): Array;
export declare function full(shape: number | number[], value: number, dtype?: Dtype, stream?: StreamOrDevice): Array;
export declare function zeros(shape: number | number[], dtype?: Dtype, stream?: StreamOrDevice): Array;
export declare function ones(shape: number | number[], dtype?: Dtype, stream?: StreamOrDevice): Array;
export declare function arange(stop: number, dtype?: Dtype, stream?: StreamOrDevice): Array;
export declare function arange(start: number, stop: number, step?: number, dtype?: Dtype, stream?: StreamOrDevice): Array;

type Unary = (a: ArrayLike, stream?: StreamOrDevice) => Array;
type Binary = (a: ArrayLike, b: ArrayLike, stream?: StreamOrDevice) => Array;
type Reduction = (a: ArrayLike, axis?: number | number[], keepdims?: boolean, stream?: StreamOrDevice) => Array;
export declare const negative: Unary, abs: Unary, exp: Unary, log: Unary, sqrt: Unary, sin: Unary,
  cos: Unary, tanh: Unary, sigmoid: Unary, square: Unary, reciprocal: Unary;
export declare const add: Binary, subtract: Binary, multiply: Binary, divide: Binary, power: Binary,
  maximum: Binary, minimum: Binary, equal: Binary, less: Binary, greater: Binary, matmul: Binary;
/** `a == 0` (for booleans: `!a`), as a bool array: MLX's `logical_not`. */
export declare const logicalNot: Unary;
export declare const sum: Reduction, mean: Reduction, max: Reduction, min: Reduction, prod: Reduction;
export declare function reshape(a: ArrayLike, shape: number | number[], stream?: StreamOrDevice): Array;
export declare function transpose(a: ArrayLike, axes?: number[], stream?: StreamOrDevice): Array;
export declare function astype(a: ArrayLike, dtype: Dtype, stream?: StreamOrDevice): Array;

/** `eval` (a reserved name in strict code: import it as `eval as evaluate`, or use `evaluate`). */
export declare function evaluate(...trees: unknown[]): void;
export { evaluate as eval };
export declare function asyncEval(...trees: unknown[]): Promise<void>;
/** MLX's `depends`: `inputs`' values, computed only after every array of `dependencies`. */
export declare function depends(inputs: Array, dependencies: Array | Array[]): Array;
export declare function depends(inputs: Array[], dependencies: Array | Array[]): Array[];

export declare function device(type: DeviceType, index?: number): Device;
export declare function defaultDevice(): Device;
export declare function setDefaultDevice(d: Device | DeviceType): void;
export declare function isAvailable(type: DeviceType, index?: number): boolean;
export declare function deviceCount(type: DeviceType): number;
export declare function defaultStream(d?: Device | DeviceType): Stream;
export declare function newStream(d?: Device | DeviceType): Stream;
export declare function setDefaultStream(s: Stream): void;
export declare function synchronize(s?: StreamOrDevice): void;
/** Bytes held by live arrays, summed over every device. */
export declare function getActiveMemory(): number;
/** The most bytes held at once since the start or the last `resetPeakMemory()`. */
export declare function getPeakMemory(): number;
export declare function resetPeakMemory(): void;
/** Bytes of freed buffers kept for reuse. */
export declare function getCacheMemory(): number;
/** Returns every cached buffer to the system. */
export declare function clearCache(): void;
/** The hard limit on bytes held by arrays. */
export declare function getMemoryLimit(): number;
/** Sets the hard limit on bytes held by arrays; returns the previous limit. */
export declare function setMemoryLimit(bytes: number): number;
/** Sets how many bytes of freed buffers are kept for reuse; returns the previous value. */
export declare function setCacheLimit(bytes: number): number;
/** Writes `a` to `path` in NumPy's .npy format (`.npy` is added to a path without it). */
export declare function save(path: string | URL, a: Array): void;
/** Writes named arrays (or a list, saved as arr_0, arr_1, ...) as an .npz archive (`.npz` added). */
export declare function savez(path: string | URL, arrays: Record<string, Array> | Array[]): void;
/** As `savez`, with every member deflated. */
export declare function savezCompressed(path: string | URL, arrays: Record<string, Array> | Array[]): void;
/** Writes named arrays and optional string metadata as a .safetensors file (`.safetensors` added). */
export declare function saveSafetensors(
  path: string | URL, arrays: Record<string, Array>, metadata?: Record<string, string>,
): void;
/** A GGUF metadata value: a string, a list of strings, or an Array (0-d or 1-D). */
export type GgufValue = string | string[] | Array;
/** Writes named arrays and optional metadata as a .gguf file (`.gguf` added). */
export declare function saveGguf(
  path: string | URL, arrays: Record<string, Array>, metadata?: Record<string, GgufValue>,
): void;
/**
 * Loads a .npy, .npz, .safetensors or .gguf file (format by name, else by extension): an Array
 * for .npy, named Arrays otherwise, `[arrays, metadata]` with `returnMetadata` (safetensors and
 * GGUF).
 */
export declare function load(path: string | URL, format?: 'npy', returnMetadata?: false, s?: StreamOrDevice): Array;
export declare function load(
  path: string | URL, format: 'npz' | 'safetensors' | 'gguf', returnMetadata?: false, s?: StreamOrDevice,
): Record<string, Array>;
export declare function load(
  path: string | URL, format: 'safetensors' | undefined, returnMetadata: true, s?: StreamOrDevice,
): [Record<string, Array>, Record<string, string>];
export declare function load(
  path: string | URL, format: 'gguf', returnMetadata: true, s?: StreamOrDevice,
): [Record<string, Array>, Record<string, GgufValue>];
export declare function load(
  path: string | URL, format?: string, returnMetadata?: boolean, s?: StreamOrDevice,
): Array | Record<string, Array> | [Record<string, Array>, Record<string, string | GgufValue>];
export interface StreamContext {
  readonly stream: Stream;
  exit(): void;
  [Symbol.dispose](): void;
}
export declare function streamContext(s: StreamOrDevice): StreamContext;
export declare function withStream<T>(s: StreamOrDevice, fn: () => T): T;

export declare const streaming: {
  eventStreamResponse(
    source: AsyncIterable<unknown> | Iterable<unknown>,
    init?: { status?: number; headers?: HeadersInit },
  ): Response;
};

/** `[fn(...args), gradients]`: the gradient of fn's one-element result with respect to the
 * arguments `argnums` (one Array for a number, an array of them for an array of numbers). */
export declare function valueAndGrad(fn: (...args: Array[]) => Array | Array[], argnums?: number | number[]): (...args: Array[]) => [Array | Array[], Array | Array[]];
/** The gradient of fn (see valueAndGrad). */
export declare function grad(fn: (...args: Array[]) => Array | Array[], argnums?: number | number[]): (...args: Array[]) => Array | Array[];
/** fn mapped over an axis of its arguments (inAxes; null: shared) as one batched computation. */
export declare function vmap(fn: (...args: Array[]) => Array | Array[], inAxes?: number | null | (number | null)[], outAxes?: number | null | (number | null)[]): (...args: Array[]) => Array | Array[];
/** fn traced once per signature (shapes, dtypes, default stream) and replayed afterwards. */
export declare function compile(fn: (...args: Array[]) => Array | Array[]): (...args: Array[]) => Array | Array[];

export declare const core: {
  Array: typeof Array; Stream: typeof Stream; Device: typeof Device;
  array: typeof array; full: typeof full; zeros: typeof zeros; ones: typeof ones; arange: typeof arange;
  negative: Unary; abs: Unary; exp: Unary; log: Unary; sqrt: Unary; sin: Unary; cos: Unary;
  tanh: Unary; sigmoid: Unary; square: Unary; reciprocal: Unary;
  add: Binary; subtract: Binary; multiply: Binary; divide: Binary; power: Binary; maximum: Binary;
  minimum: Binary; equal: Binary; less: Binary; greater: Binary; matmul: Binary; logicalNot: Unary;
  sum: Reduction; mean: Reduction; max: Reduction; min: Reduction; prod: Reduction;
  reshape: typeof reshape; transpose: typeof transpose; astype: typeof astype;
  eval: typeof evaluate; asyncEval: typeof asyncEval; depends: typeof depends;
  device: typeof device; defaultDevice: typeof defaultDevice; setDefaultDevice: typeof setDefaultDevice;
  isAvailable: typeof isAvailable; deviceCount: typeof deviceCount;
  defaultStream: typeof defaultStream; newStream: typeof newStream;
  setDefaultStream: typeof setDefaultStream; synchronize: typeof synchronize;
  streamContext: typeof streamContext; withStream: typeof withStream;
  getActiveMemory: typeof getActiveMemory; getPeakMemory: typeof getPeakMemory;
  resetPeakMemory: typeof resetPeakMemory; getCacheMemory: typeof getCacheMemory;
  clearCache: typeof clearCache; getMemoryLimit: typeof getMemoryLimit;
  setMemoryLimit: typeof setMemoryLimit; setCacheLimit: typeof setCacheLimit;
  save: typeof save; savez: typeof savez; savezCompressed: typeof savezCompressed;
  saveSafetensors: typeof saveSafetensors; saveGguf: typeof saveGguf; load: typeof load;
  grad: typeof grad; valueAndGrad: typeof valueAndGrad; vmap: typeof vmap; compile: typeof compile;
};
