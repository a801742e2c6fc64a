// Type-level assertions for the consumer files: an `any` passes every assignment, so where a
// type must have been inferred, the files also check that it is not `any`.

/** `true` only when T is `any`. */
export type IsAny<T> = 0 extends 1 & T ? true : false;

/** Compiles only for a value whose type is not `any`. */
export function notAny<T>(_value: T & (IsAny<T> extends true ? never : unknown)): void {}

/** Compiles only when A and B are the same type. */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export function same<A, B>(_proof: Equal<A, B>): void {}
