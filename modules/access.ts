/**
 * Least-privilege grants as data.
 *
 * A grant is what one function needs to use one resource: the IAM statements, scoped to that resource's ARNs,
 * and the environment variables that tell the code where the resource is. `MirrorFunction` takes a list of
 * grants, so the permission and the variable are always given together (STYLE: a grant helper sets both).
 */

export interface PolicyCondition {
  readonly test: string;
  readonly variable: string;
  readonly values: readonly string[];
}

/** One IAM statement. Actions are always named in full: no `*` in an Allow. */
export interface PolicyStatement {
  readonly sid?: string;
  readonly effect?: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: readonly PolicyCondition[];
}

export interface Grant {
  readonly statements: readonly PolicyStatement[];
  readonly environment?: Readonly<Record<string, string>>;
}

/** An environment variable alone (configuration, not a resource). */
export function setting(name: string, value: string | number): Grant {
  return { statements: [], environment: { [name]: String(value) } };
}
