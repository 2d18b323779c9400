// What an apply error means for the user, in words that say how to fix it.

export function describeApplyError(kind: string, name: string, error: unknown): string {
  const status = (error as { status?: number }).status;
  if (status === 404 && kind === 'Certificate') {
    return `Certificate ${name}: cert-manager is not installed (no certificates.cert-manager.io); install it, or set spec.tls.secretRef to an existing Secret`;
  }
  if (status === 403)
    return `${kind} ${name}: the operator may not write ${kind}s here; grant the RBAC in charts/mtopo`;
  return `${kind} ${name}: ${(error as Error).message}`;
}
