/**
 * The shape an engine module must have for the k6 module type `M` (from `@types/k6`), so a module that
 * drifts from k6's API (an export renamed, missing or added, a function taking other arguments) fails
 * to compile. Functions must accept k6's arguments; what they return is left to the engine, which is
 * async-first (a request returns an awaitable Response, not the Response). Constructors must be
 * constructors. Abstract classes are left out: @types/k6 declares them for their instance types
 * (Selection, Metric, Hasher, ...), k6 does not export them. `Missing` names the other exports the
 * embedded engine does not offer (each documented where the module is built).
 */
export type K6Module<M, Missing extends keyof M = never> = {
  [K in Exclude<RuntimeExports<M>, Missing | 'default'>]: K6Export<M[K]>;
} & { readonly default?: unknown };

/** The keys of `M` that are values at runtime: all but abstract classes. */
type RuntimeExports<M> = {
  [K in keyof M]: M[K] extends abstract new (...args: never) => unknown ? (M[K] extends new (...args: never) => unknown ? K : never) : K;
}[keyof M];

type K6Export<T> = T extends abstract new (...args: never) => unknown
  ? abstract new (...args: never) => unknown
  : T extends (...args: infer A) => unknown
    ? (...args: A) => unknown
    : T extends number
      ? number // an enum member is matched by value, not by enum type
      : T extends object
        ? { readonly [P in keyof T]: K6Export<T[P]> }
        : T;
