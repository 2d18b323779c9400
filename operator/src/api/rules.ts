// A cross-field rule is written once with two faces: a CEL expression the API server enforces
// (x-kubernetes-validations) and a TypeScript predicate the CLI and the operator enforce, so that
// `mtopo validate` offline, the operator without webhooks and `kubectl apply` all refuse the same input.
// The integration tests feed the same specs to both and check they agree.
import type { z } from 'zod';

export interface CrossFieldRule<T> {
  /** CEL, evaluated by the API server with `self` bound to the object the rule is attached to. */
  readonly cel: string;
  /** Where the error points, relative to that object: ["service", "type"]. */
  readonly path: readonly string[];
  /** What is wrong and what is allowed, for a person. */
  readonly message: string;
  readonly holds: (value: T) => boolean;
}

export function withRules<S extends z.ZodType>(schema: S, rules: readonly CrossFieldRule<z.output<S>>[]): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      if (!rule.holds(value)) ctx.addIssue({ code: 'custom', path: [...rule.path], message: rule.message });
    }
  });
  const existing = schema.meta() ?? {};
  const inherited = (existing['x-kubernetes-validations'] as unknown[] | undefined) ?? [];
  return refined.meta({
    ...existing,
    'x-kubernetes-validations': [
      ...inherited,
      ...rules.map((rule) => ({
        rule: rule.cel,
        message: rule.message,
        ...(rule.path.length > 0 ? { fieldPath: rule.path.map((p) => `.${p}`).join('') } : {}),
      })),
    ],
  });
}
